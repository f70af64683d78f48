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
	"strconv"
	"strings"
	"unicode/utf8"

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
		return ipv6String(ip.To16()), nil
	}
	if !utf8.ValidString(h) {
		// idna would turn the bad bytes into U+FFFD and then into punycode no browser sends.
		return "", fmt.Errorf("host %q is not valid UTF-8", h)
	}
	a, err := hostProfile.ToASCII(h)
	if err != nil {
		return "", fmt.Errorf("host %q is not a valid name: %v", h, err)
	}
	a = strings.ToLower(a)
	// A label "xn--" decodes to nothing, and idna then drops it ("xn--.example" becomes
	// ".example"); UTS #46 makes it an error, so no label may vanish.
	in, out := strings.Split(labelDots.Replace(h), "."), strings.Split(a, ".")
	if len(in) != len(out) {
		return "", fmt.Errorf("host %q is not a valid name", h)
	}
	for i := range out {
		if out[i] == "" && in[i] != "" {
			return "", fmt.Errorf("host %q is not a valid name: label %q is empty once decoded", h, in[i])
		}
	}
	if again, err := hostProfile.ToASCII(a); err != nil || again != a {
		// Punycode that x/net/idna writes but cannot read back (labels of hundreds of bytes).
		return "", fmt.Errorf("host %q is not a valid name", h)
	}
	for i := 0; i < len(a); i++ {
		if c := a[i]; !isAlnum(c) && c != '-' && c != '.' && c != '_' {
			return "", fmt.Errorf("host %q is not a valid name: %q is not allowed", h, c)
		}
	}
	return a, nil
}

// labelDots are the characters UTS #46 maps to the label separator.
var labelDots = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".")

// hostProfile is idna.Lookup without the STD3 rules, which refuse '_': browsers accept it in host
// names (intranet names such as finesse_a.corp.example), so refusing it would refuse origins
// Chromium sends. Apart from '_', canonicalHost still accepts only letters, digits, '-' and '.'.
var hostProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(false))

// ipv6String serializes an IPv6 address as the URL standard (and Chromium) does: eight lower-case
// hex pieces, the first longest run of two or more zero pieces written "::", never dotted decimal.
// (net.IP.String prints an IPv4-mapped address such as [::ffff:1.2.3.4] as plain 1.2.3.4.)
func ipv6String(ip net.IP) string {
	var p [8]uint16
	for i := range p {
		p[i] = uint16(ip[2*i])<<8 | uint16(ip[2*i+1])
	}
	start, n := -1, 1
	for i := 0; i < 8; {
		j := i
		for j < 8 && p[j] == 0 {
			j++
		}
		if j-i > n {
			start, n = i, j-i
		}
		i = j + 1
	}
	var b strings.Builder
	for i := 0; i < 8; i++ {
		if i == start {
			b.WriteString("::")
			i += n - 1
			continue
		}
		if i > 0 && i != start+n {
			b.WriteByte(':')
		}
		b.WriteString(strconv.FormatUint(uint64(p[i]), 16))
	}
	return b.String()
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
