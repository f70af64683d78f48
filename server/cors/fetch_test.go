package cors_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/words"
)

// The page and the two servers of these tests: a Finesse desktop calling CUIC, which may
// redirect to another host.
const (
	page   = "https://finesse.example:8445"
	target = "https://cuic.example:8444/cuic/rest/status"
	other  = "https://other.example/next"
)

// reply is how the fake server answers one request: a response, or a network error.
type reply struct {
	resp *cors.Response
	err  error
}

// fakeServer answers Fetch's requests from a map keyed by "METHOD URL" and records every request
// it gets. An unexpected request fails the test.
type fakeServer struct {
	t      *testing.T
	routes map[string]reply
	got    []cors.Outgoing
}

func newFake(t *testing.T, routes map[string]reply) *fakeServer {
	t.Helper()
	return &fakeServer{t: t, routes: routes}
}

func (s *fakeServer) roundTrip(o cors.Outgoing) (*cors.Response, error) {
	s.got = append(s.got, o)
	key := o.Method + " " + o.URL.String()
	r, ok := s.routes[key]
	if !ok {
		s.t.Errorf("unexpected request %s", key)
		return nil, errors.New("no route for " + key)
	}
	return r.resp, r.err
}

// res builds a response from a status and "Name: value" header lines (repeated names stay
// separate lines, as on the wire).
func res(status int, lines ...string) reply {
	h := http.Header{}
	for _, l := range lines {
		n, v, ok := strings.Cut(l, ":")
		if !ok {
			panic("header line without colon: " + l)
		}
		h.Add(n, strings.TrimLeft(v, " "))
	}
	return reply{resp: &cors.Response{Status: status, Header: h}}
}

func netErr(err error) reply { return reply{err: err} }

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", s, err)
	}
	return u
}

func headers(t *testing.T, lines ...string) []cors.Header {
	t.Helper()
	var out []cors.Header
	for _, l := range lines {
		n, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("header line without colon: %q", l)
		}
		out = append(out, cors.Header{Name: n, Value: strings.TrimLeft(v, " ")})
	}
	return out
}

// headerValue returns the value of the first header named name (case-insensitive).
func headerValue(h []cors.Header, name string) (string, bool) {
	for _, x := range h {
		if strings.EqualFold(x.Name, name) {
			return x.Value, true
		}
	}
	return "", false
}

// Common header lines.
const (
	acaoPage = "Access-Control-Allow-Origin: " + page
	acaoStar = "Access-Control-Allow-Origin: *"
	acacTrue = "Access-Control-Allow-Credentials: true"
)

type fetchCase struct {
	name   string
	method string           // "" is GET
	url    string           // "" is target
	header []string         // "Name: value", as the page sets them
	cred   cors.Credentials // "" is omit
	routes map[string]reply

	verdict  cors.Verdict
	reason   cors.Reason // when blocked
	param    string      // the failed parameter, when blocked
	netErr   error       // when unreachable (errors.Is), nil to accept any
	steps    int         // the number of requests sent, 0 to skip the check
	warnings []cors.WarningCode
}

func (c fetchCase) request(t *testing.T) cors.Request {
	t.Helper()
	m, u, cred := c.method, c.url, c.cred
	if m == "" {
		m = "GET"
	}
	if u == "" {
		u = target
	}
	if cred == "" {
		cred = cors.Omit
	}
	return cors.Request{URL: mustURL(t, u), Origin: page, Method: m, Header: headers(t, c.header...), Credentials: cred}
}

func pre(u string) string { return "OPTIONS " + u }
func get(u string) string { return "GET " + u }

