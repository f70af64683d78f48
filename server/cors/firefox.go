package cors

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// This file holds Firefox's rules, where they differ from Chromium's, and the words Firefox uses:
// its reasons are the keys MDN names its CORS errors by, and its console lines are those of
// Firefox's security.properties (en-US). Every rule here is exercised by the Firefox conformance
// suite in server/probe, which runs the same cases in real Firefox ESR.

// Browser names the browser whose rules decide a verdict and whose words report it.
type Browser string

// The browsers. The zero value means Chromium.
const (
	Chromium Browser = "chromium"
	Firefox  Browser = "firefox"
)

// Browsers lists the browsers a diagnosis can answer for.
var Browsers = []Browser{Chromium, Firefox}

// ParseBrowser accepts a browser name; "" is Chromium.
func ParseBrowser(s string) (Browser, error) {
	switch b := Browser(strings.ToLower(strings.TrimSpace(s))); b {
	case "", Chromium, "chrome", "edge":
		return Chromium, nil
	case Firefox:
		return Firefox, nil
	}
	return "", fmt.Errorf("browser %q must be chromium or firefox", s)
}

// BrowserOfUserAgent tells Firefox (and browsers built on it) from Chromium (Chrome, Edge) by a
// User-Agent header; anything else is judged as Chromium.
func BrowserOfUserAgent(ua string) Browser {
	if strings.Contains(ua, "Firefox/") && !strings.Contains(ua, "Chrome/") {
		return Firefox
	}
	return Chromium
}

// Firefox's reasons, as MDN names them (https://developer.mozilla.org/docs/Web/HTTP/Guides/CORS/Errors).
const (
	CORSDidNotSucceed                   Reason = "CORSDidNotSucceed"
	CORSRequestNotHttp                  Reason = "CORSRequestNotHttp"
	CORSMissingAllowOrigin              Reason = "CORSMissingAllowOrigin"
	CORSMultipleAllowOriginNotAllowed   Reason = "CORSMultipleAllowOriginNotAllowed"
	CORSAllowOriginNotMatchingOrigin    Reason = "CORSAllowOriginNotMatchingOrigin"
	CORSNotSupportingCredentials        Reason = "CORSNotSupportingCredentials"
	CORSMissingAllowCredentials         Reason = "CORSMissingAllowCredentials"
	CORSPreflightDidNotSucceed          Reason = "CORSPreflightDidNotSucceed"
	CORSMethodNotFound                  Reason = "CORSMethodNotFound"
	CORSInvalidAllowMethod              Reason = "CORSInvalidAllowMethod"
	CORSInvalidAllowHeader              Reason = "CORSInvalidAllowHeader"
	CORSMissingAllowHeaderFromPreflight Reason = "CORSMissingAllowHeaderFromPreflight"
	CORSExternalRedirectNotAllowed      Reason = "CORSExternalRedirectNotAllowed"
)

// FirefoxReasons lists Firefox's reasons that block a request (CORSDidNotSucceed is a network
// error, not a CORS verdict).
var FirefoxReasons = []Reason{
	CORSRequestNotHttp, CORSMissingAllowOrigin, CORSMultipleAllowOriginNotAllowed,
	CORSAllowOriginNotMatchingOrigin, CORSNotSupportingCredentials, CORSMissingAllowCredentials,
	CORSPreflightDidNotSucceed, CORSMethodNotFound, CORSInvalidAllowMethod, CORSInvalidAllowHeader,
	CORSMissingAllowHeaderFromPreflight, CORSExternalRedirectNotAllowed,
}

// IsFirefox reports whether r is one of Firefox's reasons.
func (r Reason) IsFirefox() bool { return strings.HasPrefix(string(r), "CORS") }

