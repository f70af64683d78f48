package probe

import "strings"

// Shorthands for the cases.
const (
	acao      = "Access-Control-Allow-Origin: {origin}"
	acaoStar  = "Access-Control-Allow-Origin: *"
	acac      = "Access-Control-Allow-Credentials: true"
	authBasic = "Authorization: Basic YWdlbnQ6c2VjcmV0"
)

func ok(h ...string) reply             { return reply{status: 200, header: h} }
func st(code int, h ...string) reply   { return reply{status: code, header: h} }
func acam(v string) string             { return "Access-Control-Allow-Methods: " + v }
func acah(v string) string             { return "Access-Control-Allow-Headers: " + v }
func aco(v string) string              { return "Access-Control-Allow-Origin: " + v }
func allowAll(h ...string) route       { return route{pre: ok(h...), act: ok(h...)} }
func simple(act reply) route           { return route{pre: noPreflight, act: act} }
func preflighted(pre, act reply) route { return route{pre: pre, act: act} }

// noPreflight answers a preflight that should never be sent: if the browser (or the probe) sends
// one, the case fails with PreflightMissingAllowOriginHeader instead of passing.
var noPreflight = st(500)

func conformanceCases() []conformanceCase {
	return append(append(coreCases(), fieldCases()...), edgeCases()...)
}

