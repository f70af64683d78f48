// Package cors is the Fetch standard's CORS algorithm as Chromium applies it: which requests need a
// preflight, what the preflight carries, how responses are checked, and what DevTools and the
// console call each failure. It is pure: it never opens a connection. A caller supplies the
// responses (see Fetch), which keeps every rule testable without a network.
package cors

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// NullOrigin is the serialization of an opaque origin, and of any request origin after a redirect
// chain crossed origins.
const NullOrigin = "null"

// ParseOrigin checks that s is a serialized origin as a browser sends it in the Origin header
// (scheme "://" host [":" port], lower case, no default port, no path) and returns it in that
// form. It accepts a URL with a path or a default port and normalises it, so that users can paste
// the desktop URL; it rejects what no browser could send.
func ParseOrigin(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("origin is empty")
	}
	if s == NullOrigin {
		return NullOrigin, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("origin %q is not a URL: %w", s, unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("origin %q must start with http:// or https://", s)
	}
	if u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("origin %q has no host", s)
	}
	if u.User != nil {
		return "", fmt.Errorf("origin %q must not contain a user name or password", s)
	}
	o, err := SerializeOrigin(u)
	if err != nil {
		return "", fmt.Errorf("origin %q: %w", s, err)
	}
	return o, nil
}

// SerializeOrigin returns the origin of an http(s) URL as the Origin header carries it.
func SerializeOrigin(u *url.URL) (string, error) {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("scheme %q has no serializable origin here", u.Scheme)
	}
	host, err := canonicalHost(u.Hostname())
	if err != nil {
		return "", err
	}
	port := u.Port()
	if port != "" {
		if !allDigits(port) || len(port) > 5 {
			return "", fmt.Errorf("port %q is not a number", port)
		}
		port = strings.TrimLeft(port, "0")
		if port == "" {
			port = "0"
		}
		if len(port) > 5 || (len(port) == 5 && port > "65535") {
			return "", fmt.Errorf("port %s is out of range", port)
		}
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
}

// canonicalHost lower-cases a host name and turns an IDN into punycode, as URL parsing in the
// browser does; IP addresses are returned in their canonical text form.
func canonicalHost(h string) (string, error) {
	if h == "" {
		return "", errors.New("host is empty")
	}
	if ip := net.ParseIP(h); ip != nil {
		if ip4 := ip.To4(); ip4 != nil && !strings.Contains(h, ":") {
			return ip4.String(), nil
		}
		return ip.String(), nil
	}
	a, err := idna.Lookup.ToASCII(h)
	if err != nil {
		return "", fmt.Errorf("host %q is not a valid name: %v", h, err)
	}
	return strings.ToLower(a), nil
}

// IsSameOrigin reports whether u's origin is exactly origin.
func IsSameOrigin(u *url.URL, origin string) bool {
	o, err := SerializeOrigin(u)
	return err == nil && o == origin
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
