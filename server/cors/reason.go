package cors

import (
	"regexp"
	"strings"

	"github.com/corsquickcheck/corscheck/server/words"
)

// Reason is a CORS failure as the Chrome DevTools Protocol names it (Network.CorsError).
type Reason string

// The reasons the evaluator can return. Names are CDP's, so they match what DevTools shows and
// what Network.loadingFailed carries in corsErrorStatus.
const (
	DisallowedByMode                     Reason = "DisallowedByMode"
	InvalidResponse                      Reason = "InvalidResponse"
	WildcardOriginNotAllowed             Reason = "WildcardOriginNotAllowed"
	MissingAllowOriginHeader             Reason = "MissingAllowOriginHeader"
	MultipleAllowOriginValues            Reason = "MultipleAllowOriginValues"
	InvalidAllowOriginValue              Reason = "InvalidAllowOriginValue"
	AllowOriginMismatch                  Reason = "AllowOriginMismatch"
	InvalidAllowCredentials              Reason = "InvalidAllowCredentials"
	CorsDisabledScheme                   Reason = "CorsDisabledScheme"
	PreflightInvalidStatus               Reason = "PreflightInvalidStatus"
	PreflightDisallowedRedirect          Reason = "PreflightDisallowedRedirect"
	PreflightWildcardOriginNotAllowed    Reason = "PreflightWildcardOriginNotAllowed"
	PreflightMissingAllowOriginHeader    Reason = "PreflightMissingAllowOriginHeader"
	PreflightMultipleAllowOriginValues   Reason = "PreflightMultipleAllowOriginValues"
	PreflightInvalidAllowOriginValue     Reason = "PreflightInvalidAllowOriginValue"
	PreflightAllowOriginMismatch         Reason = "PreflightAllowOriginMismatch"
	PreflightInvalidAllowCredentials     Reason = "PreflightInvalidAllowCredentials"
	InvalidAllowMethodsPreflightResponse Reason = "InvalidAllowMethodsPreflightResponse"
	InvalidAllowHeadersPreflightResponse Reason = "InvalidAllowHeadersPreflightResponse"
	MethodDisallowedByPreflightResponse  Reason = "MethodDisallowedByPreflightResponse"
	HeaderDisallowedByPreflightResponse  Reason = "HeaderDisallowedByPreflightResponse"
	RedirectContainsCredentials          Reason = "RedirectContainsCredentials"
)

// Reasons lists every reason the evaluator (Fetch, CheckAccess, CheckPreflight) returns, for
// documentation and tests; the tests fail if one of them cannot be produced.
var Reasons = []Reason{
	WildcardOriginNotAllowed, MissingAllowOriginHeader, MultipleAllowOriginValues,
	InvalidAllowOriginValue, AllowOriginMismatch, InvalidAllowCredentials,
	PreflightInvalidStatus, PreflightDisallowedRedirect, PreflightWildcardOriginNotAllowed,
	PreflightMissingAllowOriginHeader, PreflightMultipleAllowOriginValues,
	PreflightInvalidAllowOriginValue, PreflightAllowOriginMismatch,
	PreflightInvalidAllowCredentials, InvalidAllowMethodsPreflightResponse,
	InvalidAllowHeadersPreflightResponse, MethodDisallowedByPreflightResponse,
	HeaderDisallowedByPreflightResponse, RedirectContainsCredentials, CorsDisabledScheme,
}

// BrowserOnlyReasons are reasons Chromium knows that the evaluator never returns: where they could
// apply, Fetch reports a network error, as Chromium 156 does in the conformance suite (a preflight
// without an HTTP answer). They keep their console text, explanation and fix for reasons read
// from DevTools.
var BrowserOnlyReasons = []Reason{InvalidResponse}

// preflight returns the Preflight… twin of a CORS-check reason.
func (r Reason) preflight() Reason {
	switch r {
	case WildcardOriginNotAllowed, MissingAllowOriginHeader, MultipleAllowOriginValues,
		InvalidAllowOriginValue, AllowOriginMismatch, InvalidAllowCredentials:
		return "Preflight" + r
	}
	return r
}

// OnPreflight reports whether the reason was found on the preflight response.
func (r Reason) OnPreflight() bool {
	return strings.HasPrefix(string(r), "Preflight") || strings.HasSuffix(string(r), "PreflightResponse")
}

// Base returns the reason without its Preflight prefix: the same failure, wherever it was seen.
func (r Reason) Base() Reason {
	if s, ok := strings.CutPrefix(string(r), "Preflight"); ok {
		switch Reason(s) {
		case WildcardOriginNotAllowed, MissingAllowOriginHeader, MultipleAllowOriginValues,
			InvalidAllowOriginValue, AllowOriginMismatch, InvalidAllowCredentials:
			return Reason(s)
		}
	}
	return r
}

// CorsEnabledSchemes are the schemes Chromium's CorsDisabledScheme message lists (Chromium 156;
// the list changes between versions).
var CorsEnabledSchemes = []string{"chrome", "chrome-experimental-site-token-provider", "chrome-extension",
	"chrome-untrusted", "data", "http", "https", "isolated-app"}

const preflightPrefix = "Response to preflight request doesn't pass access control check: "

