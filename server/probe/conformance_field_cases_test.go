package probe

import (
	"fmt"
	"strings"
)

// The cases of the field: what real servers and networks do between a Finesse desktop and the
// nodes it calls, beyond the CORS headers themselves. Mixed content at every hop, default ports in
// origins, redirects of every shape, certificates wrong in every way a node's can be, and header
// lines that net/http and Chromium read differently.

// rawResponse is a response written byte for byte: a status line, header lines (each ended with
// CRLF), and a short body that closes the connection.
func rawResponse(status string, lines ...string) reply {
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + status + "\r\n")
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("Content-Length: 2\r\nConnection: close\r\n\r\nok")
	return reply{raw: b.String()}
}

// rawBytes is a whole response as given, ends of lines included.
func rawBytes(s string) reply { return reply{raw: s} }

// hops makes a chain of n same-server redirects for case name ending in last.
func hops(name string, n int, last route) map[string]route {
	m := map[string]route{}
	for i := 1; i < n; i++ {
		m[fmt.Sprintf("A/h%d", i)] = simple(st(302, acao, fmt.Sprintf("Location: /c/%s/h%d", name, i+1)))
	}
	m[fmt.Sprintf("A/h%d", n)] = last
	return m
}

func fieldCases() []conformanceCase {
	star := aco("*")
	null := aco("null")
	return []conformanceCase{
		// Mixed content: an https page may not fetch http:// unless the host is potentially
		// trustworthy (loopback addresses, localhost, *.localhost), checked at every hop.
		{name: "mixed-http-name", want: "unreachable (mixed-content)", page: "https", target: "insecure", route: simple(ok(acao))},
		{name: "mixed-http-name-preflighted", want: "unreachable (mixed-content)", page: "https", target: "insecure", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("x-a")), ok(acao))},
		{name: "mixed-http-loopback-ip", want: "allowed", page: "https", route: simple(ok(acao))},
		{name: "mixed-http-localhost", want: "allowed", page: "https", target: "localhost", route: simple(ok(acao))},
		{name: "mixed-http-sub-localhost", want: "allowed", page: "https", target: "sub.localhost", route: simple(ok(acao))},
		{name: "mixed-http-page-no-rule", want: "allowed", target: "insecure", route: simple(ok(acao))},
		{name: "mixed-https-target", want: "allowed", page: "https", target: "S", route: simple(ok(acao))},
		{name: "mixed-redirect-to-http-name", want: "unreachable net::ERR_ABORTED", page: "https", target: "S", route: simple(st(302, acao, "Location: {insecure}/c/mixed-redirect-to-http-name/2")),
			more: map[string]route{"A/2": simple(ok(star))}},
		{name: "mixed-redirect-to-http-loopback", want: "allowed", page: "https", target: "S", route: simple(st(302, acao, "Location: {A}/c/mixed-redirect-to-http-loopback/2")),
			more: map[string]route{"A/2": simple(ok(star))}},
		{name: "mixed-redirect-to-http-localhost", want: "allowed", page: "https", target: "S", route: simple(st(302, acao, "Location: http://localhost:{Aport}/c/mixed-redirect-to-http-localhost/2")),
			more: map[string]route{"A/2": simple(ok(star))}},
		{name: "mixed-redirect-second-hop", want: "unreachable net::ERR_ABORTED", page: "https", target: "S", route: simple(st(302, acao, "Location: /c/mixed-redirect-second-hop/2")),
			more: map[string]route{"S/2": simple(st(307, acao, "Location: {insecure}/c/mixed-redirect-second-hop/3")), "A/3": simple(ok(star))}},
		{name: "mixed-redirect-same-origin-https", want: "allowed", page: "https", target: "S", route: simple(st(302, acao, "Location: /c/mixed-redirect-same-origin-https/2")),
			more: map[string]route{"S/2": simple(ok(acao))}},
		{name: "mixed-redirect-preflighted", want: "unreachable net::ERR_ABORTED", page: "https", target: "S", method: "PUT", route: preflighted(ok(acao, acam("PUT")), st(307, acao, "Location: {insecure}/c/mixed-redirect-preflighted/2")),
			more: map[string]route{"A/2": preflighted(ok(star, acam("PUT")), ok(star))}},

		// Default ports: the origin of https://page443.test has no port, so :443 in
		// Access-Control-Allow-Origin is a different string.
		{name: "port-default-omitted", want: "allowed", page: "https443", route: simple(ok(aco("https://page443.test")))},
		{name: "port-default-explicit", want: "blocked AllowOriginMismatch", page: "https443", route: simple(ok(aco("https://page443.test:443")))},
		{name: "port-default-echo-plus-443", want: "blocked AllowOriginMismatch", page: "https443", route: simple(ok(aco("{origin}:443")))},
		{name: "port-default-preflight-explicit", want: "blocked PreflightAllowOriginMismatch", page: "https443", header: []string{"X-A: 1"}, route: preflighted(ok(aco("https://page443.test:443"), acah("x-a")), ok(acao))},
		{name: "port-missing-non-default", want: "blocked AllowOriginMismatch", page: "https", route: simple(ok(aco("https://page.test")))},
		{name: "port-http-scheme-for-https", want: "blocked AllowOriginMismatch", page: "https443", route: simple(ok(aco("http://page443.test")))},

		// Safelisted header values at their edges.
		{name: "hdr-range-multiple", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"Range: bytes=0-1, 2-3"}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-range-closed", want: "allowed", header: []string{"Range: bytes=0-499"}, route: simple(ok(acao))},
		{name: "hdr-range-upper-case-unit", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"Range: BYTES=0-"}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-range-space", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"Range: bytes= 0-1"}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-accept-language-128", want: "allowed", header: []string{"Accept-Language: " + strings.Repeat("a", 128)}, route: simple(ok(acao))},
		{name: "hdr-accept-language-129", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"Accept-Language: " + strings.Repeat("a", 129)}, route: preflighted(ok(acao), ok(acao))},
		{name: "hdr-content-type-129", want: "blocked HeaderDisallowedByPreflightResponse", method: "POST", header: []string{"Content-Type: text/plain;" + strings.Repeat("a", 118)}, route: preflighted(ok(acao), ok(acao))},

		// Redirects of the actual request.
		{name: "redir-empty-userinfo", want: "allowed", route: simple(st(302, acao, "Location: http://@{Bhost}/c/redir-empty-userinfo/2")),
			more: map[string]route{"B/2": simple(ok(star))}},
		{name: "redir-empty-password", want: "blocked RedirectContainsCredentials", route: simple(st(302, acao, "Location: http://user:@{Bhost}/c/redir-empty-password/2")),
			more: map[string]route{"B/2": simple(ok(star))}},
		{name: "redir-password-only", want: "blocked RedirectContainsCredentials", route: simple(st(302, acao, "Location: http://:pass@{Bhost}/c/redir-password-only/2")),
			more: map[string]route{"B/2": simple(ok(star))}},
		{name: "redir-userinfo-same-server", want: "blocked RedirectContainsCredentials", route: simple(st(302, acao, "Location: http://user:pass@{Ahost}/c/redir-userinfo-same-server/2")),
			more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "redir-multiple-location-different", want: "unreachable net::ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION", route: simple(rawResponse("302 Found", acao, "Location: /c/redir-multiple-location-different/2", "Location: /c/redir-multiple-location-different/3")),
			more: map[string]route{"A/2": simple(ok(acao)), "A/3": simple(ok(acao))}},
		{name: "redir-multiple-location-same", want: "allowed", route: simple(rawResponse("302 Found", acao, "Location: /c/redir-multiple-location-same/2", "Location: /c/redir-multiple-location-same/2")),
			more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "redir-location-empty", want: "allowed", route: simple(rawResponse("302 Found", acao, "Location:"))},
		{name: "redir-location-invalid-ipv6", want: "unreachable net::ERR_INVALID_REDIRECT", route: simple(st(302, acao, "Location: http://[::1/x"))},
		{name: "redir-location-invalid-port", want: "unreachable net::ERR_INVALID_REDIRECT", route: simple(st(302, acao, "Location: http://127.0.0.1:99999/x"))},
		{name: "redir-location-relative-garbage", want: "unreachable net::ERR_INVALID_REDIRECT", route: simple(st(302, acao, "Location: http://:80/x"))},
		{name: "redir-ftp", want: "blocked CorsDisabledScheme", route: simple(st(302, acao, "Location: ftp://127.0.0.1/x"))},
		{name: "redir-javascript", want: "blocked CorsDisabledScheme", route: simple(st(302, acao, "Location: javascript:alert(1)"))},
		{name: "redir-file", want: "unreachable net::ERR_UNSAFE_REDIRECT", route: simple(st(302, acao, "Location: file:///etc/hostname"))},
		{name: "redir-about-blank", want: "unreachable net::ERR_UNSAFE_REDIRECT", route: simple(st(302, acao, "Location: about:blank"))},
		{name: "redir-blob", want: "unreachable net::ERR_UNSAFE_REDIRECT", route: simple(st(302, acao, "Location: blob:http://127.0.0.1/00000000-0000-0000-0000-000000000000"))},
		{name: "redir-ws", want: "blocked CorsDisabledScheme", route: simple(st(302, acao, "Location: ws://{Bhost}/c/redir-ws/2"))},
		{name: "redir-wss", want: "blocked CorsDisabledScheme", route: simple(st(302, acao, "Location: wss://{Bhost}/c/redir-wss/2"))},
		{name: "redir-filesystem", want: "unreachable net::ERR_UNSAFE_REDIRECT", route: simple(st(302, acao, "Location: filesystem:http://127.0.0.1/temporary/x"))},
		{name: "redir-chrome", want: "unreachable net::ERR_UNSAFE_REDIRECT", route: simple(st(302, acao, "Location: chrome://version/"))},
		{name: "redir-chrome-extension", want: "unreachable net::ERR_UNSAFE_REDIRECT", route: simple(st(302, acao, "Location: chrome-extension://abcdefghijklmnopabcdefghijklmnop/x"))},
		{name: "redir-view-source", want: "unreachable net::ERR_ABORTED", route: simple(st(302, acao, "Location: view-source:http://127.0.0.1/"))},
		{name: "redir-mailto", want: "blocked CorsDisabledScheme", route: simple(st(302, acao, "Location: mailto:agent@example.com"))},
		{name: "redir-unknown-scheme", want: "blocked CorsDisabledScheme", route: simple(st(302, acao, "Location: cuic:report"))},
		{name: "redir-relative-path", want: "allowed", route: simple(st(302, acao, "Location: redir-relative-path/2")),
			more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "redir-scheme-relative", want: "allowed", route: simple(st(302, acao, "Location: //{Bhost}/c/redir-scheme-relative/2")),
			more: map[string]route{"B/2": simple(ok(star))}},
		{name: "redir-fragment-then-blocked", want: "blocked MissingAllowOriginHeader", route: simple(st(302, acao, "Location: {B}/c/redir-fragment-then-blocked/2#frag")),
			more: map[string]route{"B/2": simple(ok())}},
		{name: "redir-307-post-stays-post", want: "allowed", method: "POST", header: []string{"Content-Type: text/plain"}, route: simple(st(307, acao, "Location: /c/redir-307-post-stays-post/2")),
			more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "redir-303-put-becomes-get", want: "allowed", method: "PUT", route: preflighted(ok(acao, acam("PUT")), st(303, acao, "Location: /c/redir-303-put-becomes-get/2")),
			more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "redir-302-put-stays-put", want: "allowed", method: "PUT", route: preflighted(ok(acao, acam("PUT")), st(302, acao, "Location: {B}/c/redir-302-put-stays-put/2")),
			more: map[string]route{"B/2": preflighted(ok(null, acam("PUT")), ok(null))}},
		{name: "redir-308-put-preflight-fails", want: "blocked MethodDisallowedByPreflightResponse", method: "PUT", route: preflighted(ok(acao, acam("PUT")), st(308, acao, "Location: {B}/c/redir-308-put-preflight-fails/2")),
			more: map[string]route{"B/2": preflighted(ok(null), ok(null))}},
		{name: "redir-twenty", want: "allowed", route: simple(st(302, acao, "Location: /c/redir-twenty/h1")), more: hops("redir-twenty", 20, simple(ok(acao)))},
		{name: "redir-twenty-one", want: "unreachable net::ERR_TOO_MANY_REDIRECTS", route: simple(st(302, acao, "Location: /c/redir-twenty-one/h1")), more: hops("redir-twenty-one", 21, simple(ok(acao)))},
		{name: "redir-to-expired-certificate", want: "unreachable net::ERR_CERT_DATE_INVALID", page: "https", target: "S", route: simple(st(302, acao, "Location: {expired}/c/redir-to-expired-certificate/2")),
			more: map[string]route{"S/2": simple(ok(star))}},

		// Redirects of the preflight: never followed.
		{name: "pre-301-with-cors", want: "blocked PreflightDisallowedRedirect", header: []string{"X-A: 1"}, route: preflighted(st(301, acao, acah("x-a"), "Location: /elsewhere"), ok(acao))},
		{name: "pre-303-with-cors", want: "blocked PreflightDisallowedRedirect", header: []string{"X-A: 1"}, route: preflighted(st(303, acao, acah("x-a"), "Location: /elsewhere"), ok(acao))},
		{name: "pre-308-no-cors", want: "blocked PreflightDisallowedRedirect", header: []string{"X-A: 1"}, route: preflighted(st(308, "Location: /elsewhere"), ok(acao))},
		{name: "pre-304-with-cors", want: "blocked PreflightInvalidStatus", header: []string{"X-A: 1"}, route: preflighted(st(304, acao, acah("x-a")), ok(acao))},
		{name: "pre-302-credentials-no-acac", want: "blocked PreflightDisallowedRedirect", cred: "include", header: []string{"X-A: 1"}, route: preflighted(st(302, acao, "Location: /elsewhere"), ok(acao, acac))},

		// Tainted origins: after a hop to another origin (from a URL not the page's), the next
		// requests carry Origin: null.
		{name: "taint-same-server-not-tainted", want: "blocked AllowOriginMismatch", route: simple(st(302, acao, "Location: /c/taint-same-server-not-tainted/2")),
			more: map[string]route{"A/2": simple(ok(null))}},
		{name: "taint-back-to-first-server", want: "allowed", route: simple(st(302, acao, "Location: {B}/c/taint-back-to-first-server/2")),
			more: map[string]route{"B/2": simple(st(302, null, "Location: {A}/c/taint-back-to-first-server/3")), "A/3": simple(ok(acao))}},
		{name: "taint-null-with-credentials", want: "allowed", cred: "include", route: simple(st(302, acao, acac, "Location: {B}/c/taint-null-with-credentials/2")),
			more: map[string]route{"B/2": simple(ok(null, acac))}},
		{name: "taint-star-with-credentials", want: "blocked WildcardOriginNotAllowed", cred: "include", route: simple(st(302, acao, acac, "Location: {B}/c/taint-star-with-credentials/2")),
			more: map[string]route{"B/2": simple(ok(star, acac))}},
		{name: "taint-preflight-null", want: "allowed", method: "PUT", route: preflighted(ok(acao, acam("PUT")), st(307, acao, "Location: {B}/c/taint-preflight-null/2")),
			more: map[string]route{"B/2": preflighted(ok(null, acam("PUT")), ok(null))}},
		{name: "taint-preflight-page-origin", want: "blocked PreflightAllowOriginMismatch", method: "PUT", route: preflighted(ok(acao, acam("PUT")), st(307, acao, "Location: {B}/c/taint-preflight-page-origin/2")),
			more: map[string]route{"B/2": preflighted(ok(aco("{page}"), acam("PUT")), ok(aco("{page}")))}},
		{name: "taint-from-page-server", want: "allowed", target: "page", route: simple(st(302, "Location: {A}/c/taint-from-page-server/2")),
			more: map[string]route{"A/2": simple(ok(aco("{page}")))}},
		{name: "taint-from-page-server-null", want: "blocked AllowOriginMismatch", target: "page", route: simple(st(302, "Location: {A}/c/taint-from-page-server-null/2")),
			more: map[string]route{"A/2": simple(ok(null))}},
		{name: "taint-from-page-server-preflighted", want: "allowed", target: "page", header: []string{"X-A: 1"}, route: simple(st(302, "Location: {A}/c/taint-from-page-server-preflighted/2")),
			more: map[string]route{"A/2": preflighted(ok(aco("{page}"), acah("x-a")), ok(aco("{page}")))}},

		// Header lines that parsers disagree on, written byte for byte.
		{name: "raw-space-before-colon", want: "allowed", route: simple(rawResponse("200 OK", "Access-Control-Allow-Origin : {origin}"))},
		{name: "raw-tab-before-colon", want: "allowed", route: simple(rawResponse("200 OK", "Access-Control-Allow-Origin\t: {origin}"))},
		{name: "raw-space-before-colon-credentials", want: "allowed", cred: "include", route: simple(rawResponse("200 OK", acao, "Access-Control-Allow-Credentials : true"))},
		{name: "raw-space-before-colon-preflight", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(rawResponse("200 OK", acao, "Access-Control-Allow-Headers : x-a"), ok(acao))},
		{name: "raw-obs-fold-value", want: "allowed", route: simple(rawResponse("200 OK", "Access-Control-Allow-Origin:", " {origin}"))},
		{name: "raw-obs-fold-credentials", want: "allowed", cred: "include", route: simple(rawResponse("200 OK", acao, "Access-Control-Allow-Credentials:", "\ttrue"))},
		{name: "raw-obs-fold-after-acao", want: "blocked MultipleAllowOriginValues", route: simple(rawResponse("200 OK", acao, " continued"))},
		{name: "raw-obs-fold-first-line", want: "allowed", route: simple(rawResponse("200 OK", " folded", acao))},
		{name: "raw-tab-around-value", want: "allowed", route: simple(rawResponse("200 OK", "Access-Control-Allow-Origin:\t{origin}\t"))},
		{name: "raw-no-space-after-colon", want: "allowed", route: simple(rawResponse("200 OK", "Access-Control-Allow-Origin:{origin}"))},
		{name: "raw-empty-value", want: "blocked InvalidAllowOriginValue", route: simple(rawResponse("200 OK", "Access-Control-Allow-Origin:"))},
		{name: "raw-empty-and-origin", want: "blocked MultipleAllowOriginValues", route: simple(rawResponse("200 OK", "Access-Control-Allow-Origin:", acao))},
		{name: "raw-duplicate-acao-lines", want: "blocked MultipleAllowOriginValues", route: simple(rawResponse("200 OK", acao, acao))},
		{name: "raw-upper-case-name", want: "allowed", route: simple(rawResponse("200 OK", "ACCESS-CONTROL-ALLOW-ORIGIN: {origin}"))},
		{name: "raw-line-without-colon", want: "allowed", route: simple(rawResponse("200 OK", "this line has no colon", acao))},
		{name: "raw-invalid-name-char", want: "allowed", route: simple(rawResponse("200 OK", "X(bad): 1", acao))},
		{name: "raw-name-with-inner-space", want: "blocked MissingAllowOriginHeader", route: simple(rawResponse("200 OK", "Access-Control Allow-Origin: {origin}"))},
		{name: "raw-bare-cr-between-lines", want: "allowed", route: simple(rawBytes("HTTP/1.1 200 OK\r\nX-A: 1\rAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "raw-bare-cr-in-value", want: "allowed", route: simple(rawBytes("HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\rX\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "raw-lf-only", want: "allowed", route: simple(rawBytes("HTTP/1.1 200 OK\nAccess-Control-Allow-Origin: {origin}\nContent-Length: 2\nConnection: close\n\nok"))},
		{name: "raw-nul-in-value", want: "unreachable net::ERR_INVALID_HTTP_RESPONSE", route: simple(rawResponse("200 OK", "Access-Control-Allow-Origin: {origin}\x00"))},
		{name: "raw-status-no-reason", want: "allowed", route: simple(rawBytes("HTTP/1.1 200\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "raw-http10", want: "allowed", route: simple(rawBytes("HTTP/1.0 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\n\r\nok"))},
		{name: "raw-lower-case-version", want: "allowed", route: simple(rawBytes("http/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "raw-content-length-twice-different", want: "unreachable net::ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH", route: simple(rawBytes("HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok"))},
		{name: "raw-content-length-twice-same", want: "allowed", route: simple(rawBytes("HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "raw-two-locations-on-200", want: "unreachable net::ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION", route: simple(rawResponse("200 OK", acao, "Location: /a", "Location: /b"))},
		{name: "raw-content-disposition-twice", want: "unreachable net::ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_DISPOSITION", route: simple(rawResponse("200 OK", acao, "Content-Disposition: inline", "Content-Disposition: attachment"))},
		{name: "raw-chunked-two-lengths", want: "allowed", route: simple(rawBytes("HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n2\r\nok\r\n0\r\n\r\n"))},
		{name: "raw-truncated-head", want: "allowed", route: simple(rawBytes("HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\n"))},
		{name: "raw-not-http-with-blank-line", want: "unreachable net::ERR_INVALID_HTTP_RESPONSE", route: simple(rawBytes("SSH-2.0-OpenSSH_9.2\r\n\r\n"))},
		{name: "raw-junk-before-status", want: "allowed", route: simple(rawBytes("\r\nHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "raw-location-space-before-colon", want: "blocked MissingAllowOriginHeader", route: simple(rawResponse("302 Found", acao, "Location : /c/raw-location-space-before-colon/2")),
			more: map[string]route{"A/2": simple(ok())}},

		// Certificates: each wrong the way a node's certificate can be, from an https page.
		{name: "cert-good", want: "allowed", page: "https", target: "S", route: simple(ok(acao))},
		{name: "cert-expired", want: "unreachable net::ERR_CERT_DATE_INVALID", page: "https", target: "cert:expired", route: simple(ok(acao))},
		{name: "cert-not-yet-valid", want: "unreachable net::ERR_CERT_DATE_INVALID", page: "https", target: "cert:not-yet-valid", route: simple(ok(acao))},
		{name: "cert-wrong-name", want: "unreachable net::ERR_CERT_COMMON_NAME_INVALID", page: "https", target: "cert:wrong-name", route: simple(ok(acao))},
		{name: "cert-cn-only", want: "unreachable net::ERR_CERT_COMMON_NAME_INVALID", page: "https", target: "cert:cn-only", route: simple(ok(acao))},
		{name: "cert-client-auth-only", want: "unreachable net::ERR_CERT_INVALID", page: "https", target: "cert:client-auth-only", route: simple(ok(acao))},
		{name: "cert-no-intermediate", want: "unreachable net::ERR_CERT_AUTHORITY_INVALID", page: "https", target: "cert:no-intermediate", route: simple(ok(acao))},
		{name: "cert-self-signed", want: "unreachable net::ERR_CERT_AUTHORITY_INVALID", page: "https", target: "cert:self-signed", route: simple(ok(acao))},
		{name: "cert-tls10-only", want: "unreachable net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH", page: "https", target: "cert:tls10", route: simple(ok(acao))},
		{name: "cert-tls-on-plain-http", want: "unreachable net::ERR_SSL_PROTOCOL_ERROR", page: "https", target: "tls-on-http", route: simple(ok(acao))},
		{name: "cert-expired-wrong-name", want: "unreachable net::ERR_CERT_COMMON_NAME_INVALID", page: "https", target: "cert:expired-wrong-name", route: simple(ok(acao))},
		{name: "cert-self-signed-expired", want: "unreachable net::ERR_CERT_AUTHORITY_INVALID", page: "https", target: "cert:self-signed-expired", route: simple(ok(acao))},
		{name: "cert-key-usage-encipherment", want: "unreachable net::ERR_SSL_KEY_USAGE_INCOMPATIBLE", page: "https", target: "cert:key-usage-encipherment", route: simple(ok(acao))},
		{name: "cert-expired-preflighted", want: "unreachable net::ERR_CERT_DATE_INVALID", page: "https", target: "cert:expired", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("x-a")), ok(acao))},
		{name: "cert-good-from-http-page", want: "allowed", target: "S", route: simple(ok(acao))},
	}
}