// fetchCases cover every reason the evaluator returns (see TestFetchCoversEveryReason) and the
// main ways to pass.
var fetchCases = []fetchCase{
	// Simple requests: the CORS check on the response.
	{name: "simple ACAO exact", routes: map[string]reply{get(target): res(200, acaoPage)}, verdict: cors.Allowed, steps: 1},
	{name: "simple ACAO star without credentials", routes: map[string]reply{get(target): res(200, acaoStar)}, verdict: cors.Allowed},
	{name: "simple ACAO star ignores ACAC without credentials", routes: map[string]reply{get(target): res(200, acaoStar, acacTrue)}, verdict: cors.Allowed},
	{name: "simple ACAO padded star", routes: map[string]reply{get(target): res(200, "Access-Control-Allow-Origin:   *  ")}, verdict: cors.Allowed},
	{name: "simple ACAO star with credentials", cred: cors.Include, routes: map[string]reply{get(target): res(200, acaoStar, acacTrue)},
		verdict: cors.Blocked, reason: cors.WildcardOriginNotAllowed},
	{name: "simple no ACAO", routes: map[string]reply{get(target): res(200)}, verdict: cors.Blocked, reason: cors.MissingAllowOriginHeader},
	{name: "simple 500 without ACAO", routes: map[string]reply{get(target): res(500)}, verdict: cors.Blocked, reason: cors.MissingAllowOriginHeader},
	{name: "simple 404 with ACAO is readable", routes: map[string]reply{get(target): res(404, acaoPage)}, verdict: cors.Allowed},
	{name: "simple two ACAO lines", routes: map[string]reply{get(target): res(200, acaoPage, acaoPage)},
		verdict: cors.Blocked, reason: cors.MultipleAllowOriginValues, param: page + ", " + page},
	{name: "simple ACAO list in one line", routes: map[string]reply{get(target): res(200, "Access-Control-Allow-Origin: https://a.example *")},
		verdict: cors.Blocked, reason: cors.MultipleAllowOriginValues, param: "https://a.example *"},
	{name: "simple ACAO star and origin", routes: map[string]reply{get(target): res(200, acaoStar, acaoPage)},
		verdict: cors.Blocked, reason: cors.MultipleAllowOriginValues, param: "*, " + page},
	{name: "simple ACAO subdomain wildcard", routes: map[string]reply{get(target): res(200, "Access-Control-Allow-Origin: *.example")},
		verdict: cors.Blocked, reason: cors.InvalidAllowOriginValue, param: "*.example"},
	{name: "simple ACAO empty", routes: map[string]reply{get(target): res(200, "Access-Control-Allow-Origin: ")},
		verdict: cors.Blocked, reason: cors.InvalidAllowOriginValue, param: ""},
	{name: "simple ACAO quoted star", routes: map[string]reply{get(target): res(200, `Access-Control-Allow-Origin: "*"`)},
		verdict: cors.Blocked, reason: cors.InvalidAllowOriginValue, param: `"*"`},
	{name: "simple ACAO trailing slash", routes: map[string]reply{get(target): res(200, acaoPage+"/")},
		verdict: cors.Blocked, reason: cors.AllowOriginMismatch, param: page + "/"},
	{name: "simple ACAO port with leading zero", routes: map[string]reply{get(target): res(200, "Access-Control-Allow-Origin: https://finesse.example:08445")},
		verdict: cors.Blocked, reason: cors.AllowOriginMismatch, param: "https://finesse.example:08445"},
	{name: "simple ACAO upper case", routes: map[string]reply{get(target): res(200, "Access-Control-Allow-Origin: HTTPS://FINESSE.EXAMPLE:8445")},
		verdict: cors.Blocked, reason: cors.AllowOriginMismatch, param: "HTTPS://FINESSE.EXAMPLE:8445"},
	{name: "simple ACAO null", routes: map[string]reply{get(target): res(200, "Access-Control-Allow-Origin: null")},
		verdict: cors.Blocked, reason: cors.AllowOriginMismatch, param: "null"},
	{name: "simple credentials with ACAC", cred: cors.Include, routes: map[string]reply{get(target): res(200, acaoPage, acacTrue)}, verdict: cors.Allowed},
	{name: "simple credentials ACAC True", cred: cors.Include, routes: map[string]reply{get(target): res(200, acaoPage, "Access-Control-Allow-Credentials: True")},
		verdict: cors.Blocked, reason: cors.InvalidAllowCredentials, param: "True"},
	{name: "simple credentials ACAC twice", cred: cors.Include, routes: map[string]reply{get(target): res(200, acaoPage, acacTrue, acacTrue)},
		verdict: cors.Blocked, reason: cors.InvalidAllowCredentials, param: "true, true"},
	{name: "simple credentials no ACAC", cred: cors.Include, routes: map[string]reply{get(target): res(200, acaoPage)},
		verdict: cors.Blocked, reason: cors.InvalidAllowCredentials, param: ""},
	{name: "simple same-origin credentials need no ACAC", cred: cors.SameOrigin, routes: map[string]reply{get(target): res(200, acaoPage)}, verdict: cors.Allowed},
	{name: "same-origin request skips the CORS check", url: page + "/desktop", routes: map[string]reply{get(page + "/desktop"): res(200)}, verdict: cors.Allowed, steps: 1},
	{name: "simple network error", routes: map[string]reply{get(target): netErr(errors.New("connection refused"))}, verdict: cors.Unreachable, steps: 1},

	// Preflights: the CORS check first, then the status, the syntax, the method, the headers.
	{name: "preflight ok", method: "PUT", routes: map[string]reply{
		pre(target): res(204, acaoPage, "Access-Control-Allow-Methods: PUT"), "PUT " + target: res(200, acaoPage),
	}, verdict: cors.Allowed, steps: 2},
	{name: "preflight redirect", method: "PUT", routes: map[string]reply{pre(target): res(302, acaoPage, "Location: "+other)},
		verdict: cors.Blocked, reason: cors.PreflightDisallowedRedirect, steps: 1},
	{name: "preflight redirect without ACAO", header: []string{"X-A: 1"}, routes: map[string]reply{pre(target): res(308, "Location: /login")},
		verdict: cors.Blocked, reason: cors.PreflightDisallowedRedirect},
	{name: "preflight 302 without Location is a status problem", method: "PUT", routes: map[string]reply{pre(target): res(302, acaoPage)},
		verdict: cors.Blocked, reason: cors.PreflightInvalidStatus},
	{name: "preflight 401 with ACAO", method: "PUT", routes: map[string]reply{pre(target): res(401, acaoPage, "Access-Control-Allow-Methods: PUT")},
		verdict: cors.Blocked, reason: cors.PreflightInvalidStatus},
	{name: "preflight 401 without ACAO", method: "PUT", routes: map[string]reply{pre(target): res(401)},
		verdict: cors.Blocked, reason: cors.PreflightMissingAllowOriginHeader},
	{name: "preflight star with credentials", method: "PUT", cred: cors.Include, routes: map[string]reply{pre(target): res(204, acaoStar, acacTrue)},
		verdict: cors.Blocked, reason: cors.PreflightWildcardOriginNotAllowed},
	{name: "preflight two ACAO", method: "PUT", routes: map[string]reply{pre(target): res(204, acaoPage, acaoPage)},
		verdict: cors.Blocked, reason: cors.PreflightMultipleAllowOriginValues, param: page + ", " + page},
	{name: "preflight invalid ACAO", method: "PUT", routes: map[string]reply{pre(target): res(204, "Access-Control-Allow-Origin: finesse.example")},
		verdict: cors.Blocked, reason: cors.PreflightInvalidAllowOriginValue, param: "finesse.example"},
	{name: "preflight ACAO other origin", method: "PUT", routes: map[string]reply{pre(target): res(204, "Access-Control-Allow-Origin: https://finesse.example")},
		verdict: cors.Blocked, reason: cors.PreflightAllowOriginMismatch, param: "https://finesse.example"},
	{name: "preflight credentials without ACAC", method: "PUT", cred: cors.Include, routes: map[string]reply{pre(target): res(204, acaoPage, "Access-Control-Allow-Methods: PUT")},
		verdict: cors.Blocked, reason: cors.PreflightInvalidAllowCredentials, param: ""},
	{name: "preflight invalid ACAM", method: "PUT", routes: map[string]reply{pre(target): res(204, acaoPage, "Access-Control-Allow-Methods: GET, P UT")},
		verdict: cors.Blocked, reason: cors.InvalidAllowMethodsPreflightResponse},
	{name: "preflight invalid ACAH", header: []string{"X-A: 1"}, routes: map[string]reply{pre(target): res(204, acaoPage, "Access-Control-Allow-Headers: x-a, x b")},
		verdict: cors.Blocked, reason: cors.InvalidAllowHeadersPreflightResponse},
	{name: "preflight ACAM checked before ACAH", method: "PUT", header: []string{"X-A: 1"}, routes: map[string]reply{
		pre(target): res(204, acaoPage, "Access-Control-Allow-Methods: x;y", "Access-Control-Allow-Headers: x;y")},
		verdict: cors.Blocked, reason: cors.InvalidAllowMethodsPreflightResponse},
	{name: "preflight method missing", method: "PUT", routes: map[string]reply{pre(target): res(204, acaoPage, "Access-Control-Allow-Methods: GET, POST")},
		verdict: cors.Blocked, reason: cors.MethodDisallowedByPreflightResponse, param: "PUT"},
	{name: "preflight method case-sensitive", method: "patch", routes: map[string]reply{pre(target): res(204, acaoPage, "Access-Control-Allow-Methods: PATCH")},
		verdict: cors.Blocked, reason: cors.MethodDisallowedByPreflightResponse, param: "patch"},
	{name: "preflight method star with credentials", method: "DELETE", cred: cors.Include, routes: map[string]reply{pre(target): res(204, acaoPage, acacTrue, "Access-Control-Allow-Methods: *")},
		verdict: cors.Blocked, reason: cors.MethodDisallowedByPreflightResponse, param: "DELETE"},
	{name: "preflight method star without credentials", method: "DELETE", routes: map[string]reply{
		pre(target): res(204, acaoPage, "Access-Control-Allow-Methods: *"), "DELETE " + target: res(204, acaoPage)}, verdict: cors.Allowed},
	{name: "preflight lower-case get allows safelisted GET", header: []string{"X-A: 1"}, routes: map[string]reply{
		pre(target): res(204, acaoPage, "Access-Control-Allow-Methods: get", "Access-Control-Allow-Headers: X-A"), get(target): res(200, acaoPage)}, verdict: cors.Allowed},
	{name: "preflight header missing", header: []string{"X-B: 1", "X-A: 1"}, routes: map[string]reply{pre(target): res(204, acaoPage, "Access-Control-Allow-Headers: x-b")},
		verdict: cors.Blocked, reason: cors.HeaderDisallowedByPreflightResponse, param: "x-a"},
	{name: "preflight header first missing in sorted order", header: []string{"X-Z: 1", "Content-Type: application/json"}, routes: map[string]reply{pre(target): res(204, acaoPage)},
		verdict: cors.Blocked, reason: cors.HeaderDisallowedByPreflightResponse, param: "content-type"},
	{name: "preflight header lists over lines and empty elements", method: "PUT", header: []string{"X-A: 1", "X-B: 2"}, routes: map[string]reply{
		pre(target):     res(200, acaoPage, "Access-Control-Allow-Methods: GET,,PUT", "Access-Control-Allow-Headers: X-A, ", "Access-Control-Allow-Headers: x-b"),
		"PUT " + target: res(200, acaoPage)}, verdict: cors.Allowed},
	{name: "preflight header star without credentials", header: []string{"X-A: 1"}, routes: map[string]reply{
		pre(target): res(204, acaoPage, "Access-Control-Allow-Headers: *"), get(target): res(200, acaoPage)}, verdict: cors.Allowed},
	{name: "preflight header star with credentials", cred: cors.Include, header: []string{"X-A: 1"}, routes: map[string]reply{
		pre(target): res(204, acaoPage, acacTrue, "Access-Control-Allow-Headers: *")},
		verdict: cors.Blocked, reason: cors.HeaderDisallowedByPreflightResponse, param: "x-a"},
	{name: "preflight literal star header with credentials", cred: cors.Include, header: []string{"*: 1"}, routes: map[string]reply{
		pre(target): res(204, acaoPage, acacTrue, "Access-Control-Allow-Headers: *"), get(target): res(200, acaoPage, acacTrue)}, verdict: cors.Allowed},
	{name: "preflight star covers Authorization without credentials", header: []string{"Authorization: Bearer t"}, routes: map[string]reply{
		pre(target): res(204, acaoStar, "Access-Control-Allow-Headers: *"), get(target): res(200, acaoStar)},
		verdict: cors.Allowed, warnings: []cors.WarningCode{cors.WarnAuthorizationWildcard}},
	{name: "preflight star does not cover Authorization with credentials", cred: cors.Include, header: []string{"Authorization: Bearer t"}, routes: map[string]reply{
		pre(target): res(204, acaoPage, acacTrue, "Access-Control-Allow-Headers: *")},
		verdict: cors.Blocked, reason: cors.HeaderDisallowedByPreflightResponse, param: "authorization"},
	{name: "preflight Authorization listed with credentials", cred: cors.Include, header: []string{"Authorization: Bearer t"}, routes: map[string]reply{
		pre(target): res(204, acaoPage, acacTrue, "Access-Control-Allow-Headers: Authorization"), get(target): res(200, acaoPage, acacTrue)}, verdict: cors.Allowed},
	{name: "preflight passes but the response fails", method: "PUT", routes: map[string]reply{
		pre(target): res(204, acaoPage, "Access-Control-Allow-Methods: PUT"), "PUT " + target: res(200)},
		verdict: cors.Blocked, reason: cors.MissingAllowOriginHeader, steps: 2},
	{name: "preflight network error", method: "PUT", routes: map[string]reply{pre(target): netErr(errors.New("EOF"))}, verdict: cors.Unreachable, steps: 1},

	// Redirects of the actual request.
	{name: "redirect followed", routes: map[string]reply{get(target): res(302, acaoPage, "Location: "+other), get(other): res(200, "Access-Control-Allow-Origin: null")},
		verdict: cors.Allowed, steps: 2},
	{name: "redirect hop without ACAO", routes: map[string]reply{get(target): res(302, "Location: "+other)},
		verdict: cors.Blocked, reason: cors.MissingAllowOriginHeader, steps: 1},
	{name: "redirect to userinfo", routes: map[string]reply{get(target): res(302, acaoPage, "Location: https://user:pw@other.example/")},
		verdict: cors.Blocked, reason: cors.RedirectContainsCredentials, param: ""},
	{name: "redirect to data URL", routes: map[string]reply{get(target): res(302, acaoPage, "Location: data:text/plain,hi")},
		verdict: cors.Unreachable, netErr: cors.ErrUnsafeRedirect},
	{name: "redirect to ftp URL", routes: map[string]reply{get(target): res(301, acaoPage, "Location: ftp://other.example/")},
		verdict: cors.Blocked, reason: cors.CorsDisabledScheme},
	{name: "redirect to javascript URL", routes: map[string]reply{get(target): res(302, acaoPage, "Location: javascript:alert(1)")},
		verdict: cors.Blocked, reason: cors.CorsDisabledScheme},
	{name: "redirect to a file URL", routes: map[string]reply{get(target): res(302, acaoPage, "Location: file:///etc/hostname")},
		verdict: cors.Unreachable, netErr: cors.ErrUnsafeRedirect},
	{name: "redirect to view-source", routes: map[string]reply{get(target): res(302, acaoPage, "Location: view-source:https://other.example/")},
		verdict: cors.Unreachable, netErr: cors.ErrAbortedRedirect},
	{name: "redirect to an invalid URL", routes: map[string]reply{get(target): res(302, acaoPage, "Location: https://other.example:99999/")},
		verdict: cors.Unreachable, netErr: cors.ErrInvalidRedirect},
	{name: "empty user info is no credential", routes: map[string]reply{get(target): res(302, acaoPage, "Location: https://@other.example/next"), get(other): res(200, "Access-Control-Allow-Origin: *")},
		verdict: cors.Allowed},
	{name: "redirect to http is mixed content", routes: map[string]reply{get(target): res(302, acaoPage, "Location: http://other.example/next")},
		verdict: cors.Unreachable, netErr: cors.ErrMixedContentRedirect},
	{name: "redirect to http on loopback is not mixed content", routes: map[string]reply{get(target): res(302, acaoPage, "Location: http://127.0.0.1/next"), get("http://127.0.0.1/next"): res(200, "Access-Control-Allow-Origin: *")},
		verdict: cors.Allowed},
	{name: "tainted origin needs null", routes: map[string]reply{get(target): res(302, acaoPage, "Location: "+other), get(other): res(200, acaoPage)},
		verdict: cors.Blocked, reason: cors.AllowOriginMismatch, param: page},
}

