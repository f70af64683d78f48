package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/corsquickcheck/corscheck/server/targets"
)

// saves records what the catalogue's save function was given; err makes it fail.
type saves struct {
	mu  sync.Mutex
	got []targets.Catalogue
	err error
}

func (s *saves) save(_ context.Context, c targets.Catalogue) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.got = append(s.got, c)
	return nil
}

func (s *saves) all() []targets.Catalogue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// catalogue is the built-in one with nodes and an allowed domain.
func catalogue() targets.Catalogue {
	c := targets.Defaults()
	c.Targets[0].Nodes = []string{"cuicpub.example.com", "cuicsub.example.com"}
	c.Targets[1].Nodes = []string{"livedata-a.example.com"}
	c.Targets[2].Nodes = []string{"finessep.example.com", "10.20.0.15"}
	c.AllowedDomains = []string{"lab.example.com"}
	return c
}

// newTargetsEnv is a signed-in admin UI whose catalogue starts as c.
func newTargetsEnv(t *testing.T, c targets.Catalogue) (*env, *targets.Live, *saves) {
	t.Helper()
	s := &saves{}
	live := targets.NewLive(c, s.save)
	e := newEnv(t, 0, func(cfg *Config) { cfg.Catalogue = live })
	e.login()
	return e, live, s
}

// parse reads an HTML answer.
func parse(t *testing.T, resp *http.Response) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func editorOf(doc *goquery.Document) string {
	return doc.Find(`form[method=post][action="/admin/targets"] textarea[name=catalogue]`).Text()
}

// unchanged fails the test if the catalogue in use is not want or anything was saved.
func unchanged(t *testing.T, live *targets.Live, s *saves, want targets.Catalogue) {
	t.Helper()
	if got := live.Get(); !reflect.DeepEqual(got, want) {
		t.Errorf("the catalogue changed:\n%+v\nwant\n%+v", got, want)
	}
	if n := len(s.all()); n != 0 {
		t.Errorf("saved %d times", n)
	}
}

func TestTargetsPageListsCatalogue(t *testing.T) {
	cat := catalogue()
	e, _, _ := newTargetsEnv(t, cat)
	doc := e.page("/admin/targets")

	panels := doc.Find("#in-use article.target")
	if panels.Length() != len(cat.Targets) {
		t.Fatalf("%d targets shown, want %d", panels.Length(), len(cat.Targets))
	}
	for i, want := range cat.Targets {
		p := panels.Eq(i)
		if id := p.AttrOr("data-id", ""); id != want.ID {
			t.Errorf("target %d: id %q, want %q", i, id, want.ID)
		}
		if got := p.Find("h3 .label").Text(); got != want.Label {
			t.Errorf("%s: label %q", want.ID, got)
		}
		if got := p.Find("dd.kind").Text(); got != string(want.Kind) {
			t.Errorf("%s: kind %q", want.ID, got)
		}
		if got := p.Find("dd.request").Text(); !strings.Contains(got, want.Request.Method) || !strings.Contains(got, string(want.Request.Credentials)) {
			t.Errorf("%s: request %q", want.ID, got)
		}
		var nodes []string
		p.Find("ul.nodes li").Each(func(_ int, s *goquery.Selection) { nodes = append(nodes, s.Text()) })
		if strings.Join(nodes, " ") != strings.Join(want.Nodes, " ") {
			t.Errorf("%s: nodes %v, want %v", want.ID, nodes, want.Nodes)
		}
		var headers []string
		p.Find("ul.headers li").Each(func(_ int, s *goquery.Selection) { headers = append(headers, s.Text()) })
		if len(headers) != len(want.Request.Headers) {
			t.Errorf("%s: headers %v", want.ID, headers)
		}
		for j, h := range want.Request.Headers {
			if j < len(headers) && headers[j] != h.Name+": "+h.Value {
				t.Errorf("%s: header %q, want %s: %s", want.ID, headers[j], h.Name, h.Value)
			}
		}
		rows := p.Find("table.endpoints tbody tr")
		if rows.Length() != len(want.Endpoints) {
			t.Errorf("%s: %d endpoints shown", want.ID, rows.Length())
		}
		for j, ep := range want.Endpoints {
			cells := rows.Eq(j).Find("td").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
			url := want.URLs("{node}")[j]
			if len(cells) != 4 || cells[0] != ep.Name || cells[1] != strconv.Itoa(ep.Port) || cells[2] != ep.Path || cells[3] != url {
				t.Errorf("%s: endpoint row %v, want %s %d %s %s", want.ID, cells, ep.Name, ep.Port, ep.Path, url)
			}
		}
		if got := p.Find("dd.notes").Text(); got != want.Notes {
			t.Errorf("%s: notes %q", want.ID, got)
		}
	}
	if got := doc.Find("#target-cuic table.endpoints td").Eq(3).Text(); got != "https://{node}:8444/cuic/rest/status/" {
		t.Errorf("cuic URL %q", got)
	}
	if got := doc.Find("#domains li").Text(); got != "lab.example.com" {
		t.Errorf("allowed domains %q", got)
	}
	if doc.Find("#notice, #problems").Length() != 0 {
		t.Error("a notice or problems on a plain GET")
	}

	// The editor holds the catalogue as indented JSON that reads back as the same catalogue.
	text := editorOf(doc)
	if !strings.HasPrefix(text, "{\n  \"targets\": [") {
		t.Errorf("editor starts %q", text[:min(len(text), 30)])
	}
	back, err := targets.Parse([]byte(text))
	if err != nil {
		t.Fatalf("the editor's text does not parse: %v", err)
	}
	if editorText(back) != editorText(cat) || !strings.Contains(text, `"nodes": []`) {
		t.Errorf("the editor's text is not the catalogue:\n%s", text)
	}
	if doc.Find(`form[action="/admin/targets"] input[name=reset][value="1"]`).Length() != 1 {
		t.Error("no reset form")
	}

	// Without allowed domains the page says so.
	cat.AllowedDomains = nil
	e, _, _ = newTargetsEnv(t, cat)
	if e.page("/admin/targets").Find("#no-domains").Length() != 1 {
		t.Error("no 'none' for allowed domains")
	}
}

