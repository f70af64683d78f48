package cors

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Credentials is a request's credentials mode, as fetch() takes it.
type Credentials string

// The credentials modes. SameOrigin is fetch()'s default.
const (
	Omit       Credentials = "omit"
	SameOrigin Credentials = "same-origin"
	Include    Credentials = "include"
)

// ParseCredentials accepts the three modes fetch() accepts.
func ParseCredentials(s string) (Credentials, error) {
	switch c := Credentials(s); c {
	case Omit, SameOrigin, Include:
		return c, nil
	}
	return "", fmt.Errorf("credentials %q must be include, omit or same-origin", s)
}

// Header is one request header as a page sets it, in order.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Request is a cross-origin fetch() as a page makes it.
type Request struct {
	URL         *url.URL
	Origin      string // serialized origin of the page (see ParseOrigin)
	Method      string // normalized (see NormalizeMethod)
	Header      []Header
	Credentials Credentials
	// Browser whose rules decide and whose words report; the zero value is Chromium.
	Browser Browser
}

// Limits of the CORS-safelisted request headers (Fetch standard).
const (
	maxSafelistedValue = 128
	maxSafelistedTotal = 1024
)

// NormalizeMethod does what fetch() does with a method: it must be a token, the six common
// methods are upper-cased whatever their case (and only those: "patch" stays as it is), and
// CONNECT, TRACE and TRACK are refused.
func NormalizeMethod(m string) (string, error) {
	if !isToken(m) {
		return "", fmt.Errorf("method %q is not a valid HTTP method", m)
	}
	u := strings.ToUpper(m)
	switch u {
	case "CONNECT", "TRACE", "TRACK":
		return "", fmt.Errorf("method %s is forbidden: fetch() refuses it", u)
	case "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT":
		return u, nil
	}
	return m, nil
}

// IsSafelistedMethod reports whether m is GET, HEAD or POST (byte for byte).
func IsSafelistedMethod(m string) bool {
	return m == "GET" || m == "HEAD" || m == "POST"
}

// forbiddenNames are the request headers fetch() silently drops (Fetch standard, forbidden
// request-header), lower case. Names starting with proxy- or sec- are forbidden too.
var forbiddenNames = []string{
	"accept-charset", "accept-encoding", "access-control-request-headers",
	"access-control-request-method", "connection", "content-length", "cookie", "cookie2",
	"date", "dnt", "expect", "host", "keep-alive", "origin", "referer", "set-cookie", "te",
	"trailer", "transfer-encoding", "upgrade", "via",
}

// IsForbiddenHeader reports whether Chromium's fetch() drops this header instead of sending it.
func IsForbiddenHeader(name, value string) bool { return Chromium.IsForbiddenHeader(name, value) }

// ForbiddenHeaderNames lists, lower case, the request headers this browser's fetch() drops
// whatever their value. It drops names that start with proxy- or sec- too, and the method
// overrides that name a forbidden method (IsForbiddenHeader).
func (b Browser) ForbiddenHeaderNames() []string {
	if b == Firefox {
		return slices.Clone(forbiddenNames)
	}
	return slices.Concat(forbiddenNames, chromiumForbidden)
}

// IsForbiddenHeader reports whether this browser's fetch() drops this header instead of sending
// it.
func (b Browser) IsForbiddenHeader(name, value string) bool {
	n := strings.ToLower(name)
	if slices.Contains(forbiddenNames, n) || (b != Firefox && slices.Contains(chromiumForbidden, n)) || strings.HasPrefix(n, "proxy-") || strings.HasPrefix(n, "sec-") {
		return true
	}
	switch n {
	case "x-http-method", "x-http-method-override", "x-method-override":
		for _, m := range strings.Split(value, ",") {
			switch strings.ToUpper(strings.Trim(m, " \t")) {
			case "CONNECT", "TRACE", "TRACK":
				return true
			}
		}
	}
	return false
}