func TestFetch(t *testing.T) {
	for _, c := range fetchCases {
		t.Run(c.name, func(t *testing.T) {
			runFetchCase(t, c)
		})
	}
}

func runFetchCase(t *testing.T, c fetchCase) cors.Outcome {
	t.Helper()
	srv := newFake(t, c.routes)
	out := cors.Fetch(c.request(t), srv.roundTrip)
	if got := out.Verdict(); got != c.verdict {
		t.Fatalf("verdict = %s (failure %+v, net error %v), want %s", got, out.Failure, out.NetErr, c.verdict)
	}
	if c.verdict == cors.Blocked {
		if out.Failure.Reason != c.reason || out.Failure.FailedParameter != c.param {
			t.Errorf("failure = %s %q, want %s %q", out.Failure.Reason, out.Failure.FailedParameter, c.reason, c.param)
		}
	}
	if c.netErr != nil && !errors.Is(out.NetErr, c.netErr) {
		t.Errorf("net error = %v, want %v", out.NetErr, c.netErr)
	}
	if c.steps != 0 && len(out.Steps) != c.steps {
		t.Errorf("%d steps, want %d", len(out.Steps), c.steps)
	}
	if len(out.Steps) != len(srv.got) {
		t.Errorf("%d steps recorded but %d requests sent", len(out.Steps), len(srv.got))
	}
	var codes []cors.WarningCode
	for _, w := range out.Warnings {
		codes = append(codes, w.Code)
	}
	if !slices.Equal(codes, c.warnings) {
		t.Errorf("warnings = %v, want %v", codes, c.warnings)
	}
	return out
}

