package cors_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/corsquickcheck/corscheck/server/cors"
)

func TestIsSafelistedHeader(t *testing.T) {
	long := strings.Repeat("a", 128)
	tests := []struct {
		name, header, value string
		want                bool
	}{
		{"accept plain", "Accept", "application/json", true},
		{"accept any case name", "ACCEPT", "*/*", true},
		{"accept 128 bytes", "Accept", long, true},
		{"accept 129 bytes", "Accept", long + "a", false},
		{"accept tab allowed", "Accept", "a\tb", true},
		{"accept unsafe quote", "Accept", `text/html; q="1"`, false},
		{"accept unsafe colon", "Accept", "a:b", false},
		{"accept unsafe DEL", "Accept", "a\x7f", false},
		{"accept unsafe control", "Accept", "a\x01", false},
		{"accept unsafe braces", "Accept", "{}", false},
		{"accept empty", "Accept", "", true},
		{"accept-language ok", "Accept-Language", "en-US,en;q=0.9, *", true},
		{"accept-language underscore", "Accept-Language", "en_US", false},
		{"accept-language slash", "Accept-Language", "en/us", false},
		{"accept-language non-ASCII", "Accept-Language", "fr-ç", false},
		{"content-language ok", "Content-Language", "de-CH", true},
		{"content-language tab", "Content-Language", "de\tCH", false},
		{"content-language 129 bytes", "Content-Language", long + "a", false},
		{"content-type text/plain", "Content-Type", "text/plain", true},
		{"content-type upper case", "Content-Type", "TEXT/PLAIN", true},
		{"content-type form", "Content-Type", "application/x-www-form-urlencoded", true},
		{"content-type multipart with boundary", "Content-Type", "multipart/form-data; boundary=----x", true},
		{"content-type padded", "Content-Type", " text/plain ;charset=utf-8", true},
		{"content-type json", "Content-Type", "application/json", false},
		{"content-type xml", "Content-Type", "text/xml", false},
		{"content-type space before slash", "Content-Type", "text /plain", false},
		{"content-type space after slash", "Content-Type", "text/ plain", false},
		{"content-type no subtype", "Content-Type", "text/", false},
		{"content-type no slash", "Content-Type", "text", false},
		{"content-type unsafe quote in parameter", "Content-Type", `text/plain; charset="utf-8"`, false},
		{"content-type unsafe byte", "Content-Type", "text/plain; a=(b)", false},
		{"content-type two types", "Content-Type", "text/plain, application/json", false},
		{"range open end", "Range", "bytes=0-", true},
		{"range closed", "Range", "bytes=10-20", true},
		{"range start equals end", "Range", "bytes=5-5", true},
		{"range leading zeros", "Range", "bytes=010-10", true},
		{"range suffix", "Range", "bytes=-500", false},
		{"range end before start", "Range", "bytes=20-10", false},
		{"range list", "Range", "bytes=0-1,2-3", false},
		{"range spaces", "Range", "bytes= 0-1", false},
		{"range upper case unit", "Range", "Bytes=0-", false},
		{"range other unit", "Range", "items=0-", false},
		{"range no dash", "Range", "bytes=5", false},
		{"chromium dpr", "DPR", "2.0", true},
		{"chromium dpr bad", "DPR", "2.", false},
		{"chromium width", "Width", "800", true},
		{"chromium width decimal", "Width", "8.5", false},
		{"chromium save-data", "Save-Data", "ON", true},
		{"chromium save-data off", "Save-Data", "off", false},
		{"other name", "X-Requested-With", "XMLHttpRequest", false},
		{"authorization", "Authorization", "Bearer t", false},
		{"cache-control", "Cache-Control", "no-cache", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cors.IsSafelistedHeader(tc.header, tc.value); got != tc.want {
				t.Errorf("IsSafelistedHeader(%q, %q) = %v, want %v", tc.header, tc.value, got, tc.want)
			}
		})
	}
}

