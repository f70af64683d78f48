package cors_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/corsquickcheck/corscheck/server/cors"
)

func TestResponseGet(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string // values of X-A, in order
		want   string
		wantOK bool
	}{
		{name: "absent"},
		{name: "one line", lines: []string{"a"}, want: "a", wantOK: true},
		{name: "empty line", lines: []string{""}, want: "", wantOK: true},
		{name: "two lines joined with comma space", lines: []string{"a", "b"}, want: "a, b", wantOK: true},
		{name: "lines trimmed of spaces and tabs", lines: []string{"  a\t", "\tb "}, want: "a, b", wantOK: true},
		{name: "inner whitespace kept", lines: []string{"a  b", "c,d"}, want: "a  b, c,d", wantOK: true},
		{name: "empty lines kept", lines: []string{"a", "", "b"}, want: "a, , b", wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &cors.Response{Status: 200, Header: http.Header{}}
			for _, l := range tc.lines {
				r.Header.Add("x-a", l)
			}
			got, ok := r.Get("X-A")
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("Get = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
			if got2, _ := r.Get("x-a"); got2 != got {
				t.Errorf("Get is case-sensitive: %q vs %q", got2, got)
			}
		})
	}
}

func TestResponseLocation(t *testing.T) {
	base := mustURL(t, target)
	tests := []struct {
		name     string
		status   int
		location string
		want     string // "" when not a redirect
		wantErr  bool
	}{
		{name: "302 absolute", status: 302, location: other, want: other},
		{name: "301 relative", status: 301, location: "../x?y", want: "https://cuic.example:8444/cuic/x?y"},
		{name: "303 fragment kept (never sent)", status: 303, location: "/a#frag", want: "https://cuic.example:8444/a#frag"},
		{name: "empty user info dropped", status: 302, location: "https://@a.example/x", want: "https://a.example/x"},
		{name: "empty user and password dropped", status: 302, location: "https://:@a.example/x", want: "https://a.example/x"},
		{name: "user name kept", status: 302, location: "https://u:@a.example/x", want: "https://u@a.example/x"},
		{name: "as browsers read it", status: 302, location: "\\\\a.example\\x/%2e%2e/y?q r\t#f", want: "https://a.example/y?q%20r#f"},
		{name: "numeric IPv4 host", status: 302, location: "http://0x7f.0.0.1:8080/x", want: "http://127.0.0.1:8080/x"},
		{name: "no host", status: 302, location: "http://:80/x", wantErr: true},
		{name: "port out of range", status: 302, location: "http://a.example:99999/x", wantErr: true},
		{name: "broken IPv6", status: 302, location: "http://[::1/x", wantErr: true},
		{name: "other schemes are returned", status: 302, location: "ftp://a.example/x", want: "ftp://a.example/x"},
		{name: "307", status: 307, location: "//other.example/", want: "https://other.example/"},
		{name: "308", status: 308, location: "https://a.example", want: "https://a.example/"},
		{name: "300 is not followed", status: 300, location: other},
		{name: "304 is not followed", status: 304, location: other},
		{name: "200 with Location", status: 200, location: other},
		{name: "302 without Location", status: 302},
		{name: "302 with a bad Location", status: 302, location: "https://a.example:x/", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &cors.Response{Status: tc.status, Header: http.Header{}}
			if tc.location != "" {
				r.Header.Set("Location", tc.location)
			}
			u, err := r.Location(base)
			if (err != nil) != tc.wantErr || (err != nil && err != cors.ErrInvalidRedirect) {
				t.Fatalf("Location error = %v, want error %v (ErrInvalidRedirect)", err, tc.wantErr)
			}
			got := ""
			if u != nil {
				got = u.String()
			}
			if got != tc.want {
				t.Errorf("Location = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestWildcards is the `*` matrix of ACAO, ACAM and ACAH with and without credentials.
func TestWildcards(t *testing.T) {
	tests := []struct {
		name   string
		cred   cors.Credentials
		method string
		header []string
		resp   []string
		reason cors.Reason // "" when allowed
		param  string
	}{
		{name: "ACAO star, omit", cred: cors.Omit, method: "PUT", resp: []string{acaoStar, "Access-Control-Allow-Methods: PUT"}},
		{name: "ACAO star, same-origin mode", cred: cors.SameOrigin, method: "PUT", resp: []string{acaoStar, "Access-Control-Allow-Methods: PUT"}},
		{name: "ACAO star, include", cred: cors.Include, method: "PUT", resp: []string{acaoStar, acacTrue, "Access-Control-Allow-Methods: PUT"},
			reason: cors.PreflightWildcardOriginNotAllowed},
		{name: "ACAM star, omit", cred: cors.Omit, method: "PATCH", resp: []string{acaoPage, "Access-Control-Allow-Methods: *"}},
		{name: "ACAM star, include", cred: cors.Include, method: "PATCH", resp: []string{acaoPage, acacTrue, "Access-Control-Allow-Methods: *"},
			reason: cors.MethodDisallowedByPreflightResponse, param: "PATCH"},
		{name: "ACAM literal star method, include", cred: cors.Include, method: "*", resp: []string{acaoPage, acacTrue, "Access-Control-Allow-Methods: *"}},
		{name: "ACAM star does not matter for safelisted, include", cred: cors.Include, method: "POST", header: []string{"X-A: 1"},
			resp: []string{acaoPage, acacTrue, "Access-Control-Allow-Headers: x-a"}},
		{name: "ACAH star, omit", cred: cors.Omit, method: "GET", header: []string{"X-A: 1", "Content-Type: application/json"},
			resp: []string{acaoPage, "Access-Control-Allow-Headers: *"}},
		{name: "ACAH star, include", cred: cors.Include, method: "GET", header: []string{"X-A: 1"},
			resp: []string{acaoPage, acacTrue, "Access-Control-Allow-Headers: *"}, reason: cors.HeaderDisallowedByPreflightResponse, param: "x-a"},
		{name: "ACAH star covers Authorization, omit (Chromium)", cred: cors.Omit, method: "GET", header: []string{"Authorization: Basic x"},
			resp: []string{acaoPage, "Access-Control-Allow-Headers: *"}},
		{name: "ACAH star and name, include", cred: cors.Include, method: "GET", header: []string{"Authorization: Basic x"},
			resp: []string{acaoPage, acacTrue, "Access-Control-Allow-Headers: *, Authorization"}},
		{name: "ACAH case-insensitive", cred: cors.Omit, method: "GET", header: []string{"x-requested-with: 1"},
			resp: []string{acaoPage, "Access-Control-Allow-Headers: X-Requested-With"}},
		{name: "ACAM case-sensitive for PUT", cred: cors.Omit, method: "PUT", resp: []string{acaoPage, "Access-Control-Allow-Methods: put"},
			reason: cors.MethodDisallowedByPreflightResponse, param: "PUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := res(204, tc.resp...).resp
			f, _ := cors.CheckPreflight(resp, page, tc.method, headers(t, tc.header...), tc.cred)
			switch {
			case tc.reason == "" && f != nil:
				t.Errorf("CheckPreflight = %s %q, want allowed", f.Reason, f.FailedParameter)
			case tc.reason != "" && (f == nil || f.Reason != tc.reason || f.FailedParameter != tc.param):
				t.Errorf("CheckPreflight = %+v, want %s %q", f, tc.reason, tc.param)
			}
		})
	}
}

func TestCheckPreflightWarnsAboutAuthorizationWildcard(t *testing.T) {
	resp := res(204, acaoPage, "Access-Control-Allow-Headers: *").resp
	f, ws := cors.CheckPreflight(resp, page, "GET", []cors.Header{{"Authorization", "x"}, {"X-A", "1"}}, cors.Omit)
	if f != nil {
		t.Fatalf("failure %+v", f)
	}
	if len(ws) != 1 || ws[0].Code != cors.WarnAuthorizationWildcard || ws[0].Message == "" {
		t.Errorf("warnings = %+v, want one %s", ws, cors.WarnAuthorizationWildcard)
	}
	_, ws = cors.CheckPreflight(resp, page, "GET", []cors.Header{{"X-A", "1"}}, cors.Omit)
	if len(ws) != 0 {
		t.Errorf("warnings without Authorization = %+v", ws)
	}
}

func TestReasonHelpers(t *testing.T) {
	for _, r := range cors.Reasons {
		b := r.Base()
		if r.OnPreflight() && b != r && "Preflight"+b != r {
			t.Errorf("%s.Base() = %s", r, b)
		}
		if !slices.Contains(cors.Reasons, b) {
			t.Errorf("%s.Base() = %s, not a reason", r, b)
		}
	}
	tests := []struct {
		r           cors.Reason
		base        cors.Reason
		onPreflight bool
	}{
		{cors.PreflightMissingAllowOriginHeader, cors.MissingAllowOriginHeader, true},
		{cors.PreflightInvalidStatus, cors.PreflightInvalidStatus, true},
		{cors.PreflightDisallowedRedirect, cors.PreflightDisallowedRedirect, true},
		{cors.HeaderDisallowedByPreflightResponse, cors.HeaderDisallowedByPreflightResponse, true},
		{cors.MissingAllowOriginHeader, cors.MissingAllowOriginHeader, false},
		{cors.RedirectContainsCredentials, cors.RedirectContainsCredentials, false},
	}
	for _, tc := range tests {
		if tc.r.Base() != tc.base || tc.r.OnPreflight() != tc.onPreflight {
			t.Errorf("%s: Base %s OnPreflight %v, want %s %v", tc.r, tc.r.Base(), tc.r.OnPreflight(), tc.base, tc.onPreflight)
		}
	}
}