// TestFetchCoversEveryReason fails when a reason the evaluator can return has no case in
// fetchCases, so that a new reason comes with a test.
func TestFetchCoversEveryReason(t *testing.T) {
	covered := map[cors.Reason]bool{}
	for _, c := range fetchCases {
		if c.verdict == cors.Blocked {
			covered[c.reason] = true
		}
	}
	for _, r := range cors.Reasons {
		if !covered[r] {
			t.Errorf("no case in fetchCases produces %s", r)
		}
	}
	for r := range covered {
		if !slices.Contains(cors.Reasons, r) {
			t.Errorf("%s is produced but missing from cors.Reasons", r)
		}
	}
	for _, r := range cors.BrowserOnlyReasons {
		if slices.Contains(cors.Reasons, r) {
			t.Errorf("%s is in both Reasons and BrowserOnlyReasons", r)
		}
	}
}

func TestPreflightRequestShape(t *testing.T) {
	srv := newFake(t, map[string]reply{
		pre(target):     res(204, acaoPage, acacTrue, "Access-Control-Allow-Methods: PUT", "Access-Control-Allow-Headers: authorization, content-type, x-a, x-b"),
		"PUT " + target: res(200, acaoPage, acacTrue),
	})
	req := cors.Request{URL: mustURL(t, target), Origin: page, Method: "PUT", Credentials: cors.Include,
		Header: headers(t, "X-B: 1", "Content-Type: application/json", "Accept: text/html", "Authorization: Bearer t", "X-A: 2", "x-b: 3")}
	out := cors.Fetch(req, srv.roundTrip)
	if out.Verdict() != cors.Allowed || !out.Preflighted() {
		t.Fatalf("verdict %s, preflighted %v; want an allowed preflighted request (%+v)", out.Verdict(), out.Preflighted(), out.Failure)
	}
	if len(srv.got) != 2 {
		t.Fatalf("%d requests, want 2", len(srv.got))
	}
	pf := srv.got[0]
	want := []cors.Header{
		{Name: "Accept", Value: "*/*"},
		{Name: "Access-Control-Request-Method", Value: "PUT"},
		{Name: "Access-Control-Request-Headers", Value: "authorization,content-type,x-a,x-b"},
		{Name: "Origin", Value: page},
		{Name: "Sec-Fetch-Mode", Value: "cors"},
	}
	if pf.Kind != cors.PreflightStep || pf.Method != "OPTIONS" || pf.URL.String() != target {
		t.Errorf("preflight = %s %s %s, want preflight OPTIONS %s", pf.Kind, pf.Method, pf.URL, target)
	}
	if !slices.Equal(pf.Header, want) {
		t.Errorf("preflight header =\n%v\nwant\n%v", pf.Header, want)
	}
	if pf.WithCredentials {
		t.Error("preflight is sent with credentials (cookies)")
	}
	act := srv.got[1]
	if act.Kind != cors.ActualStep || act.Method != "PUT" || !act.WithCredentials {
		t.Errorf("actual = %s %s credentials %v, want actual PUT with credentials", act.Kind, act.Method, act.WithCredentials)
	}
	if v, _ := headerValue(act.Header, "Authorization"); v != "Bearer t" {
		t.Errorf("actual request Authorization = %q, want the page's", v)
	}
	if v, _ := headerValue(act.Header, "Origin"); v != page {
		t.Errorf("actual request Origin = %q, want %q", v, page)
	}
}

