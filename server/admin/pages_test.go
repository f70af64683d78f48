package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/web"
)

// errorDoc checks that resp is the error page with status, in the admin UI's frame and under
// its CSP, and returns it.
func errorDoc(t *testing.T, what string, resp *http.Response, status int) *goquery.Document {
	t.Helper()
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%s: %s %q, want %d and the error page", what, resp.Status, resp.Header.Get("Content-Type"), status)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("%s: CSP %q", what, csp)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find(`link[rel=stylesheet]`).AttrOr("href", "") != web.StylesheetPath || doc.Find("#error-page").Length() != 1 {
		t.Errorf("%s: not the admin UI's error page", what)
	}
	if doc.Find(`a#back[href="/admin/"]`).Length() != 1 {
		t.Errorf("%s: no way back to the dashboard", what)
	}
	if h1 := doc.Find("h1").Text(); h1 != strconv.Itoa(status)+" · "+http.StatusText(status) {
		t.Errorf("%s: heading %q", what, h1)
	}
	if doc.Find("script").Length() != 0 {
		t.Errorf("%s: a script on the page", what)
	}
	return doc
}

// failingSummary is a store whose dashboard summary cannot be read.
type failingSummary struct{ store.Store }

func (failingSummary) Summary(context.Context, time.Time, time.Duration, string) (store.Summary, error) {
	return store.Summary{}, errors.New("disk on fire: /var/lib/corscheck/secret.db")
}

// TestErrorPages: under /admin/, an unknown page, a missing result, a bad parameter and a
// database that fails each get the error page, with the way back, never a bare line of text.
func TestErrorPages(t *testing.T) {
	e := newEnv(t, 0)
	doc := errorDoc(t, "/admin/nope signed out", e.do("GET", "/admin/nope", nil), http.StatusNotFound)
	if doc.Find("header nav").Length() != 0 {
		t.Error("the 404 page shows the admin navigation to someone signed out")
	}

	e.login()
	doc = errorDoc(t, "/admin/nope", e.do("GET", "/admin/nope", nil), http.StatusNotFound)
	if doc.Find(`header nav a[href="/admin/results"]`).Length() != 1 {
		t.Error("the 404 page hides the admin navigation from someone signed in")
	}
	for path, status := range map[string]int{
		"/admin/results/999999":     http.StatusNotFound,
		"/admin/results/abc":        http.StatusNotFound,
		"/admin/incidents/999999":   http.StatusNotFound,
		"/admin/explain/cases/4242": http.StatusNotFound,
		"/admin/incidents?before=x": http.StatusBadRequest,
		"/admin/export.csv?since=x": http.StatusBadRequest,
		"/admin/?source=nobody":     http.StatusBadRequest,
	} {
		doc := errorDoc(t, path, e.do("GET", path, nil), status)
		if doc.Find("#error-message").Text() == "" {
			t.Errorf("%s: the page does not say what went wrong", path)
		}
	}
	// What the request carried is shown as text.
	const hostile = `<script>alert(1)</script>`
	doc = errorDoc(t, "a hostile window", e.do("GET", "/admin/?window="+url.QueryEscape(hostile), nil), http.StatusBadRequest)
	if msg := doc.Find("#error-message").Text(); !strings.Contains(msg, hostile) {
		t.Errorf("the message %q does not show the window as text", msg)
	}

	// A database that fails: the error page, without the error's details.
	f := newEnv(t, 0, func(c *Config) { c.Store = failingSummary{c.Store} })
	f.login()
	doc = errorDoc(t, "a failing database", f.do("GET", "/admin/", nil), http.StatusInternalServerError)
	if msg := doc.Find("#error-message").Text(); !strings.Contains(msg, "database could not be read") || strings.Contains(doc.Text(), "secret.db") {
		t.Errorf("500 page: %q", msg)
	}
}