func TestUnsafeHeaderNames(t *testing.T) {
	v128 := strings.Repeat("1", 128)
	tests := []struct {
		name   string
		header []cors.Header
		want   []string
	}{
		{name: "none"},
		{name: "safelisted only", header: []cors.Header{{"Accept", "x"}, {"Content-Type", "text/plain"}}},
		{name: "sorted lower-case unique",
			header: []cors.Header{{"X-B", "1"}, {"x-a", "1"}, {"X-B", "2"}, {"Accept", "y"}, {"Content-Type", "application/json"}},
			want:   []string{"content-type", "x-a", "x-b"}},
		{name: "safelisted name with an unsafe value", header: []cors.Header{{"Accept", "a\"b"}}, want: []string{"accept"}},
		{
			// Nine safelisted headers of 128 bytes and one of 2: 1154 bytes in total, more than
			// 1024, so every name becomes unsafe. fetch() can send all of them (distinct names).
			name: "safelisted values above 1024 bytes in total",
			header: []cors.Header{
				{"Accept", v128}, {"Accept-Language", v128}, {"Content-Language", v128},
				{"Content-Type", "text/plain;a=" + v128[:115]}, {"Range", "bytes=" + v128[:121] + "-"},
				{"Device-Memory", v128}, {"DPR", v128}, {"Width", v128}, {"Viewport-Width", v128}, {"Save-Data", "on"},
			},
			want: []string{"accept", "accept-language", "content-language", "content-type", "device-memory", "dpr", "range", "save-data", "viewport-width", "width"},
		},
		{
			// Repeated names count each line (Fetch sees the list before CombineHeaders does).
			name:   "exactly 1024 bytes stays safelisted",
			header: []cors.Header{{"Accept", v128}, {"Accept-Language", v128}, {"Content-Language", v128}, {"Device-Memory", v128}, {"DPR", v128}, {"Width", v128}, {"Viewport-Width", v128}, {"Accept", v128}, {"X-Z", "1"}},
			want:   []string{"x-z"},
		},
		{
			name:   "1026 bytes",
			header: []cors.Header{{"Accept", v128}, {"Accept-Language", v128}, {"Content-Language", v128}, {"Device-Memory", v128}, {"DPR", v128}, {"Width", v128}, {"Viewport-Width", v128}, {"Accept", v128}, {"Save-Data", "on"}},
			want:   []string{"accept", "accept-language", "content-language", "device-memory", "dpr", "save-data", "viewport-width", "width"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, h := range tc.header {
				if len(h.Value) > 128 {
					t.Fatalf("test value of %s is %d bytes", h.Name, len(h.Value))
				}
			}
			got := cors.UnsafeHeaderNames(tc.header)
			if !slices.Equal(got, tc.want) {
				t.Errorf("UnsafeHeaderNames = %q, want %q", got, tc.want)
			}
			if cors.NeedsPreflight("GET", tc.header) != (len(tc.want) > 0) {
				t.Errorf("NeedsPreflight(GET) = %v", !(len(tc.want) > 0))
			}
		})
	}
}

// TestSafelistedTotalAfterCombining: the 1024-byte total is reachable through fetch() itself:
// CombineHeaders joins repeated names, and the combined safelisted headers count.
func TestSafelistedTotalAfterCombining(t *testing.T) {
	v := strings.Repeat("1", 128)
	in := []cors.Header{
		{"Accept", "a"}, {"Accept-Language", v}, {"Content-Language", v}, {"Device-Memory", v},
		{"DPR", v}, {"Width", v}, {"Viewport-Width", v}, {"Content-Type", "text/plain;x=" + v[:115]}, {"RTT", v}, {"accept", "b"},
	}
	kept, dropped := cors.CombineHeaders(in)
	if len(dropped) != 0 || len(kept) != 9 {
		t.Fatalf("kept %d, dropped %d", len(kept), len(dropped))
	}
	total := 0
	for _, h := range kept {
		total += len(h.Value)
	}
	if total <= 1024 {
		t.Fatalf("test setup: total %d must exceed 1024", total)
	}
	if got := cors.UnsafeHeaderNames(kept); len(got) != 9 {
		t.Errorf("UnsafeHeaderNames = %q, want all 9 names", got)
	}
}