// firefoxLike is Chromium's name for the failure a Firefox reason names, outside a preflight;
// explanations and fixes are written once, for Chromium's names.
var firefoxLike = map[Reason]Reason{
	CORSRequestNotHttp:                  CorsDisabledScheme,
	CORSMissingAllowOrigin:              MissingAllowOriginHeader,
	CORSMultipleAllowOriginNotAllowed:   MultipleAllowOriginValues,
	CORSAllowOriginNotMatchingOrigin:    AllowOriginMismatch,
	CORSNotSupportingCredentials:        WildcardOriginNotAllowed,
	CORSMissingAllowCredentials:         InvalidAllowCredentials,
	CORSPreflightDidNotSucceed:          PreflightInvalidStatus,
	CORSMethodNotFound:                  MethodDisallowedByPreflightResponse,
	CORSInvalidAllowMethod:              InvalidAllowMethodsPreflightResponse,
	CORSInvalidAllowHeader:              InvalidAllowHeadersPreflightResponse,
	CORSMissingAllowHeaderFromPreflight: HeaderDisallowedByPreflightResponse,
	CORSExternalRedirectNotAllowed:      PreflightDisallowedRedirect,
}

// ChromiumName is Chromium's name for a failure: the reason itself for Chromium's reasons, the
// nearest Chromium reason for Firefox's (its Preflight… twin when the failure was on a preflight).
func (f Failure) ChromiumName() Reason {
	if !f.Reason.IsFirefox() {
		return f.Reason
	}
	like := firefoxLike[f.Reason]
	if f.OnPreflight {
		like = like.preflight()
	}
	return like
}

// firefoxCheckAccess is Firefox's CORS check of one response (nsCORSListenerProxy): several
// Access-Control-Allow-Origin lines fail before anything else, a single line must equal the
// origin whatever it holds (a comma-separated list is a mismatch, not "multiple values"), and
// the credentials check comes last.
func firefoxCheckAccess(resp *Response, origin string, cred Credentials) *Failure {
	lines := resp.Header.Values("Access-Control-Allow-Origin")
	if len(lines) > 1 {
		return &Failure{Reason: CORSMultipleAllowOriginNotAllowed, Status: resp.Status}
	}
	if len(lines) == 0 {
		return &Failure{Reason: CORSMissingAllowOrigin, Status: resp.Status}
	}
	acao := strings.Trim(lines[0], " \t")
	if cred == Include && acao == "*" {
		return &Failure{Reason: CORSNotSupportingCredentials, Status: resp.Status}
	}
	if (cred == Include || acao != "*") && acao != origin {
		return &Failure{Reason: CORSAllowOriginNotMatchingOrigin, FailedParameter: acao, Status: resp.Status}
	}
	if cred == Include {
		if acac, _ := resp.Get("Access-Control-Allow-Credentials"); acac != "true" {
			return &Failure{Reason: CORSMissingAllowCredentials, Status: resp.Status}
		}
	}
	return nil
}

// firefoxCheckPreflight is Firefox's check of a preflight response (nsCORSPreflightListener): the
// CORS check, then the status, then the methods (each element's syntax while looking for the
// method), then the headers likewise. Empty list elements are skipped.
func firefoxCheckPreflight(resp *Response, origin, method string, h []Header, cred Credentials) (*Failure, []Warning) {
	fail := func(r Reason, param string) *Failure {
		return &Failure{Reason: r, FailedParameter: param, Status: resp.Status, OnPreflight: true}
	}
	if f := firefoxCheckAccess(resp, origin, cred); f != nil {
		f.OnPreflight = true
		return f, nil
	}
	if isRedirect(resp) {
		return fail(CORSExternalRedirectNotAllowed, ""), nil
	}
	if resp.Status < 200 || resp.Status > 299 {
		return fail(CORSPreflightDidNotSucceed, ""), nil
	}
	credentialed := cred == Include
	acam, _ := resp.Get("Access-Control-Allow-Methods")
	found := IsSafelistedMethod(method)
	for _, m := range splitList(acam) {
		if !isToken(m) {
			return fail(CORSInvalidAllowMethod, m), nil
		}
		found = found || m == method || (m == "*" && !credentialed)
	}
	if !found {
		return fail(CORSMethodNotFound, ""), nil
	}
	acah, _ := resp.Get("Access-Control-Allow-Headers")
	var allowed []string
	wildcard := false
	for _, n := range splitList(acah) {
		if !isToken(n) {
			return fail(CORSInvalidAllowHeader, n), nil
		}
		if n == "*" && !credentialed {
			wildcard = true
			continue
		}
		allowed = append(allowed, strings.ToLower(n))
	}
	var warnings []Warning
	for _, n := range Firefox.UnsafeHeaderNames(h) {
		switch {
		case slices.Contains(allowed, n):
		case wildcard && n == "authorization":
			warnings = append(warnings, NewWarning(WarnAuthorizationWildcard, ""))
		case wildcard:
		default:
			return fail(CORSMissingAllowHeaderFromPreflight, n), nil
		}
	}
	return nil, warnings
}