// ValidateHeader checks a header as the Headers object does: the name must be a token and the
// value must not contain NUL, CR or LF. It returns the value with surrounding whitespace removed.
func ValidateHeader(name, value string) (string, error) {
	if !isToken(name) {
		return "", fmt.Errorf("header name %q is not a valid HTTP token", name)
	}
	v := strings.Trim(value, " \t\r\n")
	if strings.ContainsAny(v, "\x00\r\n") {
		return "", fmt.Errorf("header %s has a value with a NUL, CR or LF byte", name)
	}
	return v, nil
}

// CombineHeaders merges headers of the same name as Headers.append does (values joined with
// ", ", in first-seen order of names) and drops the ones Chromium forbids, which it returns
// separately.
func CombineHeaders(in []Header) (kept []Header, dropped []Header) {
	return Chromium.CombineHeaders(in)
}

// CombineHeaders is CombineHeaders for this browser's forbidden headers.
func (b Browser) CombineHeaders(in []Header) (kept []Header, dropped []Header) {
	index := map[string]int{}
	for _, h := range in {
		if b.IsForbiddenHeader(h.Name, h.Value) {
			dropped = append(dropped, h)
			continue
		}
		k := strings.ToLower(h.Name)
		if i, ok := index[k]; ok {
			kept[i].Value += ", " + h.Value
			continue
		}
		index[k] = len(kept)
		kept = append(kept, Header{Name: h.Name, Value: h.Value})
	}
	return kept, dropped
}

// isUnsafeByte is the Fetch standard's CORS-unsafe request-header byte.
func isUnsafeByte(b byte) bool {
	return (b < 0x20 && b != '\t') || b == 0x7f || strings.IndexByte(`"():<>?@[\]{}`, b) >= 0
}

func hasUnsafeByte(v string) bool {
	for i := 0; i < len(v); i++ {
		if isUnsafeByte(v[i]) {
			return true
		}
	}
	return false
}

// IsSafelistedHeader reports whether a header may be sent cross-origin without a preflight, as
// Chromium decides it: the Fetch standard's list plus the headers Chromium itself safelists (see
// chromiumSafelisted).
func IsSafelistedHeader(name, value string) bool { return Chromium.IsSafelistedHeader(name, value) }

// IsSafelistedHeader reports whether this browser sends the header cross-origin without a
// preflight. Firefox keeps to the Fetch standard's list.
func (b Browser) IsSafelistedHeader(name, value string) bool {
	if len(value) > maxSafelistedValue {
		return false
	}
	switch n := strings.ToLower(name); n {
	case "accept":
		return !hasUnsafeByte(value)
	case "accept-language", "content-language":
		for i := 0; i < len(value); i++ {
			c := value[i]
			if !(isAlnum(c) || strings.IndexByte(" *,-.;=", c) >= 0) {
				return false
			}
		}
		return true
	case "content-type":
		// Firefox refuses a comma anywhere in the value (observed in ESR 153).
		return safelistedContentType(value) && (b != Firefox || !strings.Contains(value, ","))
	case "range":
		return safelistedRange(value, b.maxRangeNumber())
	default:
		if check, ok := chromiumSafelisted[n]; ok && b != Firefox {
			return check(value)
		}
	}
	return false
}

// safelistedContentType: no unsafe byte, and the MIME type's essence is one of the three that
// HTML forms can send.
func safelistedContentType(v string) bool {
	if hasUnsafeByte(v) {
		return false
	}
	essence, ok := mimeEssence(v)
	if !ok {
		return false
	}
	switch essence {
	case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
		return true
	}
	return false
}

// mimeEssence parses the type/subtype of a MIME type (parameters are not checked further).
func mimeEssence(v string) (string, bool) {
	v = strings.Trim(v, " \t\r\n")
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimRight(v, " \t\r\n")
	typ, sub, ok := strings.Cut(v, "/")
	if !ok || !isToken(typ) || !isToken(sub) {
		return "", false
	}
	return strings.ToLower(typ + "/" + sub), true
}