// consoleDetail is the text Chromium prints after "blocked by CORS policy: "
// (third_party/blink/renderer/platform/loader/cors/cors_error_string.cc).
func consoleDetail(f Failure) string {
	f.Reason = f.ChromiumName()
	v := escapeForConsole(f.FailedParameter)
	var s string
	switch f.Reason.Base() {
	case DisallowedByMode:
		s = "Cross origin requests are not allowed by request mode."
	case InvalidResponse:
		s = "The response is invalid."
	case WildcardOriginNotAllowed:
		s = "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'."
	case MissingAllowOriginHeader:
		s = "No 'Access-Control-Allow-Origin' header is present on the requested resource."
	case MultipleAllowOriginValues:
		s = "The 'Access-Control-Allow-Origin' header contains multiple values '" + v + "', but only one is allowed. Have the server send the header with a valid value."
	case InvalidAllowOriginValue:
		s = "The 'Access-Control-Allow-Origin' header contains the invalid value '" + v + "'. Have the server send the header with a valid value."
	case AllowOriginMismatch:
		s = "The 'Access-Control-Allow-Origin' header has a value '" + v + "' that is not equal to the supplied origin. Have the server send the header with a valid value."
	case InvalidAllowCredentials:
		s = "The value of the 'Access-Control-Allow-Credentials' header in the response is '" + v + "' which must be 'true' when the request's credentials mode is 'include'."
	case CorsDisabledScheme:
		s = "Cross origin requests are only supported for protocol schemes: " + strings.Join(CorsEnabledSchemes, ", ") + "."
	case PreflightInvalidStatus:
		s = "It does not have HTTP ok status."
	case PreflightDisallowedRedirect:
		s = "Redirect is not allowed for a preflight request."
	case InvalidAllowMethodsPreflightResponse:
		return "Cannot parse Access-Control-Allow-Methods response header field in preflight response."
	case InvalidAllowHeadersPreflightResponse:
		return "Cannot parse Access-Control-Allow-Headers response header field in preflight response."
	case MethodDisallowedByPreflightResponse:
		return "Method " + v + " is not allowed by Access-Control-Allow-Methods in preflight response."
	case HeaderDisallowedByPreflightResponse:
		return "Request header field " + v + " is not allowed by Access-Control-Allow-Headers in preflight response."
	case RedirectContainsCredentials:
		return "Redirect location '" + v + "' contains a username and password, which is disallowed for cross-origin requests."
	default:
		s = string(f.Reason)
	}
	if f.Reason.OnPreflight() {
		return preflightPrefix + s
	}
	return s
}

// ConsoleLine is the line Chromium prints in the console when fetch() from origin is blocked.
// initialURL is the URL fetch() was called with; finalURL the one that failed (they differ after
// redirects).
func ConsoleLine(f Failure, initialURL, finalURL, origin string) string {
	var b strings.Builder
	b.WriteString("Access to fetch at '")
	b.WriteString(finalURL)
	b.WriteString("' ")
	if initialURL != finalURL {
		b.WriteString("(redirected from '")
		b.WriteString(initialURL)
		b.WriteString("') ")
	}
	b.WriteString("from origin '")
	b.WriteString(origin)
	b.WriteString("' has been blocked by CORS policy: ")
	b.WriteString(consoleDetail(f))
	return b.String()
}

// Explain says in plain words what went wrong, for people who do not read CORS headers, in l.
func Explain(f Failure, l words.Lang) string {
	f.Reason = f.ChromiumName()
	key := "reason." + string(f.Reason.Base())
	if !words.Has(key) {
		return string(f.Reason)
	}
	where := words.Say(l, "where.response", nil)
	if f.Reason.OnPreflight() {
		where = words.Say(l, "where.preflight", nil)
	}
	return words.Say(l, key, map[string]string{"where": where, "value": f.FailedParameter})
}

// paramMark stands for the failed parameter in a console text template.
const paramMark = "{{failedParameter}}"

var chromiumConsole = regexp.MustCompile(`Access to [A-Za-z]+ at '([^']*)' (?:\(redirected from '([^']*)'\) )?from origin '([^']*)' has been blocked by CORS policy: (.*)$`)

// ParseChromiumConsole reads Chromium's console line for a blocked request (as ConsoleLine writes
// it, with or without the hints older and newer builds append): the failure, the URL that failed,
// the URL fetch() was called with, and the page's origin. ok is false for any other line.
func ParseChromiumConsole(line string) (f Failure, failedURL, initialURL, origin string, ok bool) {
	m := chromiumConsole.FindStringSubmatch(strings.TrimRight(line, " \r\n"))
	if m == nil {
		return Failure{}, "", "", "", false
	}
	failedURL, initialURL, origin = m[1], m[2], m[3]
	if initialURL == "" {
		initialURL = failedURL
	}
	detail := m[4]
	candidates := append(append([]Reason{DisallowedByMode}, Reasons...), BrowserOnlyReasons...)
	for _, r := range candidates {
		t := consoleDetail(Failure{Reason: r, FailedParameter: paramMark})
		if r.Base() == CorsDisabledScheme {
			t, _, _ = strings.Cut(t, ":")
		}
		before, after, hasParam := strings.Cut(t, paramMark)
		if !hasParam {
			if core, _, _ := strings.Cut(t, ". "); strings.HasPrefix(detail, core) {
				return Failure{Reason: r}, failedURL, initialURL, origin, true
			}
			continue
		}
		if !strings.HasPrefix(detail, before) {
			continue
		}
		// The text after the parameter, up to the end of its sentence (hints differ by build).
		core, _, _ := strings.Cut(after, ". ")
		core = strings.TrimSuffix(core, ".")
		rest := detail[len(before):]
		if i := strings.LastIndex(rest, core); i >= 0 && core != "" {
			return Failure{Reason: r, FailedParameter: rest[:i]}, failedURL, initialURL, origin, true
		}
		if core == "" {
			return Failure{Reason: r, FailedParameter: strings.TrimSuffix(rest, ".")}, failedURL, initialURL, origin, true
		}
	}
	return Failure{}, "", "", "", false
}
