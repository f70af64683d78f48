package cors

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/corsquickcheck/corscheck/server/words"
)

// WarningCode names a finding that does not block the request but matters.
type WarningCode string

// The warnings.
const (
	WarnAuthorizationWildcard WarningCode = "authorization-covered-by-wildcard"
	WarnWildcardCredentials   WarningCode = "wildcard-with-credentials"
	WarnOriginReflected       WarningCode = "origin-reflected"
	WarnNullTrusted           WarningCode = "null-origin-trusted"
	WarnVaryMissing           WarningCode = "vary-origin-missing"
	WarnDuplicateHeader       WarningCode = "duplicate-cors-header"
	WarnMaxAge                WarningCode = "max-age-above-browser-limit"
	WarnMaxAgeInvalid         WarningCode = "max-age-invalid"
	WarnHTTPOriginTrusted     WarningCode = "http-origin-trusted"
	WarnMixedContent          WarningCode = "mixed-content"
	WarnForbiddenHeader       WarningCode = "forbidden-header-dropped"
	WarnNotVerified           WarningCode = "certificate-not-verified"
)

// Warning is a non-blocking finding, with a sentence for people (server/words has it in each
// language) and, for some, a detail such as the header it is about.
type Warning struct {
	Code    WarningCode `json:"code"`
	Message string      `json:"message"`
	Detail  string      `json:"detail,omitempty"`
}

// NewWarning returns the warning with its English sentence, the detail appended.
func NewWarning(c WarningCode, detail string) Warning {
	return Warning{Code: c, Detail: detail}.In(words.English)
}

// In returns the warning with its sentence in l.
func (w Warning) In(l words.Lang) Warning {
	w.Message = words.Say(l, "warning."+string(w.Code), nil)
	if w.Detail != "" {
		w.Message += " (" + w.Detail + ")"
	}
	return w
}

// chromiumMaxAge is the longest Chromium caches a preflight, in seconds.
const chromiumMaxAge = 7200

// corsResponseHeaders are checked for duplicates.
var corsResponseHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Access-Control-Expose-Headers",
}

// ResponseWarnings returns what is worth knowing about one response to a request from origin
// sent to target, even when it passed.
func ResponseWarnings(resp *Response, origin string, target *url.URL, preflight bool) []Warning {
	var ws []Warning
	acao, hasACAO := resp.Get("Access-Control-Allow-Origin")
	acac, _ := resp.Get("Access-Control-Allow-Credentials")
	if acao == "*" && acac == "true" {
		ws = append(ws, NewWarning(WarnWildcardCredentials, ""))
	}
	if hasACAO && acao == NullOrigin && origin != NullOrigin {
		ws = append(ws, NewWarning(WarnNullTrusted, ""))
	}
	if hasACAO && acao != "*" && acao == origin && !preflight && !varyHasOrigin(resp) {
		ws = append(ws, NewWarning(WarnVaryMissing, ""))
	}
	if hasACAO && strings.HasPrefix(acao, "http://") && target != nil && target.Scheme == "https" {
		ws = append(ws, NewWarning(WarnHTTPOriginTrusted, acao))
	}
	for _, h := range corsResponseHeaders {
		if n := len(resp.Header.Values(h)); n > 1 {
			ws = append(ws, NewWarning(WarnDuplicateHeader, h+" appears "+strconv.Itoa(n)+" times"))
		}
	}
	if preflight {
		if v, ok := resp.Get("Access-Control-Max-Age"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			switch {
			case err != nil && !allDigits(v):
				ws = append(ws, NewWarning(WarnMaxAgeInvalid, "'"+v+"'"))
			case err != nil || n > chromiumMaxAge:
				ws = append(ws, NewWarning(WarnMaxAge, v+" s"))
			}
		}
	}
	return ws
}

func varyHasOrigin(resp *Response) bool {
	v, _ := resp.Get("Vary")
	for _, e := range strings.Split(v, ",") {
		e = strings.Trim(e, " \t")
		if e == "*" || strings.EqualFold(e, "origin") {
			return true
		}
	}
	return false
}

// Reflects reports whether a response to a request sent with a foreign origin allowed that
// origin: the server echoes whatever Origin it receives.
func Reflects(resp *Response, foreign string) bool {
	acao, _ := resp.Get("Access-Control-Allow-Origin")
	return acao == foreign
}

// MixedContent reports whether a page of origin cannot fetch target at all because the page is
// https and target is http:// on a host that is not potentially trustworthy: loopback addresses,
// localhost and names under .localhost are exempt, as in Chromium.
func MixedContent(origin string, target *url.URL) bool {
	if !strings.HasPrefix(origin, "https://") || target.Scheme != "http" {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(target.Hostname(), "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return false
	}
	if ip, err := netip.ParseAddr(h); err == nil && ip.Unmap().IsLoopback() {
		return false
	}
	return true
}

// MixedContentConsoleLine is the line Chromium prints when it blocks an http:// resource an https
// page asked for, directly or through a redirect. Chromium names the page's full URL; the origin
// stands for it here.
func MixedContentConsoleLine(origin, resource string) string {
	return "Mixed Content: The page at '" + origin + "/' was loaded over HTTPS, but requested an insecure resource '" +
		resource + "'. This request has been blocked; the content must be served over HTTPS."
}

// Dedupe removes repeated warnings, keeping the first of each code and message.
func Dedupe(ws []Warning) []Warning {
	seen := map[Warning]bool{}
	var out []Warning
	for _, w := range ws {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
