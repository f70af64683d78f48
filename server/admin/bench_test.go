package admin

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/go-chi/chi/v5"

	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/synth"
)

// BenchmarkAdminPages is the admin UI's scale figure: the server time of each page on a store of
// ten million results against one of ten thousand, measured in the same run. The big store is
// made once by `make fill` (its directory, or a postgres:// URL, in CORSCHECK_BENCH_STORE); the
// small one is made here from the same plan (the same span, incidents and seed), so only the
// number of results differs. Metrics: ms per page at each size and their ratio, which the
// design aims to keep at most 2. Timings are of warm caches: every page is served a few times
// before the clock starts.
func BenchmarkAdminPages(b *testing.B) {
	dsn := os.Getenv("CORSCHECK_BENCH_STORE")
	if dsn == "" {
		b.Skip("CORSCHECK_BENCH_STORE is not set: `make fill` makes the store, `make bench` sets it")
	}
	ctx := context.Background()
	big, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer big.Close()
	raw, err := big.Setting(ctx, synth.FillSetting)
	if err != nil {
		b.Fatalf("%s was not filled by `make fill`: %v", dsn, err)
	}
	var plan synth.FillPlan
	if err := json.Unmarshal([]byte(raw), &plan); err != nil {
		b.Fatal(err)
	}
	smallCount := plan.Results / 1000
	o, err := plan.Options(smallCount)
	if err != nil {
		b.Fatal(err)
	}
	small, err := store.Open(ctx, b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer small.Close()
	if err := synth.Fill(ctx, small, o, 0, nil); err != nil {
		b.Fatal(err)
	}

	now := func() time.Time { return plan.Now }
	sizes := []struct {
		label string
		h     *signedIn
	}{
		{"small", signIn(b, small, now)},
		{"big", signIn(b, big, now)},
	}
	since := windows[0].start(plan.Now).Format(formTime)
	origin := synth.DefaultOrigins[0]
	pages := []struct{ name, path string }{
		{"dashboard-24h", "/admin/"},
		{"dashboard-7d", "/admin/?window=7d"},
		{"dashboard-30d", "/admin/?window=30d"},
		{"results", "/admin/results"},
		{"results-page-2", "older"}, // the second page, by the first page's Older link
		{"results-blocked", "/admin/results?verdict=blocked"},
		{"results-reason", "/admin/results?reason=PreflightMissingAllowOriginHeader"},
		// A dashboard cell's results. In 24 hours the small store has fewer than a page of them
		// (about 25 rows against 50), so the 7-day window compares pages of the same length.
		{"results-cell-24h", "/admin/results?" + url.Values{"kind": {"cuic"}, "node": {"cuicsub.example.com"},
			"origin": {origin}, "since": {since}}.Encode()},
		{"results-cell-7d", "/admin/results?" + url.Values{"kind": {"cuic"}, "node": {"cuicsub.example.com"},
			"origin": {origin}, "since": {windows[1].start(plan.Now).Format(formTime)}}.Encode()},
		{"results-agent", "/admin/results?agent=agent-07"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			paths := make([]string, len(sizes))
			for i, s := range sizes {
				paths[i] = p.path
				if p.path == "older" {
					paths[i] = s.h.olderLink(b, "/admin/results")
				}
				for range 3 { // warm the caches
					s.h.get(b, paths[i])
				}
			}
			spent := make([]time.Duration, len(sizes))
			for b.Loop() {
				for i, s := range sizes {
					start := time.Now()
					s.h.get(b, paths[i])
					spent[i] += time.Since(start)
				}
			}
			n := float64(b.N)
			small, big := float64(spent[0].Microseconds())/n/1000, float64(spent[1].Microseconds())/n/1000
			b.ReportMetric(small, "ms/page-"+strconv.Itoa(smallCount/1000)+"k")
			b.ReportMetric(big, "ms/page-"+strconv.Itoa(plan.Results/1_000_000)+"M")
			b.ReportMetric(big/small, "ratio")
		})
	}
}

// signedIn is the admin UI of one store with a session.
type signedIn struct {
	h      http.Handler
	cookie *http.Cookie
}

func signIn(b *testing.B, st store.Store, now func() time.Time) *signedIn {
	r := chi.NewRouter()
	r.Mount("/admin", New(Config{Store: st, Gate: newGate(st, now), Now: now, Logger: slog.New(slog.DiscardHandler)}))
	req := httptest.NewRequest("POST", "http://corscheck.example/admin/login",
		strings.NewReader(url.Values{"password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			return &signedIn{h: r, cookie: c}
		}
	}
	b.Fatalf("sign-in: %d", w.Code)
	return nil
}

// get serves one page and fails unless it is 200; it returns the body.
func (s *signedIn) get(b *testing.B, path string) string {
	req := httptest.NewRequest("GET", "http://corscheck.example"+path, nil)
	req.AddCookie(s.cookie)
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", path, w.Code, w.Body.String())
	}
	return w.Body.String()
}

// olderLink is the path of the page after path.
func (s *signedIn) olderLink(b *testing.B, path string) string {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(s.get(b, path)))
	if err != nil {
		b.Fatal(err)
	}
	href, ok := doc.Find("#older").Attr("href")
	if !ok {
		b.Fatalf("%s has no Older link", path)
	}
	return href
}