func TestTargetsSave(t *testing.T) {
	e, live, s := newTargetsEnv(t, catalogue())
	next := catalogue()
	next.Targets[0].Nodes = []string{"cuicpub.example.com", "cuicsub2.example.com"}
	next.Targets[0].Label = "CUIC & friends"
	next.AllowedDomains = []string{"example.net"}
	b, _ := json.MarshalIndent(next, "", "  ")

	resp := e.do("POST", "/admin/targets", url.Values{"catalogue": {string(b)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/targets?saved=1" {
		t.Fatalf("save: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	if got := live.Get(); !reflect.DeepEqual(got, next) {
		t.Errorf("in use:\n%+v\nwant\n%+v", got, next)
	}
	if got := s.all(); len(got) != 1 || !reflect.DeepEqual(got[0], next) {
		t.Errorf("saved %+v", got)
	}
	if !live.HasHost("cuicsub2.example.com") || live.HasHost("cuicsub.example.com") || !live.HasHost("x.example.net") {
		t.Error("the diagnosis's reach did not follow the new catalogue")
	}

	doc := e.page("/admin/targets?saved=1")
	if got := doc.Find("#notice").Text(); !strings.Contains(got, "Catalogue saved") {
		t.Errorf("notice %q", got)
	}
	if got := doc.Find("#target-cuic ul.nodes").Text(); !strings.Contains(got, "cuicsub2.example.com") || strings.Contains(got, "cuicsub.example.com") {
		t.Errorf("nodes shown %q", got)
	}
	if got := doc.Find("#target-cuic h3 .label").Text(); got != "CUIC & friends" {
		t.Errorf("label %q", got)
	}

	// The editor's text posted back unchanged saves the same catalogue (lists as [] not null).
	resp = e.do("POST", "/admin/targets", url.Values{"catalogue": {editorOf(doc)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the editor's text: %s", resp.Status)
	}
	if editorText(live.Get()) != editorText(next) || len(s.all()) != 2 {
		t.Errorf("round trip changed the catalogue: %+v", live.Get())
	}
}

func TestTargetsSaveRefusesJSONErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, problem string }{
		{"empty", "", "the text is empty"},
		{"syntax", `{"targets": [}`, "line 1, column 14: targets[0]: invalid character '}'"},
		{"syntax on a later line", "{\n  \"targets\": [\n    {\"id\": \"cuic\",}\n  ]\n}", "line 3, column 18: targets[0]: invalid character ','"},
		{"truncated", `{"targets": [`, "the text ends too early"},
		{"unknown key", `{"targets": [], "nodes": ["a.example.com"]}`, `line 1, column 17: unknown key "nodes"`},
		{"nested unknown key", `{"targets": [{"id": "x", "Label": "y"}]}`, `unknown key "targets[0].Label"`},
		{"duplicate key", "{\"targets\": [],\n \"targets\": []}", `line 2, column 2: targets: appears twice`},
		{"wrong type", "{\"targets\": [\n {\"id\": \"x\", \"endpoints\": [{\"port\": \"8444\"}]}]}",
			"line 2, column 37: targets[0].endpoints[0].port: must be a whole number, not a string"},
		{"not an object", `["cuic"]`, "the catalogue must be an object"},
		{"trailing text", "{\"targets\": []}\n{}", "line 2, column 1: there is more text after the JSON value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cat := catalogue()
			e, live, s := newTargetsEnv(t, cat)
			resp := e.do("POST", "/admin/targets", url.Values{"catalogue": {tc.text}})
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s", resp.Status)
			}
			doc := parse(t, resp)
			if got := doc.Find("#problems > p").Text(); !strings.Contains(got, "Nothing was saved") {
				t.Errorf("message %q", got)
			}
			if got := doc.Find("#problems li").Text(); !strings.Contains(got, tc.problem) {
				t.Errorf("problem %q, want %q", got, tc.problem)
			}
			if got := editorOf(doc); got != tc.text {
				t.Errorf("editor holds %q, want the text sent %q", got, tc.text)
			}
			// The catalogue in use is still shown, after the editor.
			if doc.Find("#edit ~ #in-use article.target").Length() != len(cat.Targets) {
				t.Error("the catalogue in use is not shown below the editor")
			}
			unchanged(t, live, s, cat)
		})
	}
}

func TestTargetsSaveRefusesInvalidCatalogue(t *testing.T) {
	cat := catalogue()
	e, live, s := newTargetsEnv(t, cat)
	bad := catalogue()
	bad.Targets[0].Nodes = append(bad.Targets[0].Nodes, "cuic sub.example.com")
	bad.Targets[1].Endpoints[0].Port = 0
	bad.AllowedDomains = []string{"-lab.example.com"}
	b, _ := json.MarshalIndent(bad, "", "  ")
	text := strings.ReplaceAll(string(b), "\n", "\r\n") // as browsers send a textarea

	resp := e.do("POST", "/admin/targets", url.Values{"catalogue": {text}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%s", resp.Status)
	}
	doc := parse(t, resp)
	if got := doc.Find("#problems > p").Text(); got != "Nothing was saved: the catalogue has 3 problems." {
		t.Errorf("message %q", got)
	}
	problems := doc.Find("#problems li").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
	want := []string{
		`targets[0] (cuic): node "cuic sub.example.com" is not a valid host name`,
		`targets[1] (livedata): endpoints[0]: port 0 out of range`,
		`allowedDomains: node "-lab.example.com" is not a valid host name`,
	}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems:\n%q\nwant\n%q", problems, want)
	}
	// The editor keeps the text (the HTML parser turns CR LF into LF, as a browser would).
	if got := editorOf(doc); got != strings.ReplaceAll(text, "\r\n", "\n") {
		t.Errorf("editor holds\n%s", got)
	}
	unchanged(t, live, s, cat)
}

func TestTargetsSaveFails(t *testing.T) {
	cat := catalogue()
	e, live, s := newTargetsEnv(t, cat)
	s.err = errors.New("database is locked")
	text := editorText(targets.Defaults())
	resp := e.do("POST", "/admin/targets", url.Values{"catalogue": {text}})
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("%s", resp.Status)
	}
	doc := parse(t, resp)
	if got := doc.Find("#problems").Text(); !strings.Contains(got, "could not be stored") || strings.Contains(got, "locked") {
		t.Errorf("message %q", got)
	}
	if editorOf(doc) != text {
		t.Error("the text was lost")
	}
	unchanged(t, live, s, cat)
}

