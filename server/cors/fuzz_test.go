package cors_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// Fuzz targets for the parsers. Run one with
//
//	go test -run='^$' -fuzz=FuzzParseOrigin -fuzztime=20s ./server/cors/
//
// Without -fuzz, `go test` runs the seeds below as ordinary tests.

func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{
		"https://finesse.example:8445", "HTTPS://CUIC.Example:443/x?y#z", "null", "Null", "", " ",
		"http://[::1]:80", "https://[::ffff:1.2.3.4]", "https://[fe80::1%25eth0]", "https://bücher.example",
		"https://xn--bcher-kva.example", "https://user:pw@a.example", "https://a.example:65536",
		"https://a.example:0443", "ftp://a.example", "https:a.example", "//a.example", "https://a_b.example",
		"https://a..b", "https://a.example.", "https://%41.example", "https://1.2.3", "https://0x7f.1",
		"https://\u00df.example", "https://\u200d.example", "https://a\u3002example", "https://xn--.example",
		"https://[::]:0", "http://a:b@c", "https://a.example:/", "https://-a-.example", "javascript:alert(1)",
		"HTTP://\x86", "https://%86.example", "http://Xn--", "https://a.xn--.b",
	} {
		f.Add(s)
	}
	f.Add("http://0\u00fc" + strings.Repeat("0", 1000))
	f.Fuzz(func(t *testing.T, s string) {
		o, err := cors.ParseOrigin(s)
		if err != nil {
			if o != "" {
				t.Errorf("ParseOrigin(%q) = %q with error %v", s, o, err)
			}
			return
		}
		if o == cors.NullOrigin {
			return
		}
		again, err := cors.ParseOrigin(o)
		if err != nil || again != o {
			t.Fatalf("ParseOrigin(%q) = %q, which parses to %q, %v", s, o, again, err)
		}
		if o != strings.ToLower(o) {
			t.Errorf("ParseOrigin(%q) = %q, not lower case", s, o)
		}
		scheme, rest, ok := strings.Cut(o, "://")
		if !ok || (scheme != "http" && scheme != "https") {
			t.Errorf("ParseOrigin(%q) = %q, bad scheme", s, o)
		}
		if rest == "" || strings.ContainsAny(rest, "/@?#\\ \t\r\n") {
			t.Errorf("ParseOrigin(%q) = %q: path, userinfo or whitespace left", s, o)
		}
		if strings.HasSuffix(o, ":443") && scheme == "https" || strings.HasSuffix(o, ":80") && scheme == "http" {
			t.Errorf("ParseOrigin(%q) = %q keeps the default port", s, o)
		}
	})
}

// checkNames checks the contract of UnsafeHeaderNames: sorted, unique, lower case, and every name
// one of the input's.
func checkNames(t *testing.T, in []cors.Header, got []string) {
	t.Helper()
	from := map[string]bool{}
	for _, h := range in {
		from[strings.ToLower(h.Name)] = true
	}
	if !slices.IsSorted(got) {
		t.Errorf("names %q not sorted", got)
	}
	if len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("names %q not unique", got)
	}
	for _, n := range got {
		if n != strings.ToLower(n) {
			t.Errorf("name %q not lower case", n)
		}
		if !from[n] {
			t.Errorf("name %q not in the input %q", n, in)
		}
	}
}

func FuzzUnsafeHeaderNames(f *testing.F) {
	f.Add("X-A", "1", "Accept", "*/*", "x-a", "2")
	f.Add("Content-Type", "text/plain", "Content-Type", "application/json", "Range", "bytes=-5")
	f.Add("Accept", strings.Repeat("a", 128), "Accept-Language", strings.Repeat("b", 128), "DPR", strings.Repeat("1", 128))
	f.Add("AUTHORIZATION", "Bearer x", "Save-Data", "on", "Width", "12.5")
	f.Add("Ä", "x", "İ", "y", "\xff", "\x00")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2, n3, v3 string) {
		in := []cors.Header{{n1, v1}, {n2, v2}, {n3, v3}}
		// Repeat the input so that the 1024-byte total is within reach.
		in = append(in, in...)
		in = append(in, in...)
		got := cors.UnsafeHeaderNames(in)
		checkNames(t, in, got)
		for _, h := range in {
			if !cors.IsSafelistedHeader(h.Name, h.Value) && !slices.Contains(got, strings.ToLower(h.Name)) {
				t.Errorf("%q: %q is not safelisted but not in %q", h.Name, h.Value, got)
			}
		}
		acrh, _ := headerValue(cors.PreflightHeader("GET", in, cors.NullOrigin), "Access-Control-Request-Headers")
		if acrh != strings.Join(got, ",") {
			t.Errorf("ACRH %q, names %q", acrh, got)
		}
	})
}