// Network errors only Firefox has: where Chromium blocks by CORS or follows, Firefox fails the
// request (its console then says "CORS request did not succeed").
var (
	ErrFirefoxRedirectCredentials = &NetError{"", "Firefox does not follow a cross-origin redirect to a URL with a user name or password"}
	ErrFirefoxEmptyLocation       = &NetError{"", "Firefox fails a redirect whose Location header is empty"}
)

// ErrFirefoxUnsafeRedirect: Firefox fails a redirect to data:, javascript:, ws:, wss: or chrome: without
// a CORS reason.
var ErrFirefoxUnsafeRedirect = &NetError{"", "Firefox does not follow a redirect to a data:, javascript:, ws:, wss: or chrome: URL"}

// FirefoxSecurityError is Firefox refusing a redirect to a URL a web page may not load (file:,
// view-source:, blob:): it fails the request and prints a security error instead of a CORS one.
type FirefoxSecurityError struct{ From, To string }

func (e *FirefoxSecurityError) Error() string {
	return "a web page may not load " + e.To + " (redirected from " + e.From + ")"
}

// ConsoleLine is what Firefox prints for it.
func (e *FirefoxSecurityError) ConsoleLine() string {
	verb := "load or link to"
	if strings.HasPrefix(e.To, "blob:") {
		verb = "load data from"
	}
	return "Security Error: Content at " + e.From + " may not " + verb + " " + e.To + "."
}

// firefoxRedirectScheme is what Firefox does with a redirect to a scheme other than http and
// https (observed in ESR 153): a network error for some, a security error for the ones pages may
// not load, and CORSRequestNotHttp for the rest.
func firefoxRedirectScheme(from, to *url.URL, status int) (error, *Failure) {
	switch to.Scheme {
	case "data", "javascript", "ws", "wss", "chrome":
		return ErrFirefoxUnsafeRedirect, nil
	case "file", "view-source", "blob":
		return &FirefoxSecurityError{From: from.String(), To: to.String()}, nil
	}
	return nil, &Failure{Reason: CORSRequestNotHttp, Status: status}
}

// firefoxPreflightRedirect is the network error Firefox gives a redirected preflight that
// passed the CORS check but points to a scheme it fails outright (data:, javascript:, …).
func firefoxPreflightRedirect(resp *Response, u *url.URL, origin string, cred Credentials) error {
	if !isRedirect(resp) || firefoxCheckAccess(resp, origin, cred) != nil {
		return nil
	}
	next, err := resp.Location(u)
	if err != nil || next == nil {
		return nil
	}
	if err, _ := firefoxRedirectScheme(u, next, resp.Status); err != nil {
		return err
	}
	return nil
}

// firefoxEmptyLocation reports a redirect status with a Location header that is empty.
func firefoxEmptyLocation(resp *Response) bool {
	switch resp.Status {
	case 301, 302, 303, 307, 308:
	default:
		return false
	}
	ls := resp.Header.Values("Location")
	return len(ls) > 0 && strings.Trim(ls[0], " \t") == ""
}

// FirefoxMixedContentConsoleLine is the line Firefox prints when it blocks an http:// resource
// an https page asked for.
func FirefoxMixedContentConsoleLine(resource string) string {
	return "Blocked loading mixed active content “" + resource + "”"
}

// firefoxStatus is how Firefox prints a status in its console: "(null)" when there was none.
func firefoxStatus(status int) string {
	if status == 0 {
		return "(null)"
	}
	return strconv.Itoa(status)
}

