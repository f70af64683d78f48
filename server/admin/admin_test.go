package admin

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/go-chi/chi/v5"

	"github.com/corsquickcheck/corscheck/server/auth"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

const password = "correct horse battery staple"

var t0 = time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type env struct {
	t      *testing.T
	store  store.Store
	clock  *clock
	h      http.Handler
	cookie *http.Cookie
}

func newEnv(t *testing.T, pageSize int, opts ...func(*Config)) *env {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: t0.Add(30 * 24 * time.Hour)}
	cfg := Config{
		Store: st, Gate: newGate(st, c.Now), Now: c.Now, Logger: slog.New(slog.DiscardHandler), PageSize: pageSize,
	}
	for _, o := range opts {
		o(&cfg)
	}
	a := New(cfg)
	r := chi.NewRouter()
	r.Mount("/admin", a) // as cli_serve.go mounts it
	return &env{t: t, store: st, clock: c, h: r}
}

// do serves one request, with the session cookie when signed in.
// newGate checks the test's password.
func newGate(st store.Store, now func() time.Time) *auth.Gate {
	return auth.New(auth.Config{Store: st, CheckPassword: func(p string) bool { return p == password }, Now: now,
		Logger: slog.New(slog.DiscardHandler)})
}

func (e *env) do(method, target string, form url.Values, hdr ...string) *http.Response {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://corscheck.example"+target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if e.cookie != nil {
		req.AddCookie(e.cookie)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w.Result()
}