func TestPreflightHeader(t *testing.T) {
	tests := []struct {
		name   string
		method string
		header []string
		acrh   string // "" when absent
	}{
		{name: "method only", method: "DELETE"},
		{name: "safelisted headers are not listed", method: "PUT", header: []string{"Accept: x", "Content-Type: text/plain", "X-A: 1"}, acrh: "x-a"},
		{name: "lower case, sorted, unique, no space", method: "GET", header: []string{"X-Zed: 1", "X-Abc: 1", "x-zed: 2", "AUTHORIZATION: b"}, acrh: "authorization,x-abc,x-zed"},
		{name: "unsafe Content-Type", method: "POST", header: []string{"Content-Type: application/json"}, acrh: "content-type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := cors.PreflightHeader(tc.method, headers(t, tc.header...), "null")
			acrh, ok := headerValue(h, "Access-Control-Request-Headers")
			if acrh != tc.acrh || ok != (tc.acrh != "") {
				t.Errorf("ACRH = %q (present %v), want %q", acrh, ok, tc.acrh)
			}
			if v, _ := headerValue(h, "Access-Control-Request-Method"); v != tc.method {
				t.Errorf("ACRM = %q, want %q", v, tc.method)
			}
			if v, _ := headerValue(h, "Origin"); v != "null" {
				t.Errorf("Origin = %q, want null", v)
			}
			for _, n := range []string{"Authorization", "Cookie"} {
				if _, ok := headerValue(h, n); ok {
					t.Errorf("preflight carries %s", n)
				}
			}
		})
	}
}

