package cors

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Response is what the checks need of an HTTP response: its status and its header lines as
// received (several lines of one name stay separate until Get joins them).
type Response struct {
	Status int
	Header http.Header
}

// Get returns the header's value as the browser reads it: every line of that name, each trimmed
// of surrounding whitespace, joined with ", ". ok is false when the header is absent.
func (r *Response) Get(name string) (v string, ok bool) {
	lines := r.Header.Values(name)
	if len(lines) == 0 {
		return "", false
	}
	trimmed := make([]string, len(lines))
	for i, l := range lines {
		trimmed[i] = strings.Trim(l, " \t")
	}
	return strings.Join(trimmed, ", "), true
}

// Location returns the redirect target of a redirect response, resolved against base as a browser
// resolves it (see url.go), or nil when the response is not a redirect the browser would follow
// (not 301, 302, 303, 307 or 308, or no Location). A Location that is not a valid URL is
// ErrInvalidRedirect. The fragment stays, as in the URL Chromium reports; it is never sent.
func (r *Response) Location(base *url.URL) (*url.URL, error) {
	if !isRedirectStatus(r.Status) {
		return nil, nil
	}
	loc := strings.Trim(r.Header.Get("Location"), " \t")
	if loc == "" {
		return nil, nil
	}
	u, err := resolveLocation(base, loc)
	if err != nil {
		return nil, ErrInvalidRedirect
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		if _, err := SerializeOrigin(u); err != nil {
			return nil, ErrInvalidRedirect
		}
	}
	return u, nil
}

func isRedirectStatus(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// Failure is a CORS failure: the reason as the browser names it (DevTools' name for Chromium, MDN's
// key for Firefox), and the value that failed.
type Failure struct {
	Reason          Reason
	FailedParameter string
	// Status of the response that failed, and whether it answered a preflight: Firefox names
	// neither in its reason but prints the status in its console.
	Status      int
	OnPreflight bool
}

// CheckAccess is the CORS check of one response (an actual response or a redirect hop), in
// Chromium's order. origin is the request's serialized origin ("null" when tainted).
func CheckAccess(resp *Response, origin string, cred Credentials) *Failure {
	acao, ok := resp.Get("Access-Control-Allow-Origin")
	switch {
	case ok && acao == "*":
		if cred == Include {
			return &Failure{Reason: WildcardOriginNotAllowed}
		}
		return nil
	case !ok:
		return &Failure{Reason: MissingAllowOriginHeader}
	case acao != origin:
		return &Failure{Reason: originFailure(acao), FailedParameter: acao}
	}
	if cred == Include {
		if acac, _ := resp.Get("Access-Control-Allow-Credentials"); acac != "true" {
			return &Failure{Reason: InvalidAllowCredentials, FailedParameter: acac}
		}
	}
	return nil
}

// originFailure names a mismatching Access-Control-Allow-Origin value as Chromium does.
func originFailure(acao string) Reason {
	if strings.ContainsAny(acao, " ,") {
		return MultipleAllowOriginValues
	}
	if acao == NullOrigin {
		return AllowOriginMismatch
	}
	if !isValidURL(acao) {
		return InvalidAllowOriginValue
	}
	return AllowOriginMismatch
}

// CheckPreflight checks a preflight response for a request with this method, these author
// headers and this credentials mode, in Chromium's order: redirect, the CORS check, the status,
// the syntax of the allow lists, the method, the headers. warnings collects differences between
// Chromium and the standard that did not block.
func CheckPreflight(resp *Response, origin, method string, h []Header, cred Credentials) (f *Failure, warnings []Warning) {
	if isRedirect(resp) {
		return &Failure{Reason: PreflightDisallowedRedirect}, nil
	}
	if f := CheckAccess(resp, origin, cred); f != nil {
		return &Failure{Reason: f.Reason.preflight(), FailedParameter: f.FailedParameter}, nil
	}
	if resp.Status < 200 || resp.Status > 299 {
		return &Failure{Reason: PreflightInvalidStatus}, nil
	}
	methods, ok := parseAllowList(resp, "Access-Control-Allow-Methods", false)
	if !ok {
		return &Failure{Reason: InvalidAllowMethodsPreflightResponse}, nil
	}
	headers, ok := parseAllowList(resp, "Access-Control-Allow-Headers", true)
	if !ok {
		return &Failure{Reason: InvalidAllowHeadersPreflightResponse}, nil
	}
	credentialed := cred == Include
	if !slices.Contains(methods, method) && !IsSafelistedMethod(method) &&
		(credentialed || !slices.Contains(methods, "*")) {
		return &Failure{Reason: MethodDisallowedByPreflightResponse, FailedParameter: method}, nil
	}
	wildcard := !credentialed && slices.Contains(headers, "*")
	for _, n := range UnsafeHeaderNames(h) {
		if slices.Contains(headers, n) {
			continue
		}
		if wildcard && n == "authorization" {
			if AuthorizationCoveredByWildcard {
				warnings = append(warnings, NewWarning(WarnAuthorizationWildcard, ""))
				continue
			}
			return &Failure{Reason: HeaderDisallowedByPreflightResponse, FailedParameter: n}, nil
		}
		if wildcard {
			continue
		}
		return &Failure{Reason: HeaderDisallowedByPreflightResponse, FailedParameter: n}, nil
	}
	return nil, warnings
}

// parseAllowList parses Access-Control-Allow-Methods or -Headers: comma-separated tokens, lines
// concatenated. Any element that is not a token fails the whole list.
func parseAllowList(resp *Response, name string, lower bool) ([]string, bool) {
	v, ok := resp.Get(name)
	if !ok {
		return nil, true
	}
	var out []string
	for _, e := range splitList(v) {
		if !isToken(e) {
			return nil, false
		}
		if lower {
			e = strings.ToLower(e)
		}
		out = append(out, e)
	}
	return out, true
}

// splitList splits a list header value on commas, trims whitespace around elements and skips
// empty ones (RFC 9110's #rule: "GET,,PUT" and "x-a, " are valid lists).
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.Trim(p, " \t"); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func isRedirect(resp *Response) bool {
	return isRedirectStatus(resp.Status) && resp.Header.Get("Location") != ""
}
