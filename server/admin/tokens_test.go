package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/corsquickcheck/corscheck/server/auth"
)

func TestAPITokensPage(t *testing.T) {
	var gate *auth.Gate
	e := newEnv(t, 0, func(c *Config) { gate = c.Gate })
	if resp := e.do("GET", "/admin/tokens", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed out: %s", resp.Status)
	}
	e.login()
	doc := e.page("/admin/tokens")
	if doc.Find("#no-tokens").Length() != 1 || doc.Find(`nav a[href="/admin/tokens"][aria-current]`).Length() != 1 {
		t.Fatal("an empty list says so, and the header links the page")
	}

	resp := e.do("POST", "/admin/tokens", url.Values{"name": {"deploy <script>alert(1)</script>"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %s", resp.Status)
	}
	doc, _ = goquery.NewDocumentFromReader(resp.Body)
	token := doc.Find("#new-token #token").Text()
	if !strings.HasPrefix(token, "corscheck_") || doc.Find("script").Length() != 0 ||
		!strings.Contains(doc.Find("#tokens td").First().Text(), "<script>") {
		t.Fatalf("token %q, page %s", token, doc.Find("main").Text())
	}
	api := auth.Attempt{Client: "192.0.2.1", Via: "admin API"}
	if _, err := gate.Token(context.Background(), api, token); err != nil {
		t.Fatalf("the token shown does not work: %v", err)
	}
	// Shown once: the list has the name and when it was last used, never the token.
	doc = e.page("/admin/tokens")
	if html, _ := doc.Html(); strings.Contains(html, token) || doc.Find("#new-token").Length() != 0 {
		t.Fatal("the token is shown again")
	}
	row := doc.Find("#tokens tbody tr")
	if row.Length() != 1 || strings.Contains(row.Text(), "never") {
		t.Fatalf("rows %q: want one, used", row.Text())
	}

	for _, bad := range []string{"", "   ", strings.Repeat("n", 101), "bad\x07name"} {
		if resp := e.do("POST", "/admin/tokens", url.Values{"name": {bad}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("name %q: %s", bad, resp.Status)
		}
	}
	if ts, _ := gate.Tokens(context.Background()); len(ts) != 1 {
		t.Fatalf("refused names made tokens: %d", len(ts))
	}

	revoke, _ := row.Find("form").Attr("action")
	resp = e.do("POST", revoke, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/tokens?revoked=1" {
		t.Fatalf("revoke: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	if _, err := gate.Token(context.Background(), api, token); !errors.Is(err, auth.ErrWrong) {
		t.Fatalf("a revoked token: %v", err)
	}
	if resp := e.do("POST", revoke, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("revoking twice: %s", resp.Status)
	}
	if resp := e.do("POST", "/admin/tokens/x/revoke", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("revoking token x: %s", resp.Status)
	}
	if doc := e.page("/admin/tokens?revoked=1"); doc.Find("#notice").Length() != 1 || doc.Find("#tokens").Length() != 0 {
		t.Error("after revoking: no notice, or the token is still listed")
	}
}
