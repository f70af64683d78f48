package cors

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	whatwgerrors "github.com/nlnwa/whatwg-url/errors"
	whatwg "github.com/nlnwa/whatwg-url/url"
)

// Browsers parse URLs by the WHATWG URL standard, which is far more forgiving than net/url: it
// drops tabs and newlines, reads a backslash as a slash, resolves %2e%2e as .., percent-encodes
// spaces, reads 0x7f.0.0.1 and 2130706433 as 127.0.0.1, and takes "http:x" relative to an http
// base. A Location header and an Access-Control-Allow-Origin value are read that way here, so
// that redirects go where Chromium's go and the same values count as invalid.

var urlParser = whatwg.NewParser()

// ParseURL reads an absolute URL as a browser does and returns it in its canonical form (the
// form Chromium prints in the console).
func ParseURL(s string) (*url.URL, error) {
	u, err := urlParser.Parse(s)
	if err != nil {
		return nil, urlError(err)
	}
	return url.Parse(u.Href(false))
}

// ValidateURL says what keeps u from being a URL a page can fetch across origins: it must be
// absolute http or https with a host, have a port (when given) from 1 to 65535, and hold no user
// name or password (fetch() refuses those). It is the one check of every http(s) URL the project
// takes in, after the caller parsed it in its own way: as a browser reads it (ParseURL), or
// strictly, as the service does (targets.ParseURL). Its errors leave the URL out ("has port
// 99999; …"), so that each caller names it in its own words.
func ValidateURL(u *url.URL) error {
	switch {
	case u == nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.Opaque != "":
		return errors.New("must be an absolute http(s) URL with a host")
	case u.User != nil:
		return errors.New("must not hold a user name or password")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("has port %s; ports run from 1 to 65535", p)
		}
	}
	return nil
}

// urlError says in one clause what the URL parser refused.
func urlError(err error) error {
	why := string(whatwgerrors.Type(err))
	if why == "" {
		return err
	}
	return errors.New("not a valid URL: " + strings.ToLower(why[:1]) + why[1:])
}

// resolveLocation resolves a Location value against the URL of the response, as a browser does.
func resolveLocation(base *url.URL, loc string) (*url.URL, error) {
	u, err := urlParser.ParseRef(base.String(), loc)
	if err != nil {
		return nil, err
	}
	return url.Parse(u.Href(false))
}

// isValidURL reports whether s parses as an absolute URL in Chromium, which decides between
// InvalidAllowOriginValue and AllowOriginMismatch by it. Chromium's parser lets an ASCII
// xn-- label through that does not decode as punycode; the standard's does not.
func isValidURL(s string) bool {
	_, err := urlParser.Parse(s)
	if err == nil {
		return true
	}
	return whatwgerrors.Type(err) == whatwgerrors.DomainToASCII && isASCII(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// escapeForConsole writes bytes outside printable ASCII as \uXXXX, each byte on its own (so
// UTF-8 shows as its Latin-1 reading), as Chromium's console line does for header values.
func escapeForConsole(s string) string {
	if isPrintableASCII(s) {
		return s
	}
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
			continue
		}
		b.WriteString(`\u00`)
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