// coreCases are the CORS protocol itself: the checks on responses, preflights and credentials.
func coreCases() []conformanceCase {
	long := strings.Repeat("a", 129)
	return []conformanceCase{
		// The CORS check on a simple request (no preflight).
		{name: "simple-acao-origin", want: "allowed", route: simple(ok(acao))},
		{name: "simple-acao-star", want: "allowed", route: simple(ok(acaoStar))},
		{name: "simple-no-acao", want: "blocked MissingAllowOriginHeader", route: simple(ok())},
		{name: "simple-acao-other-origin", want: "blocked AllowOriginMismatch", route: simple(ok(aco("http://other.example")))},
		{name: "simple-acao-trailing-slash", want: "blocked AllowOriginMismatch", route: simple(ok(aco("{origin}/")))},
		{name: "simple-acao-null", want: "blocked AllowOriginMismatch", route: simple(ok(aco("null")))},
		{name: "simple-acao-two-lines", want: "blocked MultipleAllowOriginValues", route: simple(ok(acao, acao))},
		{name: "simple-acao-list", want: "blocked MultipleAllowOriginValues", route: simple(ok(aco("{origin}, http://other.example")))},
		{name: "simple-acao-upper-case", want: "blocked AllowOriginMismatch", route: simple(ok(aco("HTTP://127.0.0.1")))},
		{name: "simple-acao-two-ports", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("{origin}:80")))},
		{name: "simple-acao-words", want: "blocked MultipleAllowOriginValues", route: simple(ok(aco("not an origin")))},
		{name: "simple-acao-bare-word", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("foo")))},
		{name: "simple-acao-quoted-star", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco(`"*"`)))},
		{name: "simple-acao-empty", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("")))},
		{name: "simple-acao-subdomain-pattern", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("*.example.com")))},
		{name: "simple-acao-with-path", want: "blocked AllowOriginMismatch", route: simple(ok(aco("{origin}/cuic")))},
		{name: "simple-acao-https-scheme", want: "blocked AllowOriginMismatch", route: simple(ok(aco("https://127.0.0.1")))},
		{name: "simple-acao-star-star", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("**")))},
		{name: "simple-acao-padded", want: "allowed", route: simple(reply{raw: "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin:    *   \r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"})},
		{name: "simple-acao-lower-case-name", want: "allowed", route: simple(reply{raw: "HTTP/1.1 200 OK\r\naccess-control-allow-origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"})},
		{name: "simple-status-500-allowed", want: "allowed", route: simple(st(500, acao))},
		{name: "simple-status-404-no-acao", want: "blocked MissingAllowOriginHeader", route: simple(st(404))},
		{name: "simple-head", want: "allowed", method: "HEAD", route: simple(ok(acao))},
		{name: "simple-post-text-plain", want: "allowed", method: "POST", header: []string{"Content-Type: text/plain"}, route: simple(ok(acao))},
		{name: "simple-post-form", want: "allowed", method: "POST", header: []string{"Content-Type: application/x-www-form-urlencoded"}, route: simple(ok(acao))},
		{name: "simple-post-multipart", want: "allowed", method: "POST", header: []string{"Content-Type: multipart/form-data; boundary=x"}, route: simple(ok(acao))},
		{name: "simple-post-text-plain-charset", want: "allowed", method: "POST", header: []string{"Content-Type: text/plain; charset=utf-8"}, route: simple(ok(acao))},
		{name: "simple-post-content-type-case", want: "allowed", method: "POST", header: []string{"Content-Type: Text/Plain"}, route: simple(ok(acao))},
		{name: "simple-lower-case-method", want: "allowed", method: "get", route: simple(ok(acao))},

		// Credentials.
		{name: "cred-include-allowed", want: "allowed", cred: "include", route: simple(ok(acao, acac))},
		{name: "cred-include-no-acac", want: "blocked InvalidAllowCredentials", cred: "include", route: simple(ok(acao))},
		{name: "cred-include-acac-capital", want: "blocked InvalidAllowCredentials", cred: "include", route: simple(ok(acao, "Access-Control-Allow-Credentials: True"))},
		{name: "cred-include-acac-twice", want: "blocked InvalidAllowCredentials", cred: "include", route: simple(ok(acao, acac, acac))},
		{name: "cred-include-acac-false", want: "blocked InvalidAllowCredentials", cred: "include", route: simple(ok(acao, "Access-Control-Allow-Credentials: false"))},
		{name: "cred-include-star", want: "blocked WildcardOriginNotAllowed", cred: "include", route: simple(ok(acaoStar, acac))},
		{name: "cred-include-no-acao", want: "blocked MissingAllowOriginHeader", cred: "include", route: simple(ok(acac))},
		{name: "cred-omit-star", want: "allowed", cred: "omit", route: simple(ok(acaoStar))},
		{name: "cred-omit-star-acac", want: "allowed", cred: "omit", route: simple(ok(acaoStar, acac))},
		{name: "cred-omit-origin-no-acac", want: "allowed", cred: "omit", route: simple(ok(acao))},
		{name: "cred-same-origin-star", want: "allowed", cred: "same-origin", route: simple(ok(acaoStar))},
		{name: "cred-include-mismatch", want: "blocked AllowOriginMismatch", cred: "include", route: simple(ok(aco("http://other.example"), acac))},

		// Which headers need a preflight. A wrongly sent preflight gets 500 without CORS headers;
		// a wrongly skipped one meets an actual response that only a preflight could have allowed.
		{name: "hdr-accept-json", want: "allowed", header: []string{"Accept: application/json"}, route: simple(ok(acao))},
		{name: "hdr-accept-unsafe-byte", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"Accept: {x}"}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-accept-128", want: "allowed", header: []string{"Accept: " + long[:128]}, route: simple(ok(acao))},
		{name: "hdr-accept-129", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"Accept: " + long}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-accept-language", want: "allowed", header: []string{"Accept-Language: en-US,en;q=0.9"}, route: simple(ok(acao))},
		{name: "hdr-accept-language-underscore", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"Accept-Language: en_US"}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-content-language", want: "allowed", header: []string{"Content-Language: de-DE"}, route: simple(ok(acao))},
		{name: "hdr-content-type-json", want: "blocked HeaderDisallowedByPreflightResponse", method: "POST", header: []string{"Content-Type: application/json"}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-content-type-json-allowed", want: "allowed", method: "POST", header: []string{"Content-Type: application/json"}, route: preflighted(ok(acao, acah("content-type")), ok(acao))},
		{name: "hdr-content-type-quoted-charset", want: "blocked HeaderDisallowedByPreflightResponse", method: "POST", header: []string{`Content-Type: text/plain; charset="utf-8"`}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-content-type-garbage", want: "blocked HeaderDisallowedByPreflightResponse", method: "POST", header: []string{"Content-Type: text/plain garbage"}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-content-type-two-types", want: "blocked HeaderDisallowedByPreflightResponse", method: "POST", header: []string{"Content-Type: text/plain, application/json"}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-range-open", want: "allowed", header: []string{"Range: bytes=0-"}, route: simple(ok(acao))},
		{name: "hdr-range-suffix", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"Range: bytes=-500"}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-range-reversed", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"Range: bytes=5-2"}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-dpr", want: "allowed", header: []string{"DPR: 2"}, route: simple(ok(acao)), chromium: "Chromium safelists client hints such as DPR; the standard does not"},
		{name: "hdr-save-data", want: "allowed", header: []string{"Save-Data: on"}, route: simple(ok(acao)), chromium: "Chromium safelists Save-Data: on"},
		{name: "hdr-width", want: "allowed", header: []string{"Width: 100"}, route: simple(ok(acao)), chromium: "Chromium safelists Width"},
		{name: "hdr-x-custom", want: "allowed", header: []string{"X-Custom: 1"}, route: preflighted(ok(acao, acah("x-custom")), ok(acao))},
		{name: "hdr-x-custom-upper-allowed", want: "allowed", header: []string{"X-Custom: 1"}, route: preflighted(ok(acao, acah("X-CUSTOM")), ok(acao))},
		{name: "hdr-x-custom-missing", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"X-Custom: 1"}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-star-omit", want: "allowed", cred: "omit", header: []string{"X-Custom: 1"}, route: preflighted(ok(acao, acah("*")), ok(acao))},
		{name: "hdr-star-include", want: "blocked HeaderDisallowedByPreflightResponse", cred: "include", header: []string{"X-Custom: 1"}, route: preflighted(ok(acao, acac, acah("*")), ok(acao, acac))},
		{name: "hdr-star-authorization", want: "allowed", cred: "omit", header: []string{authBasic}, route: preflighted(ok(acao, acah("*")), ok(acao)),
			chromium: "Access-Control-Allow-Headers: * covers Authorization in Chromium; the standard requires it by name"},
		{name: "hdr-star-authorization-include", want: "blocked HeaderDisallowedByPreflightResponse", cred: "include", header: []string{authBasic}, route: preflighted(ok(acao, acac, acah("*")), ok(acao, acac))},
		{name: "hdr-authorization-listed", want: "allowed", cred: "include", header: []string{authBasic}, route: preflighted(ok(acao, acac, acah("authorization")), ok(acao, acac))},
		{name: "hdr-first-missing-sorted", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"X-B: 1", "X-A: 1"}, route: preflighted(ok(acao, acah("x-b")), ok(acao))},
		{name: "hdr-allow-list-space", want: "blocked InvalidAllowHeadersPreflightResponse", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("x-a x-b")), ok(acao))},
		{name: "hdr-allow-list-empty-element", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("x-a,,x-b")), ok(acao))},
		{name: "hdr-allow-list-trailing-comma", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("x-a, ")), ok(acao))},
		{name: "hdr-allow-list-two-lines", want: "allowed", header: []string{"X-A: 1", "X-B: 2"}, route: preflighted(ok(acao, acah("x-a"), acah("x-b")), ok(acao))},
		{name: "hdr-allow-list-empty", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("")), ok(acao))},
		{name: "hdr-duplicate-names-combined", want: "allowed", header: []string{"X-A: 1", "x-a: 2"}, route: preflighted(ok(acao, acah("x-a")), ok(acao))},

		// Methods.
		{name: "method-put-allowed", want: "allowed", method: "PUT", route: preflighted(ok(acao, acam("PUT")), ok(acao))},
		{name: "method-put-no-acam", want: "blocked MethodDisallowedByPreflightResponse", method: "PUT", route: preflighted(ok(acao), ok(acao))},
		{name: "method-put-lower-acam", want: "blocked MethodDisallowedByPreflightResponse", method: "PUT", route: preflighted(ok(acao, acam("put")), ok(acao))},
		{name: "method-patch-lower", want: "blocked MethodDisallowedByPreflightResponse", method: "patch", route: preflighted(ok(acao, acam("PATCH")), ok(acao))},
		{name: "method-patch-lower-allowed", want: "allowed", method: "patch", route: preflighted(ok(acao, acam("patch")), ok(acao))},
		{name: "method-delete-normalized", want: "allowed", method: "delete", route: preflighted(ok(acao, acam("DELETE")), ok(acao))},
		{name: "method-star-omit", want: "allowed", method: "PUT", cred: "omit", route: preflighted(ok(acao, acam("*")), ok(acao))},
		{name: "method-star-include", want: "blocked MethodDisallowedByPreflightResponse", method: "PUT", cred: "include", route: preflighted(ok(acao, acac, acam("*")), ok(acao, acac))},
		{name: "method-safelisted-always", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acam("get"), acah("x-a")), ok(acao))},
		{name: "method-list", want: "allowed", method: "PUT", route: preflighted(ok(acao, acam("GET, PUT")), ok(acao))},
		{name: "method-list-space", want: "blocked InvalidAllowMethodsPreflightResponse", method: "PUT", route: preflighted(ok(acao, acam("GET PUT")), ok(acao))},
		{name: "method-list-empty-element", want: "allowed", method: "PUT", route: preflighted(ok(acao, acam("GET,,PUT")), ok(acao))},
		{name: "method-options-actual", want: "allowed", method: "OPTIONS", route: preflighted(ok(acao, acam("OPTIONS")), ok(acao))},
		{name: "method-options-not-allowed", want: "blocked MethodDisallowedByPreflightResponse", method: "OPTIONS", route: preflighted(ok(acao), ok(acao))},
		{name: "method-custom-token", want: "allowed", method: "REPORT", route: preflighted(ok(acao, acam("REPORT")), ok(acao))},

		// The preflight response: status, redirects, CORS check, order of checks.
		{name: "pre-403-no-cors", want: "blocked PreflightMissingAllowOriginHeader", cred: "include", header: []string{authBasic}, route: preflighted(st(403), ok(acao, acac))},
		{name: "pre-403-with-cors", want: "blocked PreflightInvalidStatus", cred: "include", header: []string{authBasic}, route: preflighted(st(403, acao, acac, acah("authorization")), ok(acao, acac))},
		{name: "pre-401-no-cors", want: "blocked PreflightMissingAllowOriginHeader", header: []string{authBasic}, route: preflighted(st(401), ok(acao))},
		{name: "pre-404-with-cors", want: "blocked PreflightInvalidStatus", header: []string{"X-A: 1"}, route: preflighted(st(404, acao, acah("x-a")), ok(acao))},
		{name: "pre-500-with-cors", want: "blocked PreflightInvalidStatus", header: []string{"X-A: 1"}, route: preflighted(st(500, acao, acah("x-a")), ok(acao))},
		{name: "pre-204", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(st(204, acao, acah("x-a")), ok(acao))},
		{name: "pre-206", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(st(206, acao, acah("x-a")), ok(acao))},
		{name: "pre-302", want: "blocked PreflightDisallowedRedirect", header: []string{"X-A: 1"}, route: preflighted(st(302, acao, acah("x-a"), "Location: /elsewhere"), ok(acao))},
		{name: "pre-302-no-location", want: "blocked PreflightInvalidStatus", header: []string{"X-A: 1"}, route: preflighted(st(302, acao, acah("x-a")), ok(acao))},
		{name: "pre-300-location", want: "blocked PreflightInvalidStatus", header: []string{"X-A: 1"}, route: preflighted(st(300, acao, acah("x-a"), "Location: /elsewhere"), ok(acao))},
		{name: "pre-307-no-cors", want: "blocked PreflightDisallowedRedirect", header: []string{"X-A: 1"}, route: preflighted(st(307, "Location: /elsewhere"), ok(acao))},
		{name: "pre-star-include", want: "blocked PreflightWildcardOriginNotAllowed", cred: "include", header: []string{"X-A: 1"}, route: preflighted(ok(acaoStar, acac, acah("x-a")), ok(acao, acac))},
		{name: "pre-mismatch", want: "blocked PreflightAllowOriginMismatch", header: []string{"X-A: 1"}, route: preflighted(ok(aco("http://other.example"), acah("x-a")), ok(acao))},
		{name: "pre-two-origins", want: "blocked PreflightMultipleAllowOriginValues", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acao, acah("x-a")), ok(acao))},
		{name: "pre-invalid-origin", want: "blocked PreflightInvalidAllowOriginValue", header: []string{"X-A: 1"}, route: preflighted(ok(aco("foo"), acah("x-a")), ok(acao))},
		{name: "pre-include-no-acac", want: "blocked PreflightInvalidAllowCredentials", cred: "include", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("x-a")), ok(acao, acac))},
		{name: "pre-null-origin", want: "blocked PreflightAllowOriginMismatch", header: []string{"X-A: 1"}, route: preflighted(ok(aco("null"), acah("x-a")), ok(acao))},
		{name: "pre-ok-actual-no-acao", want: "blocked MissingAllowOriginHeader", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("x-a")), ok())},
		{name: "pre-ok-actual-no-acac", want: "blocked InvalidAllowCredentials", cred: "include", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acac, acah("x-a")), ok(acao))},
		{name: "pre-max-age-large", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("x-a"), "Access-Control-Max-Age: 86400"), ok(acao))},
		{name: "pre-order-methods-before-headers", want: "blocked InvalidAllowMethodsPreflightResponse", method: "PUT", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acam("GET PUT"), acah("x-a x-b")), ok(acao))},
		{name: "pre-order-method-before-header", want: "blocked MethodDisallowedByPreflightResponse", method: "PUT", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acam("GET")), ok(acao))},
		{name: "pre-order-status-before-syntax", want: "blocked PreflightInvalidStatus", method: "PUT", route: preflighted(st(403, acao, acam("GET PUT")), ok(acao))},
		{name: "pre-order-origin-before-status", want: "blocked PreflightAllowOriginMismatch", method: "PUT", route: preflighted(st(403, aco("http://other.example")), ok(acao))},
		{name: "pre-hangup", want: "unreachable net::ERR_EMPTY_RESPONSE", header: []string{"X-A: 1"}, route: preflighted(reply{raw: "hangup"}, ok(acao))},
		{name: "pre-field-case-publisher", want: "allowed", cred: "include", header: []string{authBasic, "locale: en_US", "peripheralid: 5000"},
			route: preflighted(ok(acao, acac, acam("GET,POST,PUT,DELETE,OPTIONS,HEAD"), acah("referer,peripheralid,origin,locale,accept,authorization,domain,x-requested-with,content-type,access-control-request-private-network,user-agent")), ok(acao, acac))},
		{name: "pre-field-case-missing-header", want: "blocked HeaderDisallowedByPreflightResponse", cred: "include", header: []string{authBasic, "locale: en_US", "peripheralid: 5000"},
			route: preflighted(ok(acao, acac, acah("authorization,locale")), ok(acao, acac))},

		// Redirects of the actual request.
		{name: "redir-same-server", want: "allowed", route: simple(st(302, acao, "Location: /c/redir-same-server/2")),
			more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "redir-hop-no-acao", want: "blocked MissingAllowOriginHeader", route: simple(st(302, "Location: /c/redir-hop-no-acao/2")),
			more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "redir-cross-echo-null", want: "allowed", route: simple(st(302, acao, "Location: {B}/c/redir-cross-echo-null/2")),
			more: map[string]route{"B/2": simple(ok(acao))}},
		{name: "redir-cross-page-origin", want: "blocked AllowOriginMismatch", route: simple(st(302, acao, "Location: {B}/c/redir-cross-page-origin/2")),
			more: map[string]route{"B/2": simple(ok(aco("{page}")))}},
		{name: "redir-cross-star", want: "allowed", route: simple(st(302, acao, "Location: {B}/c/redir-cross-star/2")),
			more: map[string]route{"B/2": simple(ok(acaoStar))}},
		{name: "redir-cross-include", want: "allowed", cred: "include", route: simple(st(302, acao, acac, "Location: {B}/c/redir-cross-include/2")),
			more: map[string]route{"B/2": simple(ok(acao, acac))}},
		{name: "redir-userinfo", want: "blocked RedirectContainsCredentials", route: simple(st(302, acao, "Location: {B}/c/redir-userinfo/2")),
			more: map[string]route{"B/2": simple(st(302, aco("null"), "Location: http://user:pass@127.0.0.1:1/x"))}},
		{name: "redir-post-301-to-get", want: "allowed", method: "POST", header: []string{"Content-Type: text/plain"}, route: simple(st(301, acao, "Location: /c/redir-post-301-to-get/2")),
			more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "redir-307-preflight-again", want: "allowed", method: "PUT", route: preflighted(ok(acao, acam("PUT")), st(307, acao, "Location: {B}/c/redir-307-preflight-again/2")),
			more: map[string]route{"B/2": preflighted(ok(acao, acam("PUT")), ok(acao))}},
		{name: "redir-307-second-preflight-fails", want: "blocked PreflightMissingAllowOriginHeader", method: "PUT", route: preflighted(ok(acao, acam("PUT")), st(307, acao, "Location: {B}/c/redir-307-second-preflight-fails/2")),
			more: map[string]route{"B/2": preflighted(st(403), ok(acao))}},
		{name: "redir-drops-authorization", want: "allowed", header: []string{authBasic}, route: preflighted(ok(acao, acah("authorization")), st(302, acao, "Location: {B}/c/redir-drops-authorization/2")),
			more: map[string]route{"B/2": simple(ok(acao))}},
		{name: "redir-loop", want: "unreachable net::ERR_TOO_MANY_REDIRECTS", route: simple(st(302, acao, "Location: /c/redir-loop?again"))},
		{name: "redir-data-url", want: "unreachable net::ERR_UNSAFE_REDIRECT", route: simple(st(302, acao, "Location: data:text/plain,hi"))},

		// Answers that are not HTTP, or no answer: unreachable, never CORS.
		{name: "net-refused", want: "unreachable net::ERR_CONNECTION_REFUSED", target: "dead"},
		{name: "net-untrusted-certificate", want: "unreachable net::ERR_CERT_AUTHORITY_INVALID", target: "tls", route: simple(ok(acao))},
		{name: "net-hangup", want: "unreachable net::ERR_EMPTY_RESPONSE", route: simple(reply{raw: "hangup"})},
		{name: "net-garbage", want: "unreachable net::ERR_INVALID_HTTP_RESPONSE", route: simple(reply{raw: "SSH-2.0-OpenSSH_9.2\r\n"})},

		// Headers fetch() drops silently: no preflight for them.
		{name: "forbidden-cookie", want: "allowed", header: []string{"Cookie: a=b"}, route: simple(ok(acao))},
		{name: "forbidden-sec", want: "allowed", header: []string{"Sec-Foo: 1"}, route: simple(ok(acao))},
		{name: "forbidden-proxy", want: "allowed", header: []string{"Proxy-Authorization: Basic eA=="}, route: simple(ok(acao))},
		{name: "forbidden-method-override", want: "allowed", header: []string{"X-HTTP-Method-Override: TRACE"}, route: simple(ok(acao))},
		{name: "forbidden-content-length", want: "allowed", header: []string{"Content-Length: 5"}, route: simple(ok(acao))},
		{name: "header-user-agent", want: "allowed", header: []string{"User-Agent: gadget"}, route: preflighted(ok(acao), ok(acao))},
	}
}