// safelistedRange accepts a single "bytes=START-" or "bytes=START-END" range. Chromium also
// wants each number below 2^63-1 (observed in 156: 9223372036854775806 passes, ...807 needs a
// preflight).
// max is the largest number the browser accepts in it.
func safelistedRange(v string, max string) bool {
	rest, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return false
	}
	start, end, ok := strings.Cut(rest, "-")
	if !ok || !allDigits(start) || compareDecimal(start, max) > 0 {
		return false
	}
	if end == "" {
		return true
	}
	if !allDigits(end) || compareDecimal(end, max) > 0 {
		return false
	}
	return compareDecimal(start, end) <= 0
}

// maxRangeNumber is the largest number a safelisted Range may carry: 2^63-2 in Chromium, 2^64-1
// in Firefox (observed in ESR 153).
func (b Browser) maxRangeNumber() string {
	if b == Firefox {
		return "18446744073709551615"
	}
	return "9223372036854775806"
}

func compareDecimal(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// UnsafeHeaderNames returns the names that make a request need a preflight: the non-safelisted
// names, and all names when the safelisted values exceed 1024 bytes in total. Lower case, sorted,
// without duplicates: the list Access-Control-Request-Headers carries.
func UnsafeHeaderNames(h []Header) []string { return Chromium.UnsafeHeaderNames(h) }

// UnsafeHeaderNames is UnsafeHeaderNames by this browser's safelist.
func (b Browser) UnsafeHeaderNames(h []Header) []string {
	var unsafe, safe []string
	total := 0
	for _, x := range h {
		n := strings.ToLower(x.Name)
		if b.IsSafelistedHeader(x.Name, x.Value) {
			safe = append(safe, n)
			total += len(x.Value)
			continue
		}
		unsafe = append(unsafe, n)
	}
	if total > maxSafelistedTotal {
		unsafe = append(unsafe, safe...)
	}
	slices.Sort(unsafe)
	return slices.Compact(unsafe)
}

// NeedsPreflight reports whether a cross-origin request with this method and these headers is
// preceded by a preflight.
func NeedsPreflight(method string, h []Header) bool { return Chromium.NeedsPreflight(method, h) }

// NeedsPreflight is NeedsPreflight by this browser's safelist.
func (b Browser) NeedsPreflight(method string, h []Header) bool {
	return !IsSafelistedMethod(method) || len(b.UnsafeHeaderNames(h)) > 0
}

// PreflightHeader is the header Chromium sends on a preflight for req from origin (which is
// "null" after a cross-origin redirect): no cookies, no Authorization.
func PreflightHeader(method string, h []Header, origin string) []Header {
	return Chromium.PreflightHeader(method, h, origin)
}

// PreflightHeader is the preflight's header as this browser sends it.
func (b Browser) PreflightHeader(method string, h []Header, origin string) []Header {
	out := []Header{
		{"Accept", "*/*"},
		{"Access-Control-Request-Method", method},
	}
	if names := b.UnsafeHeaderNames(h); len(names) > 0 {
		out = append(out, Header{"Access-Control-Request-Headers", strings.Join(names, ",")})
	}
	return append(out,
		Header{"Origin", origin},
		Header{"Sec-Fetch-Mode", "cors"},
	)
}

// Validate checks a request before it is evaluated or sent.
func (r Request) Validate() error {
	var errs []error
	if err := ValidateURL(r.URL); err != nil {
		errs = append(errs, fmt.Errorf("URL %v", err))
	}
	if r.Origin != NullOrigin {
		if o, err := ParseOrigin(r.Origin); err != nil {
			errs = append(errs, err)
		} else if o != r.Origin {
			errs = append(errs, fmt.Errorf("origin %q is not serialized (want %q)", r.Origin, o))
		}
	}
	if m, err := NormalizeMethod(r.Method); err != nil {
		errs = append(errs, err)
	} else if m != r.Method {
		errs = append(errs, fmt.Errorf("method %q is not normalized (want %q)", r.Method, m))
	}
	if _, err := ParseCredentials(string(r.Credentials)); err != nil {
		errs = append(errs, err)
	}
	for _, h := range r.Header {
		if _, err := ValidateHeader(h.Name, h.Value); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