func TestNormalizeMethod(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "get", want: "GET"}, {in: "Get", want: "GET"}, {in: "head", want: "HEAD"}, {in: "post", want: "POST"},
		{in: "put", want: "PUT"}, {in: "delete", want: "DELETE"}, {in: "options", want: "OPTIONS"}, {in: "oPtIoNs", want: "OPTIONS"},
		{in: "patch", want: "patch"}, {in: "PATCH", want: "PATCH"}, {in: "Patch", want: "Patch"}, {in: "propfind", want: "propfind"},
		{in: "CONNECT", wantErr: true}, {in: "connect", wantErr: true}, {in: "trace", wantErr: true}, {in: "Track", wantErr: true},
		{in: "", wantErr: true}, {in: "GE T", wantErr: true}, {in: "GET\n", wantErr: true}, {in: "(GET)", wantErr: true}, {in: "GÉT", wantErr: true},
		{in: "M-SEARCH", want: "M-SEARCH"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := cors.NormalizeMethod(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("NormalizeMethod(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
	for _, m := range []string{"GET", "HEAD", "POST"} {
		if !cors.IsSafelistedMethod(m) {
			t.Errorf("IsSafelistedMethod(%s) = false", m)
		}
	}
	for _, m := range []string{"get", "PUT", "OPTIONS", "PATCH", "patch"} {
		if cors.IsSafelistedMethod(m) {
			t.Errorf("IsSafelistedMethod(%s) = true", m)
		}
	}
}

func TestIsForbiddenHeader(t *testing.T) {
	tests := []struct {
		name, value string
		want        bool
	}{
		{"Cookie", "a=b", true}, {"origin", "x", true}, {"Referer", "x", true}, {"Host", "x", true},
		{"Content-Length", "1", true}, {"Accept-Encoding", "gzip", true}, {"Connection", "close", true},
		{"Proxy-Authorization", "x", true}, {"proxy-anything", "x", true}, {"Sec-Fetch-Mode", "cors", true},
		{"Sec-CH-UA", "x", true}, {"Access-Control-Request-Headers", "x", true}, {"User-Agent", "x", true},
		{"X-HTTP-Method-Override", "TRACE", true}, {"X-Method-Override", "get, connect", true},
		{"X-HTTP-Method", " track ", true}, {"X-HTTP-Method-Override", "PUT", false},
		{"Authorization", "Bearer t", false}, {"X-Requested-With", "XMLHttpRequest", false},
		{"Content-Type", "application/json", false}, {"Proxy", "x", false}, {"Secret", "x", false},
	}
	for _, tc := range tests {
		if got := cors.IsForbiddenHeader(tc.name, tc.value); got != tc.want {
			t.Errorf("IsForbiddenHeader(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
		}
	}
}

func TestCombineHeaders(t *testing.T) {
	in := []cors.Header{
		{"X-A", "1"}, {"Cookie", "s=1"}, {"Accept", "text/html"}, {"x-a", "2"}, {"Sec-Fetch-Site", "none"},
		{"User-Agent", "probe"}, {"X-A", ""}, {"Origin", "https://evil.example"}, {"accept", "*/*"},
	}
	kept, dropped := cors.CombineHeaders(in)
	wantKept := []cors.Header{{"X-A", "1, 2, "}, {"Accept", "text/html, */*"}}
	wantDropped := []cors.Header{{"Cookie", "s=1"}, {"Sec-Fetch-Site", "none"}, {"User-Agent", "probe"}, {"Origin", "https://evil.example"}}
	if !slices.Equal(kept, wantKept) {
		t.Errorf("kept = %q, want %q", kept, wantKept)
	}
	if !slices.Equal(dropped, wantDropped) {
		t.Errorf("dropped = %q, want %q", dropped, wantDropped)
	}
	// The input is not modified.
	if in[0].Value != "1" {
		t.Errorf("input modified: %q", in[0])
	}
}

func TestValidateHeader(t *testing.T) {
	tests := []struct {
		name, value, want string
		wantErr           bool
	}{
		{name: "X-A", value: "  v \t", want: "v"},
		{name: "X-A", value: "a b", want: "a b"},
		{name: "X-A", value: "\r\nv\r\n", want: "v"},
		{name: "X-A", value: "a\nb", wantErr: true},
		{name: "X-A", value: "a\rb", wantErr: true},
		{name: "X-A", value: "a\x00b", wantErr: true},
		{name: "X A", value: "v", wantErr: true},
		{name: "", value: "v", wantErr: true},
		{name: "X:A", value: "v", wantErr: true},
	}
	for _, tc := range tests {
		got, err := cors.ValidateHeader(tc.name, tc.value)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ValidateHeader(%q, %q) = %q, %v; want %q, error %v", tc.name, tc.value, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseCredentials(t *testing.T) {
	for _, s := range []string{"omit", "same-origin", "include"} {
		if c, err := cors.ParseCredentials(s); err != nil || string(c) != s {
			t.Errorf("ParseCredentials(%q) = %q, %v", s, c, err)
		}
	}
	for _, s := range []string{"", "Include", "true", "same_origin"} {
		if _, err := cors.ParseCredentials(s); err == nil {
			t.Errorf("ParseCredentials(%q) accepted", s)
		}
	}
}

func TestRequestValidate(t *testing.T) {
	valid := func() cors.Request {
		return cors.Request{URL: mustURL(t, target), Origin: page, Method: "GET", Credentials: cors.Include,
			Header: []cors.Header{{"Authorization", "Bearer t"}}}
	}
	tests := []struct {
		name    string
		edit    func(*cors.Request)
		wantErr string // "" when valid
	}{
		{name: "valid", edit: func(*cors.Request) {}},
		{name: "null origin", edit: func(r *cors.Request) { r.Origin = "null" }},
		{name: "patch stays lower case", edit: func(r *cors.Request) { r.Method = "patch" }},
		{name: "no URL", edit: func(r *cors.Request) { r.URL = nil }, wantErr: "absolute http"},
		{name: "ftp URL", edit: func(r *cors.Request) { r.URL = mustURL(t, "ftp://cuic.example/") }, wantErr: "absolute http"},
		{name: "relative URL", edit: func(r *cors.Request) { r.URL = mustURL(t, "/cuic/rest") }, wantErr: "absolute http"},
		{name: "origin with path", edit: func(r *cors.Request) { r.Origin = page + "/desktop" }, wantErr: "not serialized"},
		{name: "origin with default port", edit: func(r *cors.Request) { r.Origin = "https://finesse.example:443" }, wantErr: "not serialized"},
		{name: "origin upper case", edit: func(r *cors.Request) { r.Origin = "https://FINESSE.example" }, wantErr: "not serialized"},
		{name: "origin Null", edit: func(r *cors.Request) { r.Origin = "Null" }, wantErr: "origin"},
		{name: "origin empty", edit: func(r *cors.Request) { r.Origin = "" }, wantErr: "empty"},
		{name: "method not normalized", edit: func(r *cors.Request) { r.Method = "get" }, wantErr: "not normalized"},
		{name: "method forbidden", edit: func(r *cors.Request) { r.Method = "TRACE" }, wantErr: "forbidden"},
		{name: "no credentials mode", edit: func(r *cors.Request) { r.Credentials = "" }, wantErr: "credentials"},
		{name: "bad header name", edit: func(r *cors.Request) { r.Header = append(r.Header, cors.Header{"X A", "1"}) }, wantErr: "token"},
		{name: "header with newline", edit: func(r *cors.Request) { r.Header = append(r.Header, cors.Header{"X-A", "1\n2"}) }, wantErr: "CR or LF"},
		{name: "several errors", edit: func(r *cors.Request) { r.Method = "get"; r.Credentials = "x" }, wantErr: "credentials \"x\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.edit(&r)
			err := r.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