const firefoxBlocked = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at "

// firefoxReasonText is the "(Reason: …)" part of each message, with %p for the failed parameter,
// and whether the message ends with the status code.
var firefoxReasonText = map[Reason]struct {
	text   string
	status bool
}{
	CORSDidNotSucceed:                   {"CORS request did not succeed", true},
	CORSRequestNotHttp:                  {"CORS request not http", false},
	CORSMissingAllowOrigin:              {"CORS header ‘Access-Control-Allow-Origin’ missing", true},
	CORSMultipleAllowOriginNotAllowed:   {"Multiple CORS header ‘Access-Control-Allow-Origin’ not allowed", false},
	CORSAllowOriginNotMatchingOrigin:    {"CORS header ‘Access-Control-Allow-Origin’ does not match ‘%p’", false},
	CORSNotSupportingCredentials:        {"Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’", false},
	CORSMissingAllowCredentials:         {"expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’", false},
	CORSPreflightDidNotSucceed:          {"CORS preflight response did not succeed", true},
	CORSMethodNotFound:                  {"Did not find method in CORS header ‘Access-Control-Allow-Methods’", false},
	CORSInvalidAllowMethod:              {"invalid token ‘%p’ in CORS header ‘Access-Control-Allow-Methods’", false},
	CORSInvalidAllowHeader:              {"invalid token ‘%p’ in CORS header ‘Access-Control-Allow-Headers’", false},
	CORSMissingAllowHeaderFromPreflight: {"header ‘%p’ is not allowed according to header ‘Access-Control-Allow-Headers’ from CORS preflight response", false},
	CORSExternalRedirectNotAllowed:      {"CORS request external redirect not allowed", false},
}

// FirefoxConsoleLine is the line Firefox prints in the console when it blocks a request to url.
func FirefoxConsoleLine(f Failure, url string) string {
	t, ok := firefoxReasonText[f.Reason]
	if !ok {
		return ""
	}
	where := url
	if f.Reason == CORSNotSupportingCredentials {
		where = "‘" + url + "’"
	}
	s := firefoxBlocked + where + ". (Reason: " + strings.ReplaceAll(t.text, "%p", f.FailedParameter) + ")."
	if t.status {
		s += " Status code: " + firefoxStatus(f.Status) + "."
	}
	return s
}

// straightQuotes folds Firefox's curly quotes to straight ones.
var straightQuotes = strings.NewReplacer("‘", "'", "’", "'")

// ParseFirefoxConsole reads one of Firefox's CORS console lines: the reason, its parameter, the
// URL and the status code (0 when none), also with its quotes straightened. ok is false for any
// other line.
func ParseFirefoxConsole(line string) (f Failure, url string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(line), firefoxBlocked)
	if !found {
		_, rest, found = strings.Cut(line, firefoxBlocked)
		if !found {
			return Failure{}, "", false
		}
	}
	i := strings.LastIndex(rest, ". (Reason: ")
	if i < 0 {
		return Failure{}, "", false
	}
	url = strings.Trim(rest[:i], "‘’")
	reason := rest[i+len(". (Reason: "):]
	status := 0
	if j := strings.LastIndex(reason, "). Status code: "); j >= 0 {
		status, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(reason[j+len("). Status code: "):]), "."))
		reason = reason[:j]
	} else {
		reason = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(reason), "."), ")")
	}
	// Quotes are compared folded: text pasted through a ticket or a chat often has its ‘ ’
	// straightened to '.
	reason = straightQuotes.Replace(reason)
	for r, t := range firefoxReasonText {
		text := straightQuotes.Replace(t.text)
		before, after, hasParam := strings.Cut(text, "%p")
		if !hasParam {
			if reason == text {
				return Failure{Reason: r, Status: status}, url, true
			}
			continue
		}
		if strings.HasPrefix(reason, before) && strings.HasSuffix(reason, after) && len(reason) >= len(before)+len(after) {
			return Failure{Reason: r, FailedParameter: reason[len(before) : len(reason)-len(after)], Status: status}, url, true
		}
	}
	return Failure{}, "", false
}