func TestNoPreflightForSafelistedRequests(t *testing.T) {
	tests := []struct {
		name   string
		method string
		header []string
	}{
		{name: "GET"},
		{name: "HEAD", method: "HEAD", header: []string{"Range: bytes=0-"}},
		{name: "POST form", method: "POST", header: []string{"Content-Type: application/x-www-form-urlencoded"}},
		{name: "POST multipart", method: "POST", header: []string{"Content-Type: multipart/form-data; boundary=x"}},
		{name: "POST text with charset", method: "POST", header: []string{"Content-Type: Text/Plain;charset=UTF-8"}},
		{name: "GET safelisted set", header: []string{"Accept: application/json", "Accept-Language: de-CH, en;q=0.5", "Content-Language: de", "Range: bytes=0-499"}},
		{name: "GET Chromium client hints", header: []string{"DPR: 1.5", "Width: 800", "Viewport-Width: 1024", "Device-Memory: 8", "Save-Data: on"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.method
			if m == "" {
				m = "GET"
			}
			srv := newFake(t, map[string]reply{m + " " + target: res(200, acaoPage)})
			out := cors.Fetch(cors.Request{URL: mustURL(t, target), Origin: page, Method: m, Header: headers(t, tc.header...), Credentials: cors.Omit}, srv.roundTrip)
			if out.Preflighted() || len(srv.got) != 1 || out.Verdict() != cors.Allowed {
				t.Errorf("preflighted %v, %d requests, verdict %s; want one allowed request", out.Preflighted(), len(srv.got), out.Verdict())
			}
			if cors.NeedsPreflight(m, headers(t, tc.header...)) {
				t.Error("NeedsPreflight = true")
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	third := "https://third.example/end"
	sameHost := "https://cuic.example:8444/cuic/other"
	pageURL := page + "/api"
	tests := []struct {
		name   string
		method string
		header []string
		url    string
		routes map[string]reply
		// want is, per request sent, "KIND METHOD URL Origin=… [Authorization] [Content-Type]".
		want    []string
		verdict cors.Verdict
	}{
		{
			name: "cross-origin hop taints the origin", header: []string{"X-A: 1"},
			routes: map[string]reply{
				pre(target): res(204, acaoPage, "Access-Control-Allow-Headers: x-a"),
				get(target): res(307, acaoPage, "Location: "+other),
				pre(other):  res(204, "Access-Control-Allow-Origin: null", "Access-Control-Allow-Headers: x-a"),
				get(other):  res(302, "Access-Control-Allow-Origin: null", "Location: "+third),
				pre(third):  res(204, acaoStar, "Access-Control-Allow-Headers: *"),
				get(third):  res(200, acaoStar),
			},
			want: []string{
				"preflight OPTIONS " + target + " Origin=" + page,
				"actual GET " + target + " Origin=" + page,
				"preflight OPTIONS " + other + " Origin=null",
				"actual GET " + other + " Origin=null",
				"preflight OPTIONS " + third + " Origin=null",
				"actual GET " + third + " Origin=null",
			},
			verdict: cors.Allowed,
		},
		{
			name: "same-origin hop keeps the origin",
			routes: map[string]reply{
				get(target):   res(302, acaoPage, "Location: /cuic/other"),
				get(sameHost): res(200, acaoPage),
			},
			want:    []string{"actual GET " + target + " Origin=" + page, "actual GET " + sameHost + " Origin=" + page},
			verdict: cors.Allowed,
		},
		{
			name: "hop from the page's own origin does not taint", url: pageURL,
			routes: map[string]reply{
				get(pageURL): res(302, "Location: "+target),
				get(target):  res(200, acaoPage),
			},
			want:    []string{"actual GET " + pageURL + " Origin=", "actual GET " + target + " Origin=" + page},
			verdict: cors.Allowed,
		},
		{
			name: "back to the page's origin after a cross-origin hop is tainted",
			routes: map[string]reply{
				get(target):  res(302, acaoPage, "Location: "+pageURL),
				get(pageURL): res(200),
			},
			want:    []string{"actual GET " + target + " Origin=" + page, "actual GET " + pageURL + " Origin=null"},
			verdict: cors.Blocked,
		},
		{
			name: "Authorization dropped across origins", header: []string{"Authorization: Bearer t"},
			routes: map[string]reply{
				pre(target):   res(204, acaoPage, "Access-Control-Allow-Headers: authorization"),
				get(target):   res(302, acaoPage, "Location: /cuic/other"),
				pre(sameHost): res(204, acaoPage, "Access-Control-Allow-Headers: authorization"),
				get(sameHost): res(307, acaoPage, "Location: "+other),
				get(other):    res(200, acaoStar),
			},
			want: []string{
				"preflight OPTIONS " + target + " Origin=" + page,
				"actual GET " + target + " Origin=" + page + " Authorization",
				"preflight OPTIONS " + sameHost + " Origin=" + page,
				"actual GET " + sameHost + " Origin=" + page + " Authorization",
				"actual GET " + other + " Origin=null",
			},
			verdict: cors.Allowed,
		},
		{
			name: "301 turns POST into GET", method: "POST", header: []string{"Content-Type: text/plain"},
			routes: map[string]reply{
				"POST " + target: res(301, acaoPage, "Location: /cuic/other"),
				get(sameHost):    res(200, acaoPage),
			},
			want:    []string{"actual POST " + target + " Origin=" + page + " Content-Type", "actual GET " + sameHost + " Origin=" + page},
			verdict: cors.Allowed,
		},
		{
			name: "302 turns POST into GET", method: "POST", header: []string{"Content-Type: text/plain"},
			routes: map[string]reply{
				"POST " + target: res(302, acaoPage, "Location: /cuic/other"),
				get(sameHost):    res(200, acaoPage),
			},
			want:    []string{"actual POST " + target + " Origin=" + page + " Content-Type", "actual GET " + sameHost + " Origin=" + page},
			verdict: cors.Allowed,
		},
		{
			name: "302 keeps PUT", method: "PUT",
			routes: map[string]reply{
				pre(target):       res(204, acaoPage, "Access-Control-Allow-Methods: PUT"),
				"PUT " + target:   res(302, acaoPage, "Location: /cuic/other"),
				pre(sameHost):     res(204, acaoPage, "Access-Control-Allow-Methods: PUT"),
				"PUT " + sameHost: res(200, acaoPage),
			},
			want: []string{
				"preflight OPTIONS " + target + " Origin=" + page,
				"actual PUT " + target + " Origin=" + page,
				"preflight OPTIONS " + sameHost + " Origin=" + page,
				"actual PUT " + sameHost + " Origin=" + page,
			},
			verdict: cors.Allowed,
		},
		{
			name: "307 keeps POST and its body headers", method: "POST", header: []string{"Content-Type: text/plain"},
			routes: map[string]reply{
				"POST " + target:   res(307, acaoPage, "Location: /cuic/other"),
				"POST " + sameHost: res(200, acaoPage),
			},
			want:    []string{"actual POST " + target + " Origin=" + page + " Content-Type", "actual POST " + sameHost + " Origin=" + page + " Content-Type"},
			verdict: cors.Allowed,
		},
		{
			name: "303 turns PUT into GET", method: "PUT", header: []string{"Content-Type: application/json"},
			routes: map[string]reply{
				pre(target):     res(204, acaoPage, "Access-Control-Allow-Methods: PUT", "Access-Control-Allow-Headers: content-type"),
				"PUT " + target: res(303, acaoPage, "Location: /cuic/other"),
				get(sameHost):   res(200, acaoPage),
			},
			want: []string{
				"preflight OPTIONS " + target + " Origin=" + page,
				"actual PUT " + target + " Origin=" + page + " Content-Type",
				"actual GET " + sameHost + " Origin=" + page,
			},
			verdict: cors.Allowed,
		},
		{
			name: "303 keeps HEAD", method: "HEAD",
			routes: map[string]reply{
				"HEAD " + target:   res(303, acaoPage, "Location: /cuic/other"),
				"HEAD " + sameHost: res(200, acaoPage),
			},
			want:    []string{"actual HEAD " + target + " Origin=" + page, "actual HEAD " + sameHost + " Origin=" + page},
			verdict: cors.Allowed,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, u := tc.method, tc.url
			if m == "" {
				m = "GET"
			}
			if u == "" {
				u = target
			}
			srv := newFake(t, tc.routes)
			out := cors.Fetch(cors.Request{URL: mustURL(t, u), Origin: page, Method: m, Header: headers(t, tc.header...), Credentials: cors.Omit}, srv.roundTrip)
			if out.Verdict() != tc.verdict {
				t.Errorf("verdict %s (%+v, %v), want %s", out.Verdict(), out.Failure, out.NetErr, tc.verdict)
			}
			var got []string
			for _, o := range srv.got {
				origin, _ := headerValue(o.Header, "Origin")
				s := fmt.Sprintf("%s %s %s Origin=%s", o.Kind, o.Method, o.URL, origin)
				for _, n := range []string{"Authorization", "Content-Type"} {
					if _, ok := headerValue(o.Header, n); ok {
						s += " " + n
					}
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestRedirectLimit(t *testing.T) {
	hop := func(i int) string { return fmt.Sprintf("https://cuic.example:8444/hop/%d", i) }
	chain := func(redirects int) map[string]reply {
		routes := map[string]reply{}
		for i := 0; i < redirects; i++ {
			routes[get(hop(i))] = res(302, acaoPage, "Location: "+hop(i+1))
		}
		routes[get(hop(redirects))] = res(200, acaoPage)
		return routes
	}
	t.Run("20 redirects are followed", func(t *testing.T) {
		srv := newFake(t, chain(20))
		out := cors.Fetch(cors.Request{URL: mustURL(t, hop(0)), Origin: page, Method: "GET", Credentials: cors.Omit}, srv.roundTrip)
		if out.Verdict() != cors.Allowed || len(srv.got) != 21 {
			t.Errorf("verdict %s after %d requests (%v), want allowed after 21", out.Verdict(), len(srv.got), out.NetErr)
		}
		if out.InitialURL != hop(0) || out.FinalURL != hop(20) {
			t.Errorf("initial %s final %s", out.InitialURL, out.FinalURL)
		}
	})
	t.Run("the 21st redirect is a network error", func(t *testing.T) {
		srv := newFake(t, chain(21))
		out := cors.Fetch(cors.Request{URL: mustURL(t, hop(0)), Origin: page, Method: "GET", Credentials: cors.Omit}, srv.roundTrip)
		if !errors.Is(out.NetErr, cors.ErrTooManyRedirects) || out.Verdict() != cors.Unreachable {
			t.Errorf("verdict %s, net error %v; want %v", out.Verdict(), out.NetErr, cors.ErrTooManyRedirects)
		}
		if len(srv.got) != 21 {
			t.Errorf("%d requests sent, want 21 (the 22nd URL is never requested)", len(srv.got))
		}
	})
}

func TestConsoleLine(t *testing.T) {
	tests := []struct {
		name string
		c    fetchCase
		want string
	}{
		{
			name: "preflight reason",
			c: fetchCase{method: "PUT", routes: map[string]reply{pre(target): res(401)},
				verdict: cors.Blocked, reason: cors.PreflightMissingAllowOriginHeader},
			want: "Access to fetch at '" + target + "' from origin '" + page + "' has been blocked by CORS policy: " +
				"Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
		},
		{
			name: "redirected request",
			c: fetchCase{routes: map[string]reply{get(target): res(302, acaoPage, "Location: "+other), get(other): res(200, acaoPage)},
				verdict: cors.Blocked, reason: cors.AllowOriginMismatch, param: page},
			want: "Access to fetch at '" + other + "' (redirected from '" + target + "') from origin '" + page + "' has been blocked by CORS policy: " +
				"The 'Access-Control-Allow-Origin' header has a value '" + page + "' that is not equal to the supplied origin. Have the server send the header with a valid value.",
		},
		{
			name: "method",
			c: fetchCase{method: "patch", routes: map[string]reply{pre(target): res(204, acaoPage, "Access-Control-Allow-Methods: PATCH")},
				verdict: cors.Blocked, reason: cors.MethodDisallowedByPreflightResponse, param: "patch"},
			want: "Access to fetch at '" + target + "' from origin '" + page + "' has been blocked by CORS policy: " +
				"Method patch is not allowed by Access-Control-Allow-Methods in preflight response.",
		},
		{
			name: "credentials",
			c: fetchCase{cred: cors.Include, routes: map[string]reply{get(target): res(200, acaoPage)},
				verdict: cors.Blocked, reason: cors.InvalidAllowCredentials},
			want: "Access to fetch at '" + target + "' from origin '" + page + "' has been blocked by CORS policy: " +
				"The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := runFetchCase(t, tc.c)
			if got := cors.ConsoleLine(*out.Failure, out.InitialURL, out.FinalURL, page); got != tc.want {
				t.Errorf("console line\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestReasonText checks that every reason has its own console text and explanation.
func TestReasonText(t *testing.T) {
	seen := map[string]cors.Reason{}
	for _, r := range slices.Concat(cors.Reasons, cors.BrowserOnlyReasons) {
		line := cors.ConsoleLine(cors.Failure{Reason: r, FailedParameter: "v"}, target, target, page)
		if strings.Contains(line, string(r)) {
			t.Errorf("%s: console line falls back to the reason's name: %s", r, line)
		}
		if want := r.OnPreflight() && !strings.HasSuffix(string(r), "PreflightResponse"); want != strings.Contains(line, "Response to preflight request doesn't pass access control check: ") {
			t.Errorf("%s: preflight prefix present = %v, want %v: %s", r, !want, want, line)
		}
		if prev, dup := seen[line]; dup {
			t.Errorf("%s and %s have the same console line", r, prev)
		}
		seen[line] = r
		if e := cors.Explain(cors.Failure{Reason: r}, words.English); e == "" || e == string(r) {
			t.Errorf("%s has no explanation", r)
		}
	}
}
