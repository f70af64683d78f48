package admin

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// upload posts the Explain form: the small fields first, then the console text or the HAR file,
// in the order the page's form sends them.
func (e *env) upload(fields map[string]string, harName string, har []byte) *http.Response {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, k := range []string{"kind", "browser", "origin", "console"} {
		mw.WriteField(k, fields[k])
	}
	fw, _ := mw.CreateFormFile("har", harName)
	fw.Write(har)
	mw.Close()
	req := httptest.NewRequest("POST", "http://corscheck.example/admin/explain", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(e.cookie)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w.Result()
}

func readDoc(t *testing.T, resp *http.Response) (*goquery.Document, string) {
	t.Helper()
	raw, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return doc, string(raw)
}

var secrets = []string{"c2VjcmV0LWFnZW50OmhvdW5keW9n", "tok-123456", "cookie-value-789", "JSESSIONID=abc"}

// The Explain page shows a HAR's findings like the result detail page, with every secret
// redacted, keeps nothing, and keeps a case only when the admin saves it.
func TestExplainPage(t *testing.T) {
	har, err := os.ReadFile("../explain/testdata/field-chrome.har")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, 0)
	e.login()
	if doc := e.page("/admin/explain"); doc.Find(`form[enctype="multipart/form-data"] input[type=file][name=har]`).Length() != 1 {
		t.Fatal("no upload form")
	}
	resp := e.upload(map[string]string{"kind": "auto"}, "agent1001.har", har)
	doc, raw := readDoc(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: %s\n%s", resp.Status, doc.Text())
	}
	text := doc.Text()
	for _, want := range []string{"cuicsub.example", "PreflightMissingAllowOriginHeader", "utils cuic cors allowed_origin add https://finessep.example:8445",
		"4 cross-origin requests on 4 nodes: 2 blocked, 1 unreachable, 1 allowed.", "HAR entry 3", "Settle it live"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, s := range secrets {
		if strings.Contains(raw, s) {
			t.Errorf("secret %q on the page", s)
		}
	}
	if cs, _ := e.store.Cases(context.Background(), 10); len(cs) != 0 {
		t.Fatalf("an upload was kept: %+v", cs)
	}

	findings, ok := doc.Find(`input[name=findings]`).Attr("value")
	title, _ := doc.Find(`input[name=title]`).Attr("value")
	if !ok || !strings.HasPrefix(title, "agent1001.har") {
		t.Fatalf("no save form (title %q)", title)
	}
	// Whatever comes back from the page is redacted again before it is stored.
	tampered := strings.Replace(findings, `"REDACTED"`, `"Bearer planted-secret-42"`, 1)
	if tampered == findings {
		t.Fatal("no redacted value to tamper with")
	}
	resp = e.do("POST", "/admin/explain/cases", url.Values{"title": {title}, "findings": {tampered}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/explain/cases/") {
		t.Fatalf("save: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	cs, err := e.store.Cases(context.Background(), 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("cases %+v %v", cs, err)
	}
	c, _ := e.store.Case(context.Background(), cs[0].ID)
	for _, s := range append(secrets, "planted-secret-42") {
		if strings.Contains(string(c.Findings), s) {
			t.Errorf("secret %q stored", s)
		}
	}
	doc = e.page(resp.Header.Get("Location"))
	if !strings.Contains(doc.Text(), "PreflightMissingAllowOriginHeader") || !strings.Contains(doc.Text(), title) {
		t.Errorf("the saved case does not show its findings")
	}
	if doc := e.page("/admin/explain"); !strings.Contains(doc.Find("ul").Text(), title) {
		t.Errorf("the case is not listed")
	}
	if resp := e.do("POST", "/admin/explain/cases", url.Values{"title": {"x"}, "findings": {`[{"verdict": 1}]`}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unreadable findings: %s", resp.Status)
	}
}

func TestExplainPageConsoleAndLimits(t *testing.T) {
	e := newEnv(t, 0, func(c *Config) { c.ExplainLimit = 4096 })
	e.login()
	console := "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://ld.example:12005/?token=s3cr3t-77. (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 403.\n"
	resp := e.upload(map[string]string{"console": console, "origin": "https://finessep.example:8445"}, "", nil)
	doc, raw := readDoc(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(doc.Text(), "CORSMissingAllowOrigin") || !strings.Contains(doc.Text(), "Firefox's words") {
		t.Fatalf("console: %s\n%s", resp.Status, doc.Text())
	}
	if strings.Contains(raw, "s3cr3t-77") {
		t.Error("a token in a URL survived")
	}
	for _, tt := range []struct {
		name   string
		fields map[string]string
		har    []byte
		status int
	}{
		{"too large", nil, bytes.Repeat([]byte(" "), 8192), http.StatusRequestEntityTooLarge},
		{"not a HAR", nil, []byte(`{"name":"x"}`), http.StatusBadRequest},
		{"nothing", nil, nil, http.StatusBadRequest},
		{"bad origin", map[string]string{"origin": "finesse"}, []byte("{}"), http.StatusBadRequest},
	} {
		if resp := e.upload(tt.fields, "x.har", tt.har); resp.StatusCode != tt.status {
			t.Errorf("%s: %s, want %d", tt.name, resp.Status, tt.status)
		}
	}
}

// A HAR is untrusted input: what it holds is shown as text, never as markup.
func TestExplainHostileHAR(t *testing.T) {
	e := newEnv(t, 0)
	e.login()
	evil := `<script>alert(1)</script>`
	har := `{"log":{"creator":{"name":"WebInspector"},"entries":[{"startedDateTime":"` + evil + `","_resourceType":"fetch",
		"request":{"method":"GET","url":"https://cuic.example:8444/cuic/` + url.PathEscape(evil) + `","headers":[{"name":"Origin","value":"https://finessep.example:8445"}]},
		"response":{"status":200,"headers":[{"name":"Access-Control-Allow-Origin","value":"` + strings.ReplaceAll(evil, "/", `\/`) + `"}]}}]}}`
	resp := e.upload(nil, "evil.har", []byte(har))
	doc, raw := readDoc(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s\n%s", resp.Status, doc.Text())
	}
	if n := doc.Find("script").Length(); n != 0 || strings.Contains(raw, evil) {
		t.Errorf("markup from the HAR reached the page (%d script elements)", n)
	}
	if !strings.Contains(doc.Text(), evil) {
		t.Error("the HAR's value is not shown as text")
	}
}

// URLs holding quotes and brackets beside their tokens (every secret spelled SECRET…): nothing
// secret on the page, in the form that saves a case, or in the stored case, also when the
// findings posted back were edited to hold secrets in every field.
func TestExplainPageSecrets(t *testing.T) {
	har, err := os.ReadFile("../explain/testdata/secret-url.har")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, 0)
	e.login()
	resp := e.upload(nil, "secret-url.har", har)
	doc, raw := readDoc(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(raw, "REDACTED") {
		t.Fatalf("upload: %s\n%s", resp.Status, doc.Text())
	}
	if strings.Contains(raw, "SECRET") {
		t.Errorf("a secret on the page:\n%s", raw)
	}
	findings, _ := doc.Find(`input[name=findings]`).Attr("value")
	forged := strings.ReplaceAll(findings, "REDACTED", "SECRETZZ")
	forged = strings.ReplaceAll(forged, `"probeCommand":"`, `"probeCommand":"curl 'https://x.example/?q=<x>&token=SECRETZZ' `)
	forged = strings.ReplaceAll(forged, `"node":"`, `"node":"password=SECRETZZ `)
	if strings.Count(forged, "SECRETZZ") < 20 {
		t.Fatalf("too few secrets planted: %s", forged)
	}
	for i, posted := range []string{findings, forged} {
		resp := e.do("POST", "/admin/explain/cases", url.Values{"title": {"case " + string(rune('a'+i))}, "findings": {posted}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save %d: %s", i, resp.Status)
		}
		cs, _ := e.store.Cases(context.Background(), 1)
		c, err := e.store.Case(context.Background(), cs[0].ID)
		if err != nil || !strings.Contains(string(c.Findings), "REDACTED") || strings.Contains(string(c.Findings), "SECRET") {
			t.Errorf("save %d: stored %v:\n%s", i, err, c.Findings)
		}
		_, raw := readDoc(t, e.do("GET", resp.Header.Get("Location"), nil))
		if strings.Contains(raw, "SECRET") {
			t.Errorf("save %d: a secret on the case's page", i)
		}
	}
}

// A HAR cut short: the page shows what the complete entries say (entry 3 is blocked), and says
// as an error that the recording was read only in part.
func TestExplainPageTruncated(t *testing.T) {
	har, err := os.ReadFile("../explain/testdata/field-chrome.har")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, 0)
	e.login()
	resp := e.upload(nil, "agent1001.har", har[:2500])
	doc, _ := readDoc(t, resp)
	text := doc.Text()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find(".error").Text(), "read only in part") ||
		!strings.Contains(text, "entry 4: the file ends early") || !strings.Contains(text, "HAR entry 3") || !strings.Contains(text, "cuicsub.example") {
		t.Errorf("%s:\n%s", resp.Status, text)
	}
}
