package probe

import "strings"

// Edge cases found by an outside audit that set the probe against Chromium on behaviours nobody
// on the project wrote: informational (1xx) answers, status codes out of range, URL parsing of
// Access-Control-Allow-Origin and Location as browsers parse them, console escaping, Chromium's
// extra safelisted request headers, head sizes at Chromium's limit, comma-split header values,
// and certificates wrong in the ways Chromium and Go's defaults judge differently.

func edgeCases() []conformanceCase {
	star := aco("*")
	return []conformanceCase{
		// --- 1xx and odd status codes ---
		{name: "s-100-then-200", want: "allowed", route: simple(rawBytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "s-100-then-200-space-colon", want: "allowed", route: simple(rawBytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin : {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "s-103-then-200", want: "allowed", route: simple(rawBytes("HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "s-103-space-colon-then-200", want: "allowed", route: simple(rawBytes("HTTP/1.1 103 Early Hints\r\nLink : </x>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "s-101-then-200", want: "allowed", route: simple(rawBytes("HTTP/1.1 101 Switching Protocols\r\n\r\nHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "s-six-100-then-200", want: "allowed", route: simple(rawBytes(strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 6) + "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "s-100-then-close", want: "unreachable net::ERR_EMPTY_RESPONSE", route: simple(rawBytes("HTTP/1.1 100 Continue\r\n\r\n"))},
		{name: "s-100-then-200-two-dispositions", want: "unreachable net::ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_DISPOSITION", route: simple(rawBytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Disposition: inline\r\nContent-Disposition: attachment\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "s-pre-100-then-200", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(rawBytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nAccess-Control-Allow-Headers : x-a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), ok(acao))},
		{name: "s-100-then-garbage", want: "unreachable net::ERR_INVALID_HTTP_RESPONSE", route: simple(rawBytes("HTTP/1.1 100 Continue\r\nX: 1\r\n\r\nok"))},
		{name: "s-600", want: "allowed", route: simple(rawResponse("600 Weird", acao))},
		{name: "s-999", want: "allowed", route: simple(rawResponse("999 Weird", acao))},
		{name: "s-099", want: "allowed", route: simple(rawResponse("099 Weird", acao))},
		{name: "s-000", want: "allowed", route: simple(rawResponse("000 Weird", acao))},
		{name: "s-two-digits", want: "allowed", route: simple(rawResponse("20 OK", acao))},
		{name: "s-four-digits", want: "allowed", route: simple(rawResponse("2000 OK", acao))},
		{name: "s-no-code", want: "allowed", route: simple(rawResponse("OK", acao))},
		{name: "s-http2-version", want: "allowed", route: simple(rawBytes("HTTP/2.0 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "s-http12-version", want: "allowed", route: simple(rawBytes("HTTP/1.2 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "s-pre-299", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(st(299, acao, acah("x-a")), ok(acao))},
		{name: "s-pre-205", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(st(205, acao, acah("x-a")), ok(acao))},
		{name: "s-pre-600", want: "blocked PreflightInvalidStatus", header: []string{"X-A: 1"}, route: preflighted(rawResponse("600 Weird", acao, acah("x-a")), ok(acao))},
		{name: "s-pre-199-raw", want: "unreachable net::ERR_INVALID_HTTP_RESPONSE", header: []string{"X-A: 1"}, route: preflighted(rawResponse("199 Weird", acao, acah("x-a")), ok(acao))},
		{name: "s-pre-304-location", want: "blocked PreflightInvalidStatus", header: []string{"X-A: 1"}, route: preflighted(st(304, acao, acah("x-a"), "Location: /x"), ok(acao))},
		{name: "s-304-location-actual", want: "allowed", route: simple(st(304, acao, "Location: /x"))},
		{name: "s-305-location-actual", want: "allowed", route: simple(st(305, acao, "Location: /x"))},

		// --- ACAO values: which are "invalid" (GURL) vs "mismatch" ---
		{name: "o-port-out-of-range", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("http://127.0.0.1:99999")))},
		{name: "o-ipv4-overflow", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("http://256.0.0.1")))},
		{name: "o-ipv4-five-parts", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("http://1.2.3.4.5")))},
		{name: "o-percent-host", want: "blocked AllowOriginMismatch", route: simple(ok(aco("http://%41.example")))},
		{name: "o-file", want: "blocked AllowOriginMismatch", route: simple(ok(aco("file:///")))},
		{name: "o-foo-colon", want: "blocked AllowOriginMismatch", route: simple(ok(aco("foo:")))},
		{name: "o-http-single-slash", want: "blocked AllowOriginMismatch", route: simple(ok(aco("http:/example.com")))},
		{name: "o-http-colon-only", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("http:")))},
		{name: "o-backslashes", want: "blocked AllowOriginMismatch", route: simple(ok(aco(`http:\\example.com`)))},
		{name: "o-tab-inside", want: "blocked AllowOriginMismatch", route: simple(ok(aco("http://exa\tmple.com")))},
		{name: "o-bad-punycode", want: "blocked AllowOriginMismatch", route: simple(ok(aco("http://xn--a.example")))},
		{name: "o-bad-ipv6", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("http://[::g]")))},
		{name: "o-empty-host-port", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("http://:80")))},
		{name: "o-star-subdomain-with-scheme", want: "blocked AllowOriginMismatch", route: simple(ok(aco("https://*.example.com")))},
		{name: "o-caret-host", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("http://exa^mple.com")))},
		{name: "o-idn", want: "blocked AllowOriginMismatch", route: simple(ok(aco("http://bücher.example")))},
		{name: "o-trailing-dot", want: "blocked AllowOriginMismatch", route: simple(ok(aco("http://127.0.0.1.")))},
		{name: "o-userinfo", want: "blocked AllowOriginMismatch", route: simple(ok(aco("http://user@127.0.0.1")))},
		{name: "o-NULL", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco("NULL")))},
		{name: "o-quoted-origin", want: "blocked InvalidAllowOriginValue", route: simple(ok(aco(`"{origin}"`)))},
		{name: "o-origin-comma-nospace", want: "blocked MultipleAllowOriginValues", route: simple(ok(aco("{origin},{origin}")))},
		{name: "o-origin-trailing-comma", want: "blocked MultipleAllowOriginValues", route: simple(ok(aco("{origin},")))},
		{name: "o-ws-scheme", want: "blocked AllowOriginMismatch", route: simple(ok(aco("ws://127.0.0.1")))},
		{name: "o-data-comma", want: "blocked AllowOriginMismatch", route: simple(ok(aco("data:text/plain")))},
		{name: "o-mailto", want: "blocked AllowOriginMismatch", route: simple(ok(aco("mailto:a@b")))},
		{name: "o-port-empty", want: "blocked AllowOriginMismatch", route: simple(ok(aco("http://127.0.0.1:")))},
		{name: "o-pre-port-out-of-range", want: "blocked PreflightInvalidAllowOriginValue", header: []string{"X-A: 1"}, route: preflighted(ok(aco("http://127.0.0.1:99999"), acah("x-a")), ok(acao))},
		{name: "o-two-case-lines", want: "blocked MultipleAllowOriginValues", route: simple(rawResponse("200 OK", "access-control-allow-origin: {origin}", "Access-Control-Allow-Origin: {origin}"))},

		{name: "o-console-acac-nonascii", want: "blocked InvalidAllowCredentials", cred: "include", route: simple(ok(acao, "Access-Control-Allow-Credentials: trüe"))},
		{name: "o-console-acao-del", want: "blocked InvalidAllowOriginValue", route: simple(rawResponse("200 OK", "Access-Control-Allow-Origin: http://a\x7fb"))},
		{name: "o-pre-302-invalid-location", want: "unreachable net::ERR_INVALID_REDIRECT", header: []string{"X-A: 1"}, route: preflighted(st(302, acao, acah("x-a"), "Location: http://[::1/x"), ok(acao))},
		{name: "o-pre-302-location-data", want: "blocked PreflightDisallowedRedirect", header: []string{"X-A: 1"}, route: preflighted(st(302, acao, acah("x-a"), "Location: data:text/plain,x"), ok(acao))},
		{name: "o-pre-302-location-ftp", want: "blocked PreflightDisallowedRedirect", header: []string{"X-A: 1"}, route: preflighted(st(302, "Location: ftp://x/"), ok(acao))},
		{name: "o-pre-302-location-two", want: "unreachable net::ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION", header: []string{"X-A: 1"}, route: preflighted(rawResponse("302 Found", acao, "Location: /a", "Location: /b"), ok(acao))},
		// --- credentials ---
		{name: "c-acac-trailing-space", want: "allowed", cred: "include", route: simple(rawResponse("200 OK", acao, "Access-Control-Allow-Credentials: true  "))},
		{name: "c-acac-true-true-one-line", want: "blocked InvalidAllowCredentials", cred: "include", route: simple(ok(acao, "Access-Control-Allow-Credentials: true, true"))},
		{name: "c-acac-quoted", want: "blocked InvalidAllowCredentials", cred: "include", route: simple(ok(acao, `Access-Control-Allow-Credentials: "true"`))},
		{name: "c-acac-empty", want: "blocked InvalidAllowCredentials", cred: "include", route: simple(rawResponse("200 OK", acao, "Access-Control-Allow-Credentials:"))},
		{name: "c-pre-acac-TRUE", want: "blocked PreflightInvalidAllowCredentials", cred: "include", header: []string{"X-A: 1"}, route: preflighted(ok(acao, "Access-Control-Allow-Credentials: TRUE", acah("x-a")), ok(acao, acac))},
		{name: "c-omit-acac-false", want: "allowed", cred: "omit", route: simple(ok(acao, "Access-Control-Allow-Credentials: false"))},
		{name: "c-same-origin-method-star", want: "allowed", method: "PUT", route: preflighted(ok(acao, acam("*")), ok(acao))},
		{name: "c-same-origin-header-star-auth", want: "allowed", header: []string{authBasic}, route: preflighted(ok(acao, acah("*")), ok(acao))},
		{name: "c-include-star-and-name", want: "allowed", cred: "include", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acac, acah("*, x-a")), ok(acao, acac))},

		// --- allow lists ---
		{name: "l-tab-separated", want: "blocked InvalidAllowHeadersPreflightResponse", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("x-a\tx-b")), ok(acao))},
		{name: "l-semicolon", want: "blocked InvalidAllowMethodsPreflightResponse", method: "PUT", route: preflighted(ok(acao, acam("GET;PUT")), ok(acao))},
		{name: "l-quoted-list", want: "blocked InvalidAllowHeadersPreflightResponse", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah(`"x-a, x-b"`)), ok(acao))},
		{name: "l-single-quoted-list", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah(`'x-a, x-b'`)), ok(acao))},
		{name: "l-single-quoted-nospace", want: "blocked HeaderDisallowedByPreflightResponse", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah(`'x-b,x-a'`)), ok(acao))},
		{name: "l-long-list", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah(strings.Repeat("x-zz,", 2000)+"x-a")), ok(acao))},
		{name: "l-underscore-name", want: "allowed", header: []string{"X_A: 1"}, route: preflighted(ok(acao, acah("x_a")), ok(acao))},
		{name: "l-method-mixed-case", want: "blocked MethodDisallowedByPreflightResponse", method: "Patch", route: preflighted(ok(acao, acam("PATCH, patch")), ok(acao))},
		{name: "l-method-mixed-case-ok", want: "allowed", method: "Patch", route: preflighted(ok(acao, acam("Patch")), ok(acao))},
		{name: "l-method-star-lower-patch", want: "allowed", method: "patch", cred: "omit", route: preflighted(ok(acao, acam("*")), ok(acao))},
		{name: "l-empty-methods-put", want: "blocked MethodDisallowedByPreflightResponse", method: "PUT", route: preflighted(ok(acao, acam("")), ok(acao))},
		{name: "l-methods-only-commas", want: "blocked MethodDisallowedByPreflightResponse", method: "PUT", route: preflighted(ok(acao, acam(" , ,")), ok(acao))},
		{name: "l-nonascii-header-list", want: "blocked InvalidAllowHeadersPreflightResponse", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("x-a, ü")), ok(acao))},

		// --- request headers: Chromium's safelist ---
		{name: "r-intervention", want: "allowed", header: []string{"Intervention: <https://x>; level=\"warning\""}, route: simple(ok(acao))},
		{name: "r-rtt", want: "allowed", header: []string{"RTT: 100"}, route: simple(ok(acao))},
		{name: "r-downlink", want: "allowed", header: []string{"Downlink: 1.5"}, route: simple(ok(acao))},
		{name: "r-ect", want: "allowed", header: []string{"ECT: 4g"}, route: simple(ok(acao))},
		{name: "r-device-memory", want: "allowed", header: []string{"Device-Memory: 8"}, route: simple(ok(acao))},
		{name: "r-viewport-width", want: "allowed", header: []string{"Viewport-Width: 1024"}, route: simple(ok(acao))},
		{name: "r-dpr-leading-dot", want: "allowed", header: []string{"DPR: .5"}, route: preflighted(ok(acao, acah("dpr")), ok(acao))},
		{name: "r-ct-space-around-slash", want: "blocked PreflightMissingAllowOriginHeader", method: "POST", header: []string{"Content-Type: text / plain"}, route: simple(ok(acao))},
		{name: "r-ct-space-after-slash", want: "blocked PreflightMissingAllowOriginHeader", method: "POST", header: []string{"Content-Type: text/ plain"}, route: simple(ok(acao))},
		{name: "r-ct-trailing-semicolon", want: "allowed", method: "POST", header: []string{"Content-Type: text/plain;"}, route: simple(ok(acao))},
		{name: "r-ct-comma-params", want: "allowed", method: "POST", header: []string{"Content-Type: text/plain;a=b,c"}, route: simple(ok(acao))},
		{name: "r-total-1024-no-accept", want: "blocked PreflightMissingAllowOriginHeader", header: totalHeaders(), route: simple(ok(acao))},
		{name: "r-total-1021-no-accept", want: "blocked PreflightMissingAllowOriginHeader", header: totalHeadersN(1021), route: simple(ok(acao))},
		{name: "r-total-1022-no-accept", want: "blocked PreflightMissingAllowOriginHeader", header: totalHeadersN(1022), route: simple(ok(acao))},
		{name: "r-total-1024-explicit-accept", want: "blocked PreflightMissingAllowOriginHeader", header: append(totalHeadersN(1020), "Accept: */*"), route: simple(ok(acao))},
		{name: "r-total-1025-explicit-accept", want: "allowed", header: append(totalHeadersN(1022), "Accept: */*"), route: preflighted(ok(acao, acah("accept,accept-language,content-language,content-type,device-memory,dpr,range,save-data,viewport-width,width")), ok(acao))},
		{name: "r-range-int64-overflow", want: "blocked PreflightMissingAllowOriginHeader", header: []string{"Range: bytes=0-99999999999999999999"}, route: simple(ok(acao))},
		{name: "r-range-int64-max", want: "blocked PreflightMissingAllowOriginHeader", header: []string{"Range: bytes=0-9223372036854775807"}, route: simple(ok(acao))},
		{name: "r-total2-1024", want: "allowed", header: total2(126), route: simple(ok(acao))},
		{name: "r-total2-1025", want: "allowed", header: total2(127), route: preflighted(ok(acao, acah("accept,accept-language,content-language,content-type,device-memory,dpr,save-data,viewport-width,width")), ok(acao))},
		{name: "r-rangeb-d10", want: "allowed", header: []string{"Range: bytes=0-9999999999"}, route: simple(ok(acao))},
		{name: "r-rangeb-d15", want: "allowed", header: []string{"Range: bytes=0-999999999999999"}, route: simple(ok(acao))},
		{name: "r-rangeb-d16", want: "allowed", header: []string{"Range: bytes=0-9999999999999999"}, route: simple(ok(acao))},
		{name: "r-rangeb-d17", want: "allowed", header: []string{"Range: bytes=0-99999999999999999"}, route: simple(ok(acao))},
		{name: "r-rangeb-d18", want: "allowed", header: []string{"Range: bytes=0-999999999999999999"}, route: simple(ok(acao))},
		{name: "r-rangeb-d19lt", want: "allowed", header: []string{"Range: bytes=0-1000000000000000000"}, route: simple(ok(acao))},
		{name: "r-rangeb-start19", want: "allowed", header: []string{"Range: bytes=1000000000000000000-"}, route: simple(ok(acao))},
		{name: "r-rangeb-start18", want: "allowed", header: []string{"Range: bytes=999999999999999999-"}, route: simple(ok(acao))},
		{name: "r-rangec-max-1", want: "allowed", header: []string{"Range: bytes=0-9223372036854775806"}, route: simple(ok(acao))},
		{name: "r-rangec-start-max", want: "blocked PreflightMissingAllowOriginHeader", header: []string{"Range: bytes=9223372036854775807-"}, route: simple(ok(acao))},
		{name: "r-rangec-start-overflow", want: "blocked PreflightMissingAllowOriginHeader", header: []string{"Range: bytes=9223372036854775808-"}, route: simple(ok(acao))},
		{name: "r-rangec-end-leading-zeros-20", want: "allowed", header: []string{"Range: bytes=0-00000000000000000001"}, route: simple(ok(acao))},
		{name: "r-range-leading-zeros", want: "allowed", header: []string{"Range: bytes=00-01"}, route: simple(ok(acao))},
		{name: "r-range-equal-space", want: "allowed", header: []string{"Range: bytes =0-1"}, route: preflighted(ok(acao, acah("range")), ok(acao))},

		// --- redirects ---
		{name: "f-302-post-json-to-get", want: "allowed", method: "POST", header: []string{"Content-Type: application/json"}, route: preflighted(ok(acao, acah("content-type")), st(302, acao, "Location: {B}/c/f-302-post-json-to-get/2")),
			more: map[string]route{"B/2": simple(ok(star))}},
		{name: "f-303-put-json-to-get", want: "allowed", method: "PUT", header: []string{"Content-Type: application/json"}, route: preflighted(ok(acao, acam("PUT"), acah("content-type")), st(303, acao, "Location: {B}/c/f-303-put-json-to-get/2")),
			more: map[string]route{"B/2": simple(ok(star))}},
		{name: "f-307-post-json-stays", want: "allowed", method: "POST", header: []string{"Content-Type: application/json"}, route: preflighted(ok(acao, acah("content-type")), st(307, acao, "Location: {B}/c/f-307-post-json-stays/2")),
			more: map[string]route{"B/2": preflighted(ok(star, acah("content-type")), ok(star))}},
		{name: "f-303-head-stays-head", want: "allowed", method: "HEAD", header: []string{"X-A: 1"}, route: preflighted(ok(acao, acah("x-a")), st(303, acao, "Location: {B}/c/f-303-head-stays-head/2")),
			more: map[string]route{"B/2": preflighted(ok(star, acah("x-a")), ok(star))}},
		{name: "f-location-tab", want: "allowed", route: simple(st(302, acao, "Location: /c/f-location-tab/\t2")), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-location-backslash", want: "allowed", route: simple(st(302, acao, `Location: /c/f-location-backslash\2`)), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-location-encoded-dotdot", want: "allowed", route: simple(st(302, acao, "Location: /c/f-location-encoded-dotdot/x/%2e%2e/2")), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-location-dotdot", want: "allowed", route: simple(st(302, acao, "Location: /c/f-location-dotdot/x/../2")), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-location-query-space", want: "allowed", route: simple(st(302, acao, "Location: /c/f-location-query-space/2?a b")), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-location-http-single-slash", want: "allowed", route: simple(st(302, acao, "Location: http:/c/f-location-http-single-slash/2")), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-location-http-no-slash", want: "allowed", route: simple(st(302, acao, "Location: http:f-location-http-no-slash/2")), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-location-pipe-blocked", want: "blocked MissingAllowOriginHeader", route: simple(st(302, acao, "Location: /c/f-location-pipe-blocked/2|x")), more: map[string]route{"A/2|x": simple(ok())}},
		{name: "f-location-nonascii-query-blocked", want: "blocked MissingAllowOriginHeader", route: simple(st(302, acao, "Location: /c/f-location-nonascii-query-blocked/2?q=é")), more: map[string]route{"A/2": simple(ok())}},
		{name: "f-location-nonascii-path-blocked", want: "blocked MissingAllowOriginHeader", route: simple(st(302, acao, "Location: /c/f-location-nonascii-path-blocked/é")), more: map[string]route{"A/é": simple(ok())}},
		{name: "f-location-ipv4-hex", want: "allowed", route: simple(st(302, acao, "Location: http://0x7f.0.0.1:{Aport}/c/f-location-ipv4-hex/2")), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-location-ipv4-decimal", want: "allowed", route: simple(st(302, acao, "Location: http://2130706433:{Aport}/c/f-location-ipv4-decimal/2")), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-location-ipv4-trailing-dot", want: "allowed", route: simple(st(302, acao, "Location: http://127.0.0.1.:{Aport}/c/f-location-ipv4-trailing-dot/2")), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-location-upper-host", want: "allowed", route: simple(st(302, acao, "Location: http://LOCALHOST:{Aport}/c/f-location-upper-host/2")), more: map[string]route{"A/2": simple(ok(star))}},
		{name: "f-location-port-leading-zero", want: "allowed", route: simple(st(302, acao, "Location: http://127.0.0.1:0{Aport}/c/f-location-port-leading-zero/2")), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-to-page-origin-page-acao", want: "blocked AllowOriginMismatch", route: simple(st(302, acao, "Location: {page}/c/f-to-page-origin-page-acao/2")), more: map[string]route{"P/2": simple(ok(aco("{page}")))}},
		{name: "f-to-page-origin-no-acao", want: "blocked MissingAllowOriginHeader", route: simple(st(302, acao, "Location: {page}/c/f-to-page-origin-no-acao/2")), more: map[string]route{"P/2": simple(ok())}},
		{name: "f-to-page-origin-null", want: "allowed", route: simple(st(302, acao, "Location: {page}/c/f-to-page-origin-null/2")), more: map[string]route{"P/2": simple(ok(aco("null")))}},
		{name: "f-301-head", want: "allowed", method: "HEAD", route: simple(st(301, acao, "Location: /c/f-301-head/2")), more: map[string]route{"A/2": simple(ok(acao))}},
		{name: "f-location-fragment-only", want: "unreachable net::ERR_TOO_MANY_REDIRECTS", route: simple(st(302, acao, "Location: #x"))},
		{name: "f-location-whitespace-only", want: "allowed", route: simple(rawResponse("302 Found", acao, "Location:   "))},
		{name: "f-location-ipv6-loopback", want: "unreachable net::ERR_CONNECTION_REFUSED", route: simple(st(302, acao, "Location: http://[::1]:{Aport}/c/f-location-ipv6-loopback/2")), more: map[string]route{"A/2": simple(ok(star))}},

		// --- TLS ---
		{name: "cert-wildcard-registry", want: "unreachable net::ERR_CERT_COMMON_NAME_INVALID", page: "https", target: "cert:wildcard-registry", route: simple(ok(acao))},
		{name: "cert-sha1", want: "unreachable net::ERR_CERT_INVALID", page: "https", target: "cert:sha1", route: simple(ok(acao))},
		{name: "cert-name-constrained", want: "unreachable net::ERR_CERT_INVALID", page: "https", target: "cert:name-constrained", route: simple(ok(acao))},
		{name: "cert-intermediate-not-ca", want: "unreachable net::ERR_CERT_INVALID", page: "https", target: "cert:intermediate-not-ca", route: simple(ok(acao))},
		{name: "cert-intermediate-client-auth", want: "unreachable net::ERR_CERT_INVALID", page: "https", target: "cert:intermediate-client-auth", route: simple(ok(acao))},
		{name: "cert-critical-extension", want: "unreachable net::ERR_CERT_INVALID", page: "https", target: "cert:critical-extension", route: simple(ok(acao))},
		{name: "cert-five-years", want: "allowed", page: "https", target: "cert:five-years", route: simple(ok(acao))},
		{name: "cert-rsa1024", want: "allowed", page: "https", target: "cert:rsa1024", route: simple(ok(acao))},
		{name: "cert-any-eku", want: "allowed", page: "https", target: "cert:any-eku", route: simple(ok(acao))},
		{name: "cert-leaf-is-ca", want: "allowed", page: "https", target: "cert:leaf-is-ca", route: simple(ok(acao))},
		{name: "cert-trailing-dot", want: "allowed", page: "https", target: "cert:trailing-dot", route: simple(ok(acao))},
		{name: "cert-expired-intermediate", want: "unreachable net::ERR_CERT_DATE_INVALID", page: "https", target: "cert:expired-intermediate", route: simple(ok(acao))},
		{name: "cert-rsa2048", want: "allowed", page: "https", target: "cert:rsa2048", route: simple(ok(acao))},
		{name: "f-location-idn-host-blocked", want: "blocked MissingAllowOriginHeader", route: simple(st(302, acao, "Location: http://bücher.localhost:{Aport}/c/f-location-idn-host-blocked/2")), more: map[string]route{"A/2": simple(ok())}},
		{name: "f-location-upper-host-blocked", want: "blocked MissingAllowOriginHeader", route: simple(st(302, acao, "Location: http://LOCALHOST:{Aport}/c/f-location-upper-host-blocked/2")), more: map[string]route{"A/2": simple(ok())}},
		{name: "f-http-to-https-to-http", want: "allowed", route: simple(st(302, acao, "Location: {S}/c/f-http-to-https-to-http/2")), more: map[string]route{"S/2": simple(st(307, aco("null"), "Location: {A}/c/f-http-to-https-to-http/3")), "A/3": simple(ok(aco("null")))}},
		{name: "s-junk-4-bytes", want: "allowed", route: simple(rawBytes("abcdHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "s-junk-5-bytes", want: "unreachable net::ERR_INVALID_HTTP_RESPONSE", route: simple(rawBytes("abcdeHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))},
		{name: "z-acah-empty-line-and-name", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(rawResponse("200 OK", acao, "Access-Control-Allow-Headers:", "Access-Control-Allow-Headers: x-a"), ok(acao))},
		{name: "z-location-ipv6-zone", want: "unreachable net::ERR_INVALID_REDIRECT", route: simple(st(302, acao, "Location: http://[fe80::1%25eth0]:{Aport}/c/z-location-ipv6-zone/2")), more: map[string]route{"A/2": simple(ok(star))}},
		{name: "z-location-double-backslash-host", want: "allowed", route: simple(st(302, acao, `Location: \\{Bhost}\c\z-location-double-backslash-host\2`)), more: map[string]route{"B/2": simple(ok(star))}},
		{name: "z-pre-100-then-200-plain", want: "allowed", header: []string{"X-A: 1"}, route: preflighted(rawBytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nAccess-Control-Allow-Headers: x-a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), ok(acao))},
		// --- head size ---
		{name: "g-head-262144", want: "allowed", route: simple(padded(262144))},
		{name: "g-head-262145", want: "unreachable net::ERR_RESPONSE_HEADERS_TOO_BIG", route: simple(padded(262145))},
		{name: "g-head-264000", want: "unreachable net::ERR_RESPONSE_HEADERS_TOO_BIG", route: simple(padded(264000))},
		{name: "g-head-270000", want: "unreachable net::ERR_RESPONSE_HEADERS_TOO_BIG", route: simple(padded(270000))},

		// --- coalesced header values ---
		{name: "h-content-length-comma-different", want: "unreachable net::ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH", route: simple(rawBytes("HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2,3\r\nConnection: close\r\n\r\nok"))},
		{name: "h-content-length-comma-same", want: "allowed", route: simple(rawBytes("HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: {origin}\r\nContent-Length: 2, 2\r\nConnection: close\r\n\r\nok"))},
		{name: "h-disposition-unquoted-comma", want: "unreachable net::ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_DISPOSITION", route: simple(rawResponse("200 OK", acao, "Content-Disposition: attachment; filename=a,b.csv"))},
		{name: "h-disposition-quoted-comma", want: "allowed", route: simple(rawResponse("200 OK", acao, `Content-Disposition: attachment; filename="a,b.csv"`))},
		{name: "h-location-comma-200", want: "allowed", route: simple(rawResponse("200 OK", acao, "Location: /a,/b"))},
	}
}