func (e *env) login() {
	e.t.Helper()
	resp := e.do("POST", "/admin/login", url.Values{"user": {"admin"}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/" {
		e.t.Fatalf("sign-in: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			e.cookie = c
		}
	}
	if e.cookie == nil {
		e.t.Fatal("no session cookie")
	}
}

func (e *env) page(target string) *goquery.Document {
	e.t.Helper()
	resp := e.do("GET", target, nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %s", target, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		e.t.Fatalf("GET %s: Content-Type %q", target, ct)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return doc
}

func (e *env) add(rs ...store.Result) []int64 {
	e.t.Helper()
	ids, err := e.store.AddResults(context.Background(), rs)
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

func result(i int) store.Result {
	nodes := []string{"cuicpub.example.com", "cuicsub.example.com", "ld.example.com"}
	kinds := []string{"cuic", "cuic", "livedata"}
	verdicts := []string{"allowed", "blocked", "unreachable"}
	return store.Result{
		ReceivedAt: t0.Add(time.Duration(i) * time.Hour), GadgetVersion: "1.0.0",
		PageOrigin: "https://finesse" + strconv.Itoa(i%2) + ".example:8445",
		TargetKind: kinds[i%3], Node: nodes[i%3], URL: "https://" + nodes[i%3] + "/cuic/rest/about",
		Method: "GET", HeaderNames: []string{}, Credentials: "omit", Verdict: verdicts[i%3],
		DurationMs: float64(10 + i), UserAgent: "Mozilla/5.0", AgentID: "agent" + strconv.Itoa(i%4),
	}
}

func rowIDs(doc *goquery.Document) []string {
	var ids []string
	doc.Find("#results tbody tr").Each(func(_ int, s *goquery.Selection) {
		ids = append(ids, s.AttrOr("data-id", "?"))
	})
	return ids
}

func TestSignInAndOut(t *testing.T) {
	e := newEnv(t, 0)
	// Unauthenticated pages redirect to the sign-in form.
	for _, p := range []string{"/admin", "/admin/", "/admin/results", "/admin/results/1", "/admin/export.csv", "/admin/export.ndjson"} {
		resp := e.do("GET", p, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login" {
			t.Errorf("GET %s signed out: %s, Location %q", p, resp.Status, resp.Header.Get("Location"))
		}
	}
	doc := e.page("/admin/login")
	if doc.Find(`form[method=post][action="/admin/login"] input[type=password][name=password]`).Length() != 1 {
		t.Fatal("no password form")
	}

	// A wrong password: 401 and the form again with a message, no cookie.
	resp := e.do("POST", "/admin/login", url.Values{"password": {"nope"}})
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong password: %s, cookies %v", resp.Status, resp.Cookies())
	}
	doc, _ = goquery.NewDocumentFromReader(resp.Body)
	if msg := doc.Find("[role=alert]").Text(); !strings.Contains(msg, "Wrong password") {
		t.Errorf("message %q", msg)
	}
	// A user other than admin is refused even with the password.
	if resp := e.do("POST", "/admin/login", url.Values{"user": {"root"}, "password": {password}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("user root: %s", resp.Status)
	}

	e.login()
	c := e.cookie
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin" || c.Secure || len(c.Value) != 64 {
		t.Errorf("cookie %+v", c)
	}
	if resp := e.do("GET", "/admin/", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /admin/ (the dashboard): %s", resp.Status)
	}
	if resp := e.do("GET", "/admin/login", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/" {
		t.Errorf("GET /admin/login signed in: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	doc = e.page("/admin/results")
	if doc.Find(`form[action="/admin/logout"] button`).Length() != 1 {
		t.Error("no sign-out button")
	}
	resp = e.do("GET", "/admin/results", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}

	resp = e.do("POST", "/admin/logout", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login" {
		t.Fatalf("logout: %s", resp.Status)
	}
	// The old token no longer works, even if the browser kept it.
	if resp := e.do("GET", "/admin/results", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: %s", resp.Status)
	}

	// Sessions expire after 8 hours.
	e.cookie = nil
	e.login()
	e.clock.Advance(auth.SessionTTL - time.Minute)
	e.page("/admin/results")
	e.clock.Advance(2 * time.Minute)
	if resp := e.do("GET", "/admin/results", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after 8h: %s", resp.Status)
	}
}

func TestSecureCookie(t *testing.T) {
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := chi.NewRouter()
	h.Mount("/admin", New(Config{Store: st, Gate: newGate(st, time.Now), SecureCookies: true,
		Logger: slog.New(slog.DiscardHandler)}))
	req := httptest.NewRequest("POST", "/admin/login", strings.NewReader("password="+url.QueryEscape(password)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if cs := w.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Fatalf("cookies %+v", cs)
	}
}

func TestSignInSlowDown(t *testing.T) {
	e := newEnv(t, 0)
	wrong := url.Values{"password": {"guess"}}
	for i := range 5 {
		if resp := e.do("POST", "/admin/login", wrong); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %s", i+1, resp.Status)
		}
	}
	// Now even the right password must wait.
	resp := e.do("POST", "/admin/login", url.Values{"password": {password}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("6th attempt: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	if msg := doc.Find("[role=alert]").Text(); !strings.Contains(msg, "Too many failed sign-ins") || !strings.Contains(msg, "2 seconds") {
		t.Errorf("message %q", msg)
	}
	// X-Forwarded-For is not trusted by default: the client cannot pose as another address.
	if resp := e.do("POST", "/admin/login", wrong, "X-Forwarded-For", "198.51.100.7"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("with X-Forwarded-For: got %s", resp.Status)
	}
	// The delay doubles with each failure.
	e.clock.Advance(2 * time.Second)
	if resp := e.do("POST", "/admin/login", wrong); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after waiting: %s", resp.Status)
	}
	if resp := e.do("POST", "/admin/login", url.Values{"password": {password}}); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "4" {
		t.Fatalf("after 7 failures: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	e.clock.Advance(4 * time.Second)
	e.login() // success forgets the failures
	e.cookie = nil
	if resp := e.do("POST", "/admin/login", wrong); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after success: %s", resp.Status)
	}
}

func TestSignInSlowDownPerAddress(t *testing.T) {
	e := newEnv(t, 0, func(c *Config) { c.TrustProxy = true })
	for range 6 {
		e.do("POST", "/admin/login", url.Values{"password": {"guess"}}, "X-Forwarded-For", "198.51.100.7")
	}
	if resp := e.do("POST", "/admin/login", url.Values{"password": {"guess"}}, "X-Forwarded-For", "198.51.100.7"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("guessing address: %s", resp.Status)
	}
	if resp := e.do("POST", "/admin/login", url.Values{"password": {password}}, "X-Forwarded-For", "198.51.100.8"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another address: %s", resp.Status)
	}
}

func TestCrossSitePostRefused(t *testing.T) {
	e := newEnv(t, 0)
	e.login()
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example"},
	} {
		for _, p := range []string{"/admin/logout", "/admin/login"} {
			resp := e.do("POST", p, url.Values{"password": {password}}, hdr...)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with %v: %s", p, hdr, resp.Status)
			}
		}
	}
	// The session survived the refused logout; a same-origin one works.
	e.page("/admin/results")
	if resp := e.do("POST", "/admin/logout", nil, "Sec-Fetch-Site", "same-origin"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin logout: %s", resp.Status)
	}
}

func TestResultsFilters(t *testing.T) {
	e := newEnv(t, 0)
	var rs []store.Result
	for i := range 30 {
		rs = append(rs, result(i))
	}
	ids := e.add(rs...)
	e.login()

	all := e.page("/admin/results")
	if got := rowIDs(all); len(got) != 30 || got[0] != strconv.FormatInt(ids[29], 10) {
		t.Fatalf("unfiltered: %v", got)
	}
	if total := all.Find("#total").Text(); !strings.HasPrefix(total, "30 ") {
		t.Errorf("total %q", total)
	}

	cases := []struct {
		name  string
		query string
		keep  func(i int) bool
	}{
		{"node", "node=cuicsub.example.com", func(i int) bool { return i%3 == 1 }},
		{"kind", "kind=livedata", func(i int) bool { return i%3 == 2 }},
		{"verdict", "verdict=blocked", func(i int) bool { return i%3 == 1 }},
		{"origin", "origin=" + url.QueryEscape("https://finesse1.example:8445"), func(i int) bool { return i%2 == 1 }},
		{"agent", "agent=agent2", func(i int) bool { return i%4 == 2 }},
		{"since", "since=2026-11-10T10:00", func(i int) bool { return i >= 2 }},
		{"until", "until=2026-11-10T10:00", func(i int) bool { return i < 2 }},
		{"range RFC 3339", "since=2026-11-10T12:00:00Z&until=2026-11-10T15:00:00Z", func(i int) bool { return i >= 4 && i < 7 }},
		{"combined", "kind=cuic&verdict=allowed&origin=" + url.QueryEscape("https://finesse0.example:8445"),
			func(i int) bool { return i%3 == 0 && i%2 == 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := e.page("/admin/results?" + tc.query)
			var want []string
			for i := 29; i >= 0; i-- {
				if tc.keep(i) {
					want = append(want, strconv.FormatInt(ids[i], 10))
				}
			}
			if got := rowIDs(doc); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("rows %v, want %v", got, want)
			}
			if total := doc.Find("#total").Text(); !strings.HasPrefix(total, strconv.Itoa(len(want))+" ") {
				t.Errorf("total %q, want %d", total, len(want))
			}
			// The form shows the filter, and the export links carry it.
			q, _ := url.ParseQuery(tc.query)
			for k, v := range q {
				var shown string
				if sel := doc.Find(`select[name="` + k + `"] option[selected]`); sel.Length() > 0 {
					shown = sel.AttrOr("value", "")
				} else {
					shown = doc.Find(`input[name="`+k+`"]`).AttrOr("value", "")
				}
				if shown != v[0] {
					t.Errorf("form field %s shows %q, want %q", k, shown, v[0])
				}
			}
			href, _ := doc.Find("#export-csv").Attr("href")
			u, _ := url.Parse(href)
			if u.Path != "/admin/export.csv" || u.Query().Encode() != q.Encode() {
				t.Errorf("export link %q for %q", href, tc.query)
			}
		})
	}

	// A filter that cannot be read lists each problem on a line of its own, and offers no
	// export, no count and no "no results" while it stands.
	for _, bad := range []struct {
		query string
		want  []string
	}{
		{"since=yesterday", []string{`since: "yesterday" is not a time`}},
		{"kind=ftp&verdict=maybe&until=soon", []string{`until: "soon" is not a time`, `kind "ftp" must be one of`, `verdict "maybe" must be one of`}},
		{"before=x", []string{`before "x" must be a result id`}},
	} {
		resp := e.do("GET", "/admin/results?"+bad.query, nil)
		doc, _ := goquery.NewDocumentFromReader(resp.Body)
		if resp.StatusCode != http.StatusBadRequest || doc.Find(".error").Length() != 1 {
			t.Errorf("%s: %s", bad.query, resp.Status)
		}
		var got []string
		doc.Find("#filter-errors li").Each(func(_ int, li *goquery.Selection) { got = append(got, li.Text()) })
		if len(got) != len(bad.want) {
			t.Errorf("%s: problems %q, want one line each for %q", bad.query, got, bad.want)
		}
		for i := range min(len(got), len(bad.want)) {
			if !strings.HasPrefix(got[i], bad.want[i]) {
				t.Errorf("%s: problem %d reads %q, want %q…", bad.query, i, got[i], bad.want[i])
			}
		}
		for _, hidden := range []string{"#export-csv", "#export-ndjson", "#total", "#empty", "#results"} {
			if doc.Find(hidden).Length() != 0 {
				t.Errorf("%s: the page shows %s while the filter is invalid", bad.query, hidden)
			}
		}
	}
}

func TestResultsKeysetPagination(t *testing.T) {
	e := newEnv(t, 7)
	var rs []store.Result
	for i := range 40 {
		rs = append(rs, result(i))
	}
	e.add(rs...)
	e.login()

	for _, tc := range []struct {
		query string
		want  int
	}{{"", 40}, {"?verdict=blocked", 13}} {
		seen := map[string]bool{}
		next, pages := "/admin/results"+tc.query, 0
		for next != "" {
			doc := e.page(next)
			pages++
			for _, id := range rowIDs(doc) {
				if seen[id] {
					t.Fatalf("%s: row %s twice", tc.query, id)
				}
				seen[id] = true
			}
			next = doc.Find("a#older").AttrOr("href", "")
			if pages > 1 && doc.Find(`a[rel=first]`).Length() != 1 {
				t.Errorf("no Newest link on page %d", pages)
			}
			if pages > 20 {
				t.Fatal("no end")
			}
		}
		if len(seen) != tc.want || pages != (tc.want+6)/7+boolInt(tc.want%7 == 0) {
			t.Errorf("%q: %d rows in %d pages, want %d", tc.query, len(seen), pages, tc.want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func report() probe.Report {
	return probe.Report{
		URL: "https://cuicsub.example.com/cuic/rest/about", Origin: "https://finesse0.example:8445",
		Method: "GET", Kind: targets.CUIC, Node: "cuicsub.example.com", Verdict: "blocked",
		CorsError: "PreflightInvalidStatus", FailedParameter: "",
		Console: "Access to fetch at 'https://cuicsub.example.com/cuic/rest/about' from origin 'https://finesse0.example:8445' has been blocked by CORS policy",
		Preflight: &probe.Exchange{Kind: "preflight", Method: "OPTIONS", URL: "https://cuicsub.example.com/cuic/rest/about",
			RequestHeaders: []cors.Header{{Name: "Origin", Value: "https://finesse0.example:8445"}},
			Status:         403, Headers: http.Header{"Server": {"Apache"}, "X-Frame-Options": {"SAMEORIGIN"}}},
		Fixes: []fix.Fix{{Node: "cuicsub.example.com", Summary: "Allow the Finesse origin on cuicsub.",
			Commands: []string{"utils cuic cors allowed_origin add https://finesse0.example:8445"},
			Restart:  []string{"Intelligence Center Reporting Service"}}},
		Placeholders: []string{"Authorization"}, Cut: []string{"steps 3 to 19 of 21 (the middle of the redirect chain)"},
	}
}

func TestResultDetail(t *testing.T) {
	e := newEnv(t, 0)
	r := result(1)
	r.BrowserError = "TypeError: Failed to fetch"
	r.ClientAddr = "10.0.0.9"
	id := e.add(r)[0]
	rep, _ := json.Marshal(report())
	if _, err := e.store.AddDiagnosis(context.Background(), store.Diagnosis{
		ResultID: id, CreatedAt: t0.Add(time.Hour), URL: r.URL, Origin: r.PageOrigin, Kind: "cuic",
		Node: r.Node, Verdict: "blocked", Reason: "PreflightInvalidStatus", NetworkClass: "", Report: rep,
	}); err != nil {
		t.Fatal(err)
	}
	e.login()
	doc := e.page("/admin/results/" + strconv.FormatInt(id, 10))

	browser := doc.Find("#browser dl").Text()
	for _, want := range []string{r.Node, r.URL, r.PageOrigin, "TypeError: Failed to fetch", "Mozilla/5.0", "10.0.0.9", "agent1", "1.0.0"} {
		if !strings.Contains(browser, want) {
			t.Errorf("browser side lacks %q", want)
		}
	}
	server := doc.Find("#server")
	if got := server.Find("pre.commands").Text(); got != "utils cuic cors allowed_origin add https://finesse0.example:8445" {
		t.Errorf("fix commands %q", got)
	}
	if !strings.Contains(server.Find(".placeholders").Text(), "placeholders instead of the values of Authorization") ||
		!strings.Contains(server.Find(".cut").Text(), "steps 3 to 19 of 21") {
		t.Errorf("the diagnosis does not say what the service changed and cut: %q %q", server.Find(".placeholders").Text(), server.Find(".cut").Text())
	}
	if !strings.Contains(server.Find(".fix").Text(), "Intelligence Center Reporting Service") {
		t.Error("no restart")
	}
	if got := server.Find("pre.headers.response").Text(); got != "Server: Apache\nX-Frame-Options: SAMEORIGIN" {
		t.Errorf("raw headers %q", got)
	}
	if !strings.Contains(server.Find(".exchange h3").Text(), "403 Forbidden") {
		t.Errorf("status: %q", server.Find(".exchange h3").Text())
	}
	if !strings.Contains(server.Find("pre.console").Text(), "has been blocked by CORS policy") {
		t.Error("no console line")
	}
	if !strings.Contains(server.Find("dl").Text(), "PreflightInvalidStatus") {
		t.Error("no reason")
	}
	copyText := doc.Find("textarea#copy[readonly]").Text()
	for _, want := range []string{"cuicsub.example.com", "PreflightInvalidStatus", "utils cuic cors allowed_origin add", "Preflight: OPTIONS"} {
		if !strings.Contains(copyText, want) {
			t.Errorf("copy text lacks %q:\n%s", want, copyText)
		}
	}

	if got := fieldValue(doc.Find("#browser"), "Browser error"); got != "TypeError: Failed to fetch" {
		t.Errorf("Browser error reads %q", got)
	}

	// An allowed result has no browser error and no reason: those fields are left out, and no
	// field anywhere is shown empty.
	ok := result(0)
	okID := e.add(ok)[0]
	doc = e.page("/admin/results/" + strconv.FormatInt(okID, 10))
	var labels []string
	doc.Find("#browser dt").Each(func(_ int, dt *goquery.Selection) { labels = append(labels, dt.Text()) })
	for _, hidden := range []string{"Browser error", "Reason (from the diagnosis)", "Browser clock", "Client address", "Extension", "Role"} {
		if slices.Contains(labels, hidden) {
			t.Errorf("the allowed result shows an empty %q (fields %q)", hidden, labels)
		}
	}
	for _, shown := range []string{"Received", "Node", "URL", "Verdict", "Duration"} {
		if !slices.Contains(labels, shown) {
			t.Errorf("the allowed result lacks %q (fields %q)", shown, labels)
		}
	}
	doc.Find("dl.fields dd").Each(func(_ int, dd *goquery.Selection) {
		if strings.TrimSpace(dd.Text()) == "" {
			t.Errorf("an empty field: %q", dd.Prev().Text())
		}
	})

	for _, p := range []string{"/admin/results/999999", "/admin/results/abc"} {
		if resp := e.do("GET", p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s", p, resp.Status)
		}
	}
}

// fieldValue is the value of the labelled field in s ("" when there is none).
func fieldValue(s *goquery.Selection, label string) string {
	var v string
	s.Find("dl.fields dt").Each(func(_ int, dt *goquery.Selection) {
		if dt.Text() == label {
			v = dt.Next().Text()
		}
	})
	return v
}

func TestExport(t *testing.T) {
	e := newEnv(t, 0)
	var rs []store.Result
	for i := range 2500 { // more than two keyset pages
		rs = append(rs, result(i))
	}
	rs[2499].UserAgent = "=HYPERLINK(\"http://evil\")"
	rs[2499].HeaderNames = []string{"Authorization", "X-Req"}
	e.add(rs...)
	e.login()

	resp := e.do("GET", "/admin/export.csv", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="corscheck-results-`) {
		t.Fatalf("csv: %s %v", resp.Status, resp.Header)
	}
	records, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 2501 || strings.Join(records[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("%d records, header %v", len(records), records[0])
	}
	first := records[1]
	if first[7] != rs[2499].Node || first[1] != rs[2499].ReceivedAt.Format(time.RFC3339) || first[15] != `'=HYPERLINK("http://evil")` || first[10] != "Authorization X-Req" {
		t.Errorf("first row %v", first)
	}
	seen := map[string]bool{}
	for _, r := range records[1:] {
		seen[r[0]] = true
	}
	if len(seen) != 2500 {
		t.Errorf("%d distinct ids", len(seen))
	}

	resp = e.do("GET", "/admin/export.ndjson?verdict=blocked&kind=cuic", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" ||
		!strings.HasSuffix(resp.Header.Get("Content-Disposition"), `.ndjson"`) {
		t.Fatalf("ndjson: %s %v", resp.Status, resp.Header)
	}
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var r store.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Verdict != "blocked" || r.TargetKind != "cuic" || r.ID == 0 {
			t.Fatalf("row %+v", r)
		}
		n++
	}
	if n != 2500/3+boolInt(2500%3 > 1) {
		t.Errorf("%d ndjson rows", n)
	}
	if resp := e.do("GET", "/admin/export.csv?since=soon", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad filter: %s", resp.Status)
	}
}

func TestHostileValuesRenderInert(t *testing.T) {
	e := newEnv(t, 0)
	script := `<script>alert(1)</script>`
	img := `"><img src=x onerror=alert(1)>`
	r := result(1)
	r.Node = script
	r.UserAgent = img
	r.BrowserError = script + img
	r.URL = "javascript:alert(1)//" + img
	r.PageOrigin = img
	r.AgentID = script
	r.ReceivedAt = e.clock.Now().Add(-time.Hour) // inside every dashboard window
	id := e.add(r)[0]
	rep := report()
	rep.Preflight.Headers = http.Header{"X-Evil": {script, img}}
	rep.Fixes[0].Node = img
	rep.Console = script
	b, _ := json.Marshal(rep)
	if _, err := e.store.AddDiagnosis(context.Background(), store.Diagnosis{ResultID: id, CreatedAt: e.clock.Now(),
		URL: r.URL, Origin: img, Kind: "cuic", Node: script, Verdict: "blocked", Reason: img, Report: b}); err != nil {
		t.Fatal(err)
	}
	e.login()
	for _, p := range []string{"/admin/results", "/admin/results?node=" + url.QueryEscape(script) + "&origin=" + url.QueryEscape(img),
		"/admin/results/" + strconv.FormatInt(id, 10), "/admin/"} {
		resp := e.do("GET", p, nil)
		raw, _ := io.ReadAll(resp.Body)
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if n := doc.Find("script, img, [onerror]").Length(); n != 0 {
			t.Errorf("%s: %d script/img elements", p, n)
		}
		if !strings.Contains(doc.Text(), script) || !strings.Contains(doc.Text()+attrs(doc), img) {
			t.Errorf("%s: the hostile text is not shown as text", p)
		}
		if strings.Contains(string(raw), script) || strings.Contains(string(raw), "<img") {
			t.Errorf("%s: unescaped markup in the page", p)
		}
		doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
			if h := s.AttrOr("href", ""); !strings.HasPrefix(h, "/admin/") {
				t.Errorf("%s: link %q", p, h)
			}
		})
	}
}

// attrs is every attribute value of the document (form fields show values there).
func attrs(doc *goquery.Document) string {
	var b strings.Builder
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			b.WriteString(a.Val)
		}
	})
	return b.String()
}

func TestStaticStylesheet(t *testing.T) {
	e := newEnv(t, 0)
	resp := e.do("GET", "/admin/static/admin.css", nil) // served signed out: the sign-in page uses it
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(string(body), "prefers-color-scheme: dark") {
		t.Fatalf("%s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
}

// A page link whose first result retention removed meanwhile says so instead of guessing.
func TestResultsPageAfterRetention(t *testing.T) {
	e := newEnv(t, 2)
	ids := e.add(result(0), result(1), result(2), result(3))
	e.login()
	older := e.page("/admin/results").Find("#older").AttrOr("href", "")
	if want := "/admin/results?before=" + strconv.FormatInt(ids[2], 10); older != want {
		t.Fatalf("Older link %q, want %q", older, want)
	}
	if got := rowIDs(e.page(older)); len(got) != 2 || got[0] != strconv.FormatInt(ids[1], 10) {
		t.Fatalf("second page %q", got)
	}
	if _, err := e.store.DeleteBefore(context.Background(), t0.Add(150*time.Minute)); err != nil {
		t.Fatal(err)
	}
	resp := e.do("GET", older, nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "no longer exists") {
		t.Fatalf("page after a deleted result: %s\n%s", resp.Status, body)
	}
}

// Without Sec-Fetch-Site, http.CrossOriginProtection compares the Origin's host with Host only:
// the audit's https:// Origin was accepted on the http:// port. The scheme must match too.
func TestCrossSchemePostRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    func(*Config)
		hdr    []string
		status int
	}{
		{"https page, http service", nil, []string{"Origin", "https://corscheck.example"}, http.StatusForbidden},
		{"http page, http service", nil, []string{"Origin", "http://corscheck.example"}, http.StatusSeeOther},
		{"https page behind a TLS proxy", func(c *Config) { c.TrustProxy = true },
			[]string{"Origin", "https://corscheck.example", "X-Forwarded-Proto", "https"}, http.StatusSeeOther},
		{"http page behind a TLS proxy", func(c *Config) { c.TrustProxy = true },
			[]string{"Origin", "http://corscheck.example", "X-Forwarded-Proto", "https"}, http.StatusForbidden},
		{"X-Forwarded-Proto not trusted", nil,
			[]string{"Origin", "https://corscheck.example", "X-Forwarded-Proto", "https"}, http.StatusForbidden},
		{"the public URL's origin", func(c *Config) { c.PublicURL = "https://corscheck.example/" },
			[]string{"Origin", "https://corscheck.example"}, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*Config)
			if tc.cfg != nil {
				opts = append(opts, tc.cfg)
			}
			e := newEnv(t, 0, opts...)
			e.login()
			resp := e.do("POST", "/admin/logout", nil, tc.hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("POST /admin/logout with %v: %s, want %d", tc.hdr, resp.Status, tc.status)
			}
			if tc.status == http.StatusForbidden {
				e.page("/admin/results") // the refused sign-out left the session
			}
		})
	}
}

// /admin/static/ serves its files but lists none.
func TestStaticFilesNotListed(t *testing.T) {
	e := newEnv(t, 0)
	for _, p := range []string{"/admin/static/", "/admin/static", "/admin/static/.", "/admin/static/%2e/"} {
		resp := e.do("GET", p, nil)
		body, _ := io.ReadAll(resp.Body)
		// A listing links to its files by name; the 404 page links the stylesheet by its path.
		if resp.StatusCode == http.StatusOK || strings.Contains(string(body), `href="admin.css"`) {
			t.Errorf("GET %s: %s %q", p, resp.Status, body)
		}
	}
	if resp := e.do("GET", "/admin/static/admin.css", nil); resp.StatusCode != http.StatusOK ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("the stylesheet: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
}