func FuzzIsSafelistedHeader(f *testing.F) {
	for _, s := range [][2]string{
		{"Accept", "*/*"}, {"Accept-Language", "en-US,en;q=0.9"}, {"Content-Language", "de"},
		{"Content-Type", "multipart/form-data; boundary=x"}, {"Content-Type", " text/plain ; charset=\"x\""},
		{"Range", "bytes=0-"}, {"Range", "bytes=99-1"}, {"Range", "bytes=00000000000000000000000000001-2"},
		{"DPR", "1.5"}, {"Width", "0"}, {"Save-Data", "ON"}, {"X-A", "1"}, {"accept", strings.Repeat("x", 129)},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		safe := cors.IsSafelistedHeader(name, value)
		if safe != cors.IsSafelistedHeader(strings.ToUpper(name), value) || safe != cors.IsSafelistedHeader(strings.ToLower(name), value) {
			t.Errorf("IsSafelistedHeader(%q, %q) depends on the name's case", name, value)
		}
		if safe && len(value) > 128 {
			t.Errorf("IsSafelistedHeader(%q, %d bytes) = true", name, len(value))
		}
		if safe {
			switch strings.ToLower(name) {
			case "accept", "accept-language", "content-language", "content-type", "range",
				"device-memory", "dpr", "width", "viewport-width", "save-data":
			default:
				t.Errorf("IsSafelistedHeader(%q, %q) = true for a name that is never safelisted", name, value)
			}
		}
		in := []cors.Header{{name, value}}
		got := cors.UnsafeHeaderNames(in)
		checkNames(t, in, got)
		if safe != (len(got) == 0) {
			t.Errorf("IsSafelistedHeader = %v but UnsafeHeaderNames = %q", safe, got)
		}
	})
}

// FuzzCheckPreflight feeds random Access-Control-Allow-Methods and -Headers values to
// CheckPreflight, which parses them as lists of tokens.
func FuzzCheckPreflight(f *testing.F) {
	for _, s := range [][3]string{
		{"GET, PUT", "x-a", "PUT"}, {"GET,,PUT", "x-a, ", "PUT"}, {"*", "*", "PATCH"}, {"P UT", "x-a", "PUT"},
		{"PUT", "x a", "PUT"}, {"PUT", "x-a,\tx-b", "PUT"}, {"", "", "DELETE"}, {" , ", ",", "PUT"},
		{"PUT\x00", "x-a", "PUT"}, {"put", "X-A", "put"}, {"PUT", "x-a\r\n", "PUT"}, {"PUT", "\"x-a\"", "PUT"},
	} {
		f.Add(s[0], s[1], s[2], false)
		f.Add(s[0], s[1], s[2], true)
	}
	f.Fuzz(func(t *testing.T, acam, acah, method string, include bool) {
		cred := cors.Omit
		if include {
			cred = cors.Include
		}
		resp := &cors.Response{Status: 204, Header: http.Header{
			"Access-Control-Allow-Origin":      {page},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Allow-Methods":     {acam},
			"Access-Control-Allow-Headers":     {acah},
		}}
		h := []cors.Header{{"X-A", "1"}, {"Authorization", "x"}}
		fail, _ := cors.CheckPreflight(resp, page, method, h, cred)
		if hasSpaceInElement(acam) {
			if fail == nil || fail.Reason != cors.InvalidAllowMethodsPreflightResponse {
				t.Fatalf("ACAM %q: failure %+v, want %s", acam, fail, cors.InvalidAllowMethodsPreflightResponse)
			}
			return
		}
		if fail != nil && fail.Reason == cors.InvalidAllowMethodsPreflightResponse {
			if allTokens(acam) {
				t.Fatalf("ACAM %q of tokens refused", acam)
			}
			return
		}
		if hasSpaceInElement(acah) {
			if fail == nil || fail.Reason != cors.InvalidAllowHeadersPreflightResponse {
				t.Fatalf("ACAH %q: failure %+v, want %s", acah, fail, cors.InvalidAllowHeadersPreflightResponse)
			}
			return
		}
		if fail != nil && fail.Reason == cors.InvalidAllowHeadersPreflightResponse && allTokens(acah) {
			t.Fatalf("ACAH %q of tokens refused", acah)
		}
		if fail == nil && !allTokens(acam) {
			t.Fatalf("ACAM %q accepted", acam)
		}
		if fail == nil && !allTokens(acah) {
			t.Fatalf("ACAH %q accepted", acah)
		}
		if fail != nil {
			switch fail.Reason {
			case cors.InvalidAllowMethodsPreflightResponse, cors.InvalidAllowHeadersPreflightResponse,
				cors.MethodDisallowedByPreflightResponse, cors.HeaderDisallowedByPreflightResponse:
			default:
				t.Fatalf("unexpected failure %+v", fail)
			}
		}
	})
}

// elements splits a list value as a browser does: on commas, each element trimmed of spaces and
// tabs, empty elements skipped.
func elements(v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.Trim(e, " \t"); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func hasSpaceInElement(v string) bool {
	for _, e := range elements(v) {
		if strings.ContainsAny(e, " \t") {
			return true
		}
	}
	return false
}

func allTokens(v string) bool {
	for _, e := range elements(v) {
		for i := 0; i < len(e); i++ {
			c := e[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
				return false
			}
		}
	}
	return true
}