// TestNotFoundOutsideAdmin: the 404 page for paths outside /admin/, signed out by nature (the
// session cookie is for /admin only).
func TestNotFoundOutsideAdmin(t *testing.T) {
	w := httptest.NewRecorder()
	NotFound(slog.New(slog.DiscardHandler)).ServeHTTP(w, httptest.NewRequest("GET", "/favicon.ico", nil))
	errorDoc(t, "/favicon.ico", w.Result(), http.StatusNotFound)
}

func home(t *testing.T, cfg HomeConfig) *goquery.Document {
	t.Helper()
	w := httptest.NewRecorder()
	Home(cfg).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	resp := w.Result()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("GET /: %s %v", resp.Status, resp.Header)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find("script").Length() != 0 || doc.Find(`link[rel=stylesheet]`).AttrOr("href", "") != web.StylesheetPath {
		t.Error("the start page is not a script-free page in the admin UI's style")
	}
	return doc
}

// TestHome: the start page says where the gadget is and how to put it on the desktop, and
// links to the admin UI and the health checks, and names the docs.
func TestHome(t *testing.T) {
	const service = "https://corscheck.example.com:8443"
	doc := home(t, HomeConfig{PublicURL: service + "/", MetricsHere: true})
	gadgetURL := service + "/gadget/TestCORSgadget.xml"
	if href := doc.Find("#gadget-url").AttrOr("href", ""); href != gadgetURL {
		t.Errorf("gadget link %q, want %q", href, gadgetURL)
	}
	if got := doc.Find("#layout-snippet").Text(); got != "<gadget>"+gadgetURL+"</gadget>" {
		t.Errorf("layout snippet %q", got)
	}
	if got := doc.Find("#build-command").Text(); got != "corscheck gadget build --service "+service {
		t.Errorf("build command %q", got)
	}
	if doc.Find("#http-note").Length() != 0 {
		t.Error("an https service gets the mixed-content note")
	}
	// A public URL is the admin's text: the command quotes it for the shell; a plain http one
	// gets the mixed-content note.
	plain := home(t, HomeConfig{PublicURL: "http://svc.example/$(touch${IFS}/tmp/pwned);"})
	if got := plain.Find("#build-command").Text(); got != "corscheck gadget build --service 'http://svc.example/$(touch${IFS}/tmp/pwned);'" {
		t.Errorf("build command %q: the URL is not quoted for the shell", got)
	}
	if plain.Find("#http-note").Length() != 1 {
		t.Error("a plain http service gets no mixed-content note")
	}
	for _, href := range []string{"/admin/", "/healthz", "/readyz", "/metrics"} {
		if doc.Find(`a[href="`+href+`"]`).Length() == 0 {
			t.Errorf("no link to %s", href)
		}
	}
	text := doc.Text()
	for _, doc := range []string{"docs/install-finesse.md", "docs/service.md", "docs/admin.md", "docs/api.md", "README.md"} {
		if !strings.Contains(text, doc) {
			t.Errorf("the start page does not name %s", doc)
		}
	}

	// Without --public-url the gadget is a path and the page says what that means; with
	// /metrics elsewhere, it is named but not linked.
	doc = home(t, HomeConfig{})
	if href := doc.Find("#gadget-url").AttrOr("href", ""); href != "/gadget/TestCORSgadget.xml" {
		t.Errorf("gadget link without a public URL: %q", href)
	}
	if got := doc.Find("#layout-snippet").Text(); got != "<gadget>https://<this service>/gadget/TestCORSgadget.xml</gadget>" {
		t.Errorf("layout snippet without a public URL: %q", got)
	}
	if !strings.Contains(doc.Find("#gadget").Text(), "--public-url") {
		t.Error("the page does not say the service has no --public-url")
	}
	if doc.Find(`a[href="/metrics"]`).Length() != 0 || !strings.Contains(doc.Find("#health").Text(), "--metrics-listen") {
		t.Error("/metrics linked although it is served elsewhere")
	}

	// The configured URL is text, never markup.
	const hostile = `https://x.example/"><script>alert(1)</script>`
	doc = home(t, HomeConfig{PublicURL: hostile})
	if !strings.Contains(doc.Find("#build-command").Text(), hostile) {
		t.Errorf("build command %q", doc.Find("#build-command").Text())
	}
}