func TestTargetsSaveTooLarge(t *testing.T) {
	cat := catalogue()
	e, live, s := newTargetsEnv(t, cat)
	big := `{"targets": [], "x": "` + strings.Repeat("a", maxCatalogue) + `"}`
	resp := e.do("POST", "/admin/targets", url.Values{"catalogue": {big}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("text over the limit: %s", resp.Status)
	}
	doc := parse(t, resp)
	if got := doc.Find("#problems").Text(); !strings.Contains(got, "larger than 256 KiB") {
		t.Errorf("message %q", got)
	}
	if editorOf(doc) != big {
		t.Error("the text was lost")
	}
	// A body beyond what the form reads at all: the editor shows the catalogue in use.
	huge := strings.Repeat(`"`, maxTargetsForm/3+1) // %22 each
	resp = e.do("POST", "/admin/targets", url.Values{"catalogue": {huge}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("body over the limit: %s", resp.Status)
	}
	doc = parse(t, resp)
	if got := doc.Find("#problems").Text(); !strings.Contains(got, "larger than 256 KiB") || editorOf(doc) != editorText(cat) {
		t.Errorf("message %q, editor %.40q", got, editorOf(doc))
	}
	// A body that announces 10 MB is refused before a byte of it is read, so that a client
	// waiting for 100 Continue gets the 413 instead of a reset.
	body := &countingReader{}
	req := httptest.NewRequest("POST", "http://corscheck.example/admin/targets", body)
	req.ContentLength = 10 << 20
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Expect", "100-continue")
	req.AddCookie(e.cookie)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge || body.read != 0 {
		t.Errorf("a 10 MB body announced: %d after reading %d bytes", w.Code, body.read)
	}
	unchanged(t, live, s, cat)
}

// countingReader is an endless body that counts what is read of it.
type countingReader struct{ read int }

func (c *countingReader) Read(p []byte) (int, error) {
	c.read += len(p)
	return len(p), nil
}

func TestTargetsReset(t *testing.T) {
	cat := catalogue()
	e, live, s := newTargetsEnv(t, cat)
	resp := e.do("POST", "/admin/targets", url.Values{"reset": {"1"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("reset without confirming: %s", resp.Status)
	}
	if got := parse(t, resp).Find("#problems").Text(); !strings.Contains(got, "tick the box") {
		t.Errorf("message %q", got)
	}
	unchanged(t, live, s, cat)

	resp = e.do("POST", "/admin/targets", url.Values{"reset": {"1"}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/targets?saved=defaults" {
		t.Fatalf("reset: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	if got := live.Get(); !reflect.DeepEqual(got, targets.Defaults()) {
		t.Errorf("in use after reset: %+v", got)
	}
	if len(s.all()) != 1 {
		t.Errorf("saved %d times", len(s.all()))
	}
	doc := e.page("/admin/targets?saved=defaults")
	if got := doc.Find("#notice").Text(); !strings.Contains(got, "built-in defaults") {
		t.Errorf("notice %q", got)
	}
	if doc.Find("ul.nodes").Length() != 0 {
		t.Error("nodes shown after reset")
	}
}

func TestTargetsHostileValuesRenderInert(t *testing.T) {
	script := `<script>alert(1)</script>`
	img := `"><img src=x onerror=alert(1)>`
	cat := catalogue()
	cat.Targets[0].Label = script
	cat.Targets[0].Notes = img + script
	cat.Targets[0].Request.Headers[1].Value = img
	cat.Targets[1].Endpoints[0].Name = script
	e, live, s := newTargetsEnv(t, cat)

	check := func(name string, resp *http.Response) *goquery.Document {
		t.Helper()
		raw, _ := io.ReadAll(resp.Body)
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if n := doc.Find("script, img, [onerror]").Length(); n != 0 {
			t.Errorf("%s: %d script/img elements", name, n)
		}
		if strings.Contains(string(raw), script) || strings.Contains(string(raw), "<img") {
			t.Errorf("%s: unescaped markup in the page", name)
		}
		return doc
	}
	doc := check("page", e.do("GET", "/admin/targets", nil))
	if got := doc.Find("#target-cuic h3 .label").Text(); got != script {
		t.Errorf("label shown as %q", got)
	}
	if got := doc.Find("#target-cuic dd.notes").Text(); got != img+script {
		t.Errorf("notes shown as %q", got)
	}
	if !strings.Contains(doc.Find("#target-cuic ul.headers").Text(), "locale: "+img) {
		t.Error("header value not shown as text")
	}
	if !strings.Contains(editorOf(doc), `"label": "`+script+`"`) {
		t.Error("the editor does not show the label as it is")
	}

	// Text that tries to end the textarea stays inside it after a refused save.
	breakout := `{"targets": []}</textarea>` + script + img
	doc = check("refused save", e.do("POST", "/admin/targets", url.Values{"catalogue": {breakout}}))
	if editorOf(doc) != breakout || doc.Find("textarea").Length() != 1 {
		t.Errorf("editor holds %q", editorOf(doc))
	}
	unchanged(t, live, s, cat)
}

func TestTargetsSignedOut(t *testing.T) {
	cat := catalogue()
	e, live, s := newTargetsEnv(t, cat)
	e.cookie = nil
	for _, method := range []string{"GET", "POST"} {
		resp := e.do(method, "/admin/targets", url.Values{"catalogue": {editorText(targets.Defaults())}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login" {
			t.Errorf("%s signed out: %s, Location %q", method, resp.Status, resp.Header.Get("Location"))
		}
	}
	resp := e.do("POST", "/admin/targets", url.Values{"reset": {"1"}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login" {
		t.Errorf("reset signed out: %s", resp.Status)
	}
	unchanged(t, live, s, cat)
}

func TestTargetsCrossSitePostRefused(t *testing.T) {
	cat := catalogue()
	e, live, s := newTargetsEnv(t, cat)
	for _, hdr := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		for _, form := range []url.Values{
			{"catalogue": {editorText(targets.Defaults())}},
			{"reset": {"1"}, "confirm": {"yes"}},
		} {
			if resp := e.do("POST", "/admin/targets", form, hdr...); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST with %v: %s", hdr, resp.Status)
			}
		}
	}
	unchanged(t, live, s, cat)
	form := url.Values{"catalogue": {editorText(targets.Defaults())}}
	if resp := e.do("POST", "/admin/targets", form, "Sec-Fetch-Site", "same-origin"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin POST: %s", resp.Status)
	}
}