// padded is a response whose head is exactly n bytes.
func padded(n int) reply {
	fixed := "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
	pad := n - len(fixed) - len("X-Pad: \r\n")
	return rawBytes("HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nX-Pad: " + strings.Repeat("a", pad) + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
}

// totalHeadersN are safelisted headers whose values add up to n (n >= 1000).
func totalHeadersN(n int) []string {
	h := totalHeaders()
	cut := 1024 - n
	h[len(h)-1] = "Viewport-Width: " + strings.Repeat("1", 126-cut)
	return h
}

func total2(vw int) []string {
	d := strings.Repeat("1", 128)
	return []string{"Accept: " + strings.Repeat("a", 128), "Accept-Language: " + strings.Repeat("a", 128), "Content-Language: " + strings.Repeat("b", 128),
		"Content-Type: text/plain;" + strings.Repeat("c", 117), "DPR: " + d, "Width: " + d, "Save-Data: on", "Device-Memory: " + d, "Viewport-Width: " + d[:vw]}
}

// totalHeaders are safelisted headers (each at most 128 bytes) whose values add up to 1024.
func totalHeaders() []string {
	d := strings.Repeat("1", 128)
	return []string{
		"Accept-Language: " + strings.Repeat("a", 128),
		"Content-Language: " + strings.Repeat("b", 128),
		"Content-Type: text/plain;" + strings.Repeat("c", 117),
		"Range: bytes=0-" + strings.Repeat("9", 128-len("bytes=0-")),
		"DPR: " + d,
		"Width: " + d,
		"Save-Data: on",
		"Device-Memory: " + d,
		"Viewport-Width: " + d[:126],
	}
}
