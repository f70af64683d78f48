package explain

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/server/words"
)

// harBuilder writes HARs shaped as Chromium's and Firefox's exports are (see docs/explain.md):
// Chromium lists a preflight after its request, marks it with _resourceType, and records a
// request blocked at the preflight with status 0, _error net::ERR_FAILED and provisional headers
// only; Firefox records no error field at all.
type harBuilder struct {
	creator string
	page    string
	entries []map[string]any
	t0      time.Time
}

func newHAR(creator, page string) *harBuilder {
	return &harBuilder{creator: creator, page: page, t0: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}
}

func hdrs(lines ...string) []map[string]string {
	out := []map[string]string{}
	for _, l := range lines {
		n, v, _ := strings.Cut(l, ":")
		out = append(out, map[string]string{"name": n, "value": strings.TrimPrefix(v, " ")})
	}
	return out
}

// add appends an entry; resp is nil for no response headers.
func (h *harBuilder) add(method, url string, req []string, status int, resp []string, extra map[string]any) {
	e := map[string]any{
		"startedDateTime": h.t0.Add(time.Duration(len(h.entries)) * time.Millisecond).Format(time.RFC3339Nano),
		"pageref":         "page_1",
		"request":         map[string]any{"method": method, "url": url, "headers": hdrs(req...), "httpVersion": "HTTP/1.1"},
		"response": map[string]any{"status": status, "headers": hdrs(resp...), "redirectURL": "",
			"content": map[string]any{"size": 4, "mimeType": "text/plain", "text": "body"}},
		"timings": map[string]any{},
	}
	for k, v := range extra {
		if k == "_error" || k == "redirectURL" {
			e["response"].(map[string]any)[k] = v
			continue
		}
		e[k] = v
	}
	h.entries = append(h.entries, e)
}

func (h *harBuilder) json() string {
	b, _ := json.Marshal(map[string]any{"log": map[string]any{
		"version": "1.2", "creator": map[string]any{"name": h.creator, "version": "1"},
		"pages":   []map[string]any{{"id": "page_1", "title": h.page}},
		"entries": h.entries,
	}})
	return string(b)
}

const (
	desktop = "https://finessep.example:8445"
	pubURL  = "https://cuicpub.example:8444/cuic/rest/status/"
	subURL  = "https://cuicsub.example:8444/cuic/rest/status/"
	ldURL   = "https://ldnode.example:12005/"
	deadURL = "https://cuicdead.example:8444/cuic/rest/status/"
	secret  = "Basic c2VjcmV0LWFnZW50OmhvdW5keW9n"
)

var fetchType = map[string]any{"_resourceType": "fetch"}
var preflightType = map[string]any{"_resourceType": "preflight", "_initiator": map[string]any{"type": "preflight"}}

// fieldHAR is the field case as Chrome records it: the publisher allows the desktop, the
// subscriber answers the preflight 403 without CORS headers, a Live Data node forgets
// Access-Control-Allow-Credentials, one node is down, and the page's own requests are there too.
func fieldHAR() string { return fieldHARBuilder().json() }

func fieldHARBuilder() *harBuilder {
	h := newHAR("WebInspector", desktop+"/desktop/container/")
	ok := []string{"Access-Control-Allow-Origin: " + desktop, "Access-Control-Allow-Credentials: true"}
	pre := []string{"Origin: " + desktop, "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: authorization,locale,peripheralid", "Accept: */*"}
	h.add("GET", desktop+"/desktop/container/", []string{"Cookie: JSESSIONID=abc"}, 200, nil, map[string]any{"_resourceType": "document"})
	h.add("GET", pubURL, []string{"Origin: " + desktop, "Authorization: " + secret, "locale: en_US", "peripheralid: 5000", "Cookie: s=1"}, 200, ok, fetchType)
	h.add("OPTIONS", pubURL, pre, 200, append(ok, "Access-Control-Allow-Headers: authorization,locale,peripheralid"), preflightType)
	h.add("GET", subURL, []string{"Authorization: " + secret, "locale: en_US", "peripheralid: 5000"}, 0, nil, map[string]any{"_resourceType": "fetch", "_error": "net::ERR_FAILED"})
	h.add("OPTIONS", subURL, pre, 403, []string{"Content-Type: text/html"}, preflightType)
	h.add("GET", ldURL+"?access_token=tok-123456", []string{"Origin: " + desktop, "Authorization: " + secret, "locale: en_US", "peripheralid: 5000"}, 200,
		[]string{"Access-Control-Allow-Origin: " + desktop, "Set-Cookie: LDSESSION=cookie-value-789"}, map[string]any{"_resourceType": "fetch", "_error": "net::ERR_FAILED"})
	h.add("OPTIONS", ldURL+"?access_token=tok-123456", pre, 204, append(ok, "Access-Control-Allow-Headers: authorization,locale,peripheralid"), preflightType)
	h.add("GET", deadURL, []string{"Authorization: " + secret}, 0, nil, map[string]any{"_resourceType": "fetch", "_error": "net::ERR_CONNECTION_REFUSED"})
	h.add("OPTIONS", deadURL, pre, 0, nil, map[string]any{"_resourceType": "preflight", "_error": "net::ERR_CONNECTION_REFUSED"})
	h.add("GET", desktop+"/desktop/api/x", []string{"Origin: " + desktop}, 200, nil, fetchType)
	return h
}

func read(t *testing.T, in string, opt Options) *Result {
	t.Helper()
	res, err := Read(strings.NewReader(in), opt)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return res
}

func byNode(res *Result) map[string]Finding {
	m := map[string]Finding{}
	for _, f := range res.Findings {
		m[f.Node] = f
	}
	return m
}

func TestFieldCaseHAR(t *testing.T) {
	res := read(t, fieldHAR(), Options{})
	if res.Source != "har" || res.Browser != cors.Chromium {
		t.Fatalf("read as %s from %s", res.Source, res.Browser)
	}
	got := byNode(res)
	if len(res.Findings) != 4 {
		t.Fatalf("%d findings, want 4 (same-origin and navigation skipped):\n%s", len(res.Findings), res.Text())
	}
	checks := []struct {
		node    string
		verdict cors.Verdict
		reason  cors.Reason
		kind    targets.Kind
		entry   int
	}{
		{"cuicpub.example", cors.Allowed, "", targets.CUIC, 1},
		{"cuicsub.example", cors.Blocked, cors.PreflightMissingAllowOriginHeader, targets.CUIC, 3},
		{"ldnode.example", cors.Blocked, cors.InvalidAllowCredentials, targets.LiveData, 5},
		{"cuicdead.example", cors.Unreachable, "", targets.CUIC, 7},
	}
	for _, c := range checks {
		f, ok := got[c.node]
		if !ok {
			t.Errorf("%s: no finding", c.node)
			continue
		}
		if f.Verdict != c.verdict || f.CorsError != c.reason || f.Kind != c.kind || f.Entry == nil || *f.Entry != c.entry {
			t.Errorf("%s: %s %s %s entry %v, want %s %s %s entry %d", c.node, f.Verdict, f.CorsError, f.Kind, f.Entry, c.verdict, c.reason, c.kind, c.entry)
		}
	}
	sub := got["cuicsub.example"]
	want := "Access to fetch at '" + subURL + "' from origin '" + desktop + "' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource."
	if sub.Console != want {
		t.Errorf("console:\n got %s\nwant %s", sub.Console, want)
	}
	if txt := fix.Text(sub.Fixes, words.English); !strings.Contains(txt, "utils cuic cors allowed_origin add "+desktop) {
		t.Errorf("fix: %s", txt)
	}
	if dead := got["cuicdead.example"]; dead.Network == nil || dead.Network.Class != "refused" || dead.ProbeCommand == "" {
		t.Errorf("unreachable node: %+v, probe %q", dead.Network, dead.ProbeCommand)
	}
	if res.ExitCode() != 1 {
		t.Errorf("exit %d, want 1", res.ExitCode())
	}
	text := res.Text()
	for _, s := range []string{"cuicsub.example\n", "4 cross-origin requests on 4 nodes: 2 blocked, 1 unreachable, 1 allowed."} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q:\n%s", s, text)
		}
	}
}

// A HAR records no credentials mode. When the verdict depends on it and the browser's own
// record does not decide, the finding says so and prints the probe command that settles it.
func TestCredentialsModeNotRecorded(t *testing.T) {
	h := newHAR("Firefox", "Finesse")
	h.add("GET", ldURL, []string{"Origin: " + desktop}, 200, []string{"Access-Control-Allow-Origin: *"}, nil)
	res := read(t, h.json(), Options{})
	if res.Browser != cors.Firefox || len(res.Findings) != 1 {
		t.Fatalf("%s, %d findings", res.Browser, len(res.Findings))
	}
	f := res.Findings[0]
	if f.Verdict != cors.Blocked || f.CorsError != cors.CORSNotSupportingCredentials {
		t.Errorf("verdict %s %s, want the credentialed answer", f.Verdict, f.CorsError)
	}
	if len(f.Limits) == 0 || !strings.Contains(f.Limits[0], "credentials mode") {
		t.Errorf("limits %q", f.Limits)
	}
	want := "corscheck probe --origin " + desktop + " --credentials include --kind livedata --browser firefox " + ldURL
	if f.ProbeCommand != want {
		t.Errorf("probe command\n got %s\nwant %s", f.ProbeCommand, want)
	}
}

// Firefox records an actual-response block exactly like a success: the headers decide.
func TestFirefoxBlockLooksLikeSuccess(t *testing.T) {
	h := newHAR("Firefox", "Finesse")
	h.add("GET", subURL, []string{"Origin: " + desktop, "Cookie: a=b"}, 200, []string{"Access-Control-Allow-Origin: https://finesses.example:8445, " + desktop, "Access-Control-Allow-Credentials: true"}, nil)
	f := read(t, h.json(), Options{}).Findings[0]
	if f.Verdict != cors.Blocked || f.CorsError != cors.CORSAllowOriginNotMatchingOrigin || f.Browser != cors.Firefox {
		t.Fatalf("%s %s %s", f.Verdict, f.CorsError, f.Browser)
	}
	if !strings.HasPrefix(f.Console, "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at "+subURL+". (Reason: CORS header ‘Access-Control-Allow-Origin’ does not match") {
		t.Errorf("console %s", f.Console)
	}
	// The same exchange read as Chromium's: the list is "multiple values" there.
	f = read(t, h.json(), Options{Browser: cors.Chromium}).Findings[0]
	if f.CorsError != cors.MultipleAllowOriginValues {
		t.Errorf("as Chromium: %s", f.CorsError)
	}
}

// Chromium's blocked entry without a preflight in the HAR (answered from the preflight cache, or
// filtered out): the verdict is the browser's, the reason cannot be named, and the probe settles.
func TestMissingPreflight(t *testing.T) {
	h := newHAR("WebInspector", desktop+"/")
	h.add("PUT", subURL, []string{"Content-Type: application/json"}, 0, nil, map[string]any{"_resourceType": "xhr", "_error": "net::ERR_FAILED"})
	f := read(t, h.json(), Options{}).Findings[0]
	if f.Verdict != cors.Blocked || f.CorsError != "" || len(f.Limits) == 0 || !strings.Contains(f.ProbeCommand, "--method PUT") {
		t.Fatalf("%s %q limits %q probe %q", f.Verdict, f.CorsError, f.Limits, f.ProbeCommand)
	}
}

// When the HAR lacks the answers the reason depends on, the verdict, the reason, the fix and
// the limits all say the same: Chromium's blocked request without its preflight (the cached
// preflight of testdata/nopre.har) is blocked for a reason the HAR does not hold, and its fix
// says how to find the reason, in every language; Firefox's status 0 is no answer, for a reason
// Firefox does not record, and no Chromium error code is made up for it.
func TestGapVerdictAndFixAgree(t *testing.T) {
	b, err := os.ReadFile("testdata/nopre.har")
	if err != nil {
		t.Fatal(err)
	}
	res := read(t, string(b), Options{})
	for _, l := range words.Langs {
		f := res.In(l).Findings[0]
		fx := fix.Text(f.Fixes, l)
		if f.Verdict != cors.Blocked || f.CorsError != "" || f.Network != nil || len(f.Fixes) != 1 || f.ProbeCommand == "" {
			t.Fatalf("%s: %s %q %+v fixes %+v", l, f.Verdict, f.CorsError, f.Network, f.Fixes)
		}
		if l == words.English && (!strings.Contains(fx, "utils live-data cors allowed_origin list") || !strings.Contains(fx, "probe command") ||
			strings.Contains(fx, "HTTPS") || !strings.Contains(f.Explanation, "blocked this request by CORS")) {
			t.Errorf("the fix does not follow the verdict:\n%s\n%s", f.Explanation, fx)
		}
		if l != words.English && (fx == fix.Text(res.Findings[0].Fixes, words.English) || strings.Contains(f.Explanation, "HTTP")) {
			t.Errorf("%s: %s\n%s", l, f.Explanation, fx)
		}
	}

	h := newHAR("Firefox", "Finesse")
	pre := []string{"Origin: " + desktop, "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: locale"}
	h.add("OPTIONS", deadURL, pre, 0, nil, nil)
	h.add("GET", deadURL, []string{"Origin: " + desktop, "locale: en"}, 0, nil, nil)
	h.add("GET", ldURL, []string{"Origin: " + desktop, "locale: en"}, 0, nil, nil) // no preflight at all
	res = read(t, h.json(), Options{})
	if len(res.Findings) != 2 {
		t.Fatalf("%d findings:\n%s", len(res.Findings), res.Text())
	}
	for _, f := range res.Findings {
		var b strings.Builder
		f.text(&b)
		if f.Verdict != cors.Unreachable || f.Network == nil || f.Network.Class != probe.NoAnswer || f.Network.NetError != "" ||
			strings.Contains(b.String(), "net::") || strings.Contains(b.String(), "HTTPS") || !strings.Contains(b.String(), "Fix: find out why no answer came from") ||
			len(f.Limits) != 1 || !strings.Contains(f.Limits[0], "Firefox records no reason") {
			t.Errorf("Firefox's status 0:\n%s", b.String())
		}
	}
}

// A HAR cut short inside entry 4 (as `head -c 2500` cuts testdata/field-chrome.har): every
// complete entry before the cut is explained, the subscriber's blocked request (entry 3, whose
// preflight is past the cut) among them, and the result says it was read only in part.
func TestTruncatedHAR(t *testing.T) {
	b, err := os.ReadFile("testdata/field-chrome.har")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Read(strings.NewReader(string(b[:2500])), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete() || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "entry 4: the file ends early (truncated JSON)") {
		t.Errorf("problems %q", res.Problems)
	}
	sub, ok := byNode(res)["cuicsub.example"]
	if len(res.Findings) != 2 || !ok || sub.Verdict != cors.Blocked || *sub.Entry != 3 {
		t.Errorf("the complete entries are not all explained:\n%s", res.Text())
	}
	if res.ExitCode() != 2 || !strings.Contains(res.Summary(), "read only in part") {
		t.Errorf("exit %d, summary %q", res.ExitCode(), res.Summary())
	}
}

func TestBadInput(t *testing.T) {
	full := fieldHAR()
	// Cut inside entry 5 (the Live Data request).
	cut := strings.Index(full, ldURL+"?access_token") + 10
	res, err := Read(strings.NewReader(full[:cut]), Options{})
	if err != nil {
		t.Fatalf("a truncated HAR with entries before the cut: %v", err)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "entry 5") || !strings.Contains(res.Problems[0], "truncated") {
		t.Errorf("problems %q", res.Problems)
	}
	if n := len(byNode(res)); n != 2 {
		t.Errorf("%d nodes explained before the cut, want 2:\n%s", n, res.Text())
	}

	if _, err := Read(strings.NewReader(`{"log": {"version": "1.2"}}`), Options{}); err != ErrNotHAR {
		t.Errorf("no entries: %v", err)
	}
	if _, err := Read(strings.NewReader(`{"name": "package.json"}`), Options{}); err != ErrNotHAR {
		t.Errorf("other JSON: %v", err)
	}
	if _, err := Read(strings.NewReader(`{"log": {"entries": [`), Options{}); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated before any entry: %v", err)
	}

	h := newHAR("WebInspector", desktop+"/")
	h.entries = append(h.entries, map[string]any{"startedDateTime": "x", "response": map[string]any{"status": 200}})
	h.add("GET", subURL, []string{"Origin: " + desktop}, 200, []string{"Access-Control-Allow-Origin: *"}, fetchType)
	h.entries = append(h.entries, map[string]any{"request": map[string]any{"method": "GET", "url": 7}, "response": map[string]any{}})
	res = read(t, h.json(), Options{})
	if len(res.Problems) != 2 || !strings.Contains(res.Problems[0], "entry 0: missing request") || !strings.Contains(res.Problems[1], "entry 2") {
		t.Errorf("problems %q", res.Problems)
	}
	if len(res.Findings) != 1 || res.Findings[0].Verdict != cors.Allowed {
		t.Errorf("the readable entry: %+v", res.Findings)
	}
}

const consoleNoise = `Navigated to https://finessep.example:8445/desktop/container/
finesse.js:1 [Finesse] connected to notification service
(index):1 Access to fetch at 'https://cuicsub.example:8444/cuic/rest/status/' from origin 'https://finessep.example:8445' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.
cuicsub.example:8444/cuic/rest/status/:1  GET https://cuicsub.example:8444/cuic/rest/status/ net::ERR_FAILED
Access to XMLHttpRequest at 'https://ldnode.example:12005/x' from origin 'https://finessep.example:8445' has been blocked by CORS policy: The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'. The credentials mode of requests initiated by the XMLHttpRequest is controlled by the withCredentials attribute.
GET https://cuicdead.example:8444/cuic/rest/status/ net::ERR_CONNECTION_REFUSED
Access to fetch at 'https://b.example/2' (redirected from 'https://a.example/1') from origin 'https://finessep.example:8445' has been blocked by CORS policy: The 'Access-Control-Allow-Origin' header has a value 'https://other.example' that is not equal to the supplied origin. Have the server send the header with a valid value.
Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://cuicsub.example:8444/cuic/rest/status/. (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 403.
Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://ldnode.example:12005/. (Reason: header ‘peripheralid’ is not allowed according to header ‘Access-Control-Allow-Headers’ from CORS preflight response).
Uncaught TypeError: Cannot read properties of undefined (reading 'x')
`

func TestConsoleText(t *testing.T) {
	res := read(t, consoleNoise, Options{})
	if res.Source != "console" || len(res.Findings) != 6 {
		t.Fatalf("%s, %d findings:\n%s", res.Source, len(res.Findings), res.Text())
	}
	want := []struct {
		line    int
		verdict cors.Verdict
		reason  cors.Reason
		param   string
	}{
		{3, cors.Blocked, cors.PreflightMissingAllowOriginHeader, ""},
		{5, cors.Blocked, cors.InvalidAllowCredentials, ""},
		{7, cors.Blocked, cors.AllowOriginMismatch, "https://other.example"},
		{8, cors.Blocked, cors.CORSMissingAllowOrigin, ""},
		{9, cors.Blocked, cors.CORSMissingAllowHeaderFromPreflight, "peripheralid"},
		{6, cors.Unreachable, "", ""},
	}
	for i, w := range want {
		f := res.Findings[i]
		if f.Line != w.line || f.Verdict != w.verdict || f.CorsError != w.reason || f.FailedParameter != w.param {
			t.Errorf("finding %d: line %d %s %s %q, want line %d %s %s %q", i, f.Line, f.Verdict, f.CorsError, f.FailedParameter, w.line, w.verdict, w.reason, w.param)
		}
	}
	if f := res.Findings[2]; f.URL != "https://a.example/1" || f.FinalURL != "https://b.example/2" {
		t.Errorf("redirect: %s -> %s", f.URL, f.FinalURL)
	}
	if fx := fix.Text(res.Findings[4].Fixes, words.English); !strings.Contains(fx, "peripheralid") {
		t.Errorf("Firefox header fix: %s", fx)
	}
	if res.ExitCode() != 1 {
		t.Errorf("exit %d", res.ExitCode())
	}
	if r := read(t, "nothing to see\nhere\n", Options{}); len(r.Findings) != 0 || r.ExitCode() != 0 {
		t.Errorf("noise only: %+v", r.Findings)
	}
}

// Every console line the engine writes, for every reason of both browsers, reads back as the same
// reason and parameter.
func TestConsoleLinesReadBack(t *testing.T) {
	for _, r := range cors.Reasons {
		f := cors.Failure{Reason: r, FailedParameter: "x-param"}
		line := cors.ConsoleLine(f, subURL, subURL, desktop)
		got, u, _, o, ok := cors.ParseChromiumConsole("prefix " + line)
		param := f.FailedParameter
		if !strings.Contains(line, "x-param") {
			param = ""
		}
		if !ok || got.Reason != r || got.FailedParameter != param || u != subURL || o != desktop {
			t.Errorf("%s: read back %v %q %s %s from %s", r, got.Reason, got.FailedParameter, u, o, line)
		}
	}
	for _, r := range cors.FirefoxReasons {
		f := cors.Failure{Reason: r, FailedParameter: "x-param", Status: 403}
		line := cors.FirefoxConsoleLine(f, subURL)
		got, u, ok := cors.ParseFirefoxConsole(line)
		param := f.FailedParameter
		if !strings.Contains(line, "x-param") {
			param = ""
		}
		if !ok || got.Reason != r || got.FailedParameter != param || u != subURL {
			t.Errorf("%s: read back %v %q %s from %s", r, got.Reason, got.FailedParameter, u, line)
		}
	}
}

// No secret value of the recording survives into the text or the JSON.
func TestRedaction(t *testing.T) {
	res := read(t, fieldHAR(), Options{})
	res.Redact()
	js, _ := json.Marshal(res.Findings)
	for _, out := range []string{string(js), res.Text()} {
		for _, s := range []string{"c2VjcmV0LWFnZW50OmhvdW5keW9n", "tok-123456", "cookie-value-789", "JSESSIONID=abc", "s=1"} {
			if strings.Contains(out, s) {
				t.Errorf("secret %q survived:\n%s", s, out)
			}
		}
	}
	if !strings.Contains(string(js), "access_token=REDACTED") || !strings.Contains(string(js), `"REDACTED"`) {
		t.Errorf("no redaction marks in %s", js)
	}
}

func TestKindOf(t *testing.T) {
	for in, want := range map[string]targets.Kind{
		"https://cuic.example:8444/cuic/x": targets.CUIC, "https://cuic.example/cuic/rest/": targets.CUIC,
		"https://cuic.example/other": targets.Custom, "https://ld.example:12008/socket.io/": targets.LiveData,
		"https://ld.example:12005/": targets.LiveData, "https://fin.example:8445/finesse/api/SystemInfo": targets.Finesse,
		"http://x.example:8080/": targets.Custom,
	} {
		u := mustParse(t, in)
		if got := KindOf(u); got != want {
			t.Errorf("KindOf(%s) = %s, want %s", in, got, want)
		}
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestReadAtMost(t *testing.T) {
	har := fieldHAR()
	if _, err := ReadAtMost(strings.NewReader(har), int64(len(har)-1), Options{}); err != ErrTooLarge {
		t.Errorf("one byte over: %v", err)
	}
	res, err := ReadAtMost(strings.NewReader(har), int64(len(har)), Options{})
	if err != nil || len(res.Findings) != 4 {
		t.Fatalf("at the limit: %v", err)
	}
	if js, _ := json.Marshal(res.JSON()); strings.Contains(string(js), "tok-123456") {
		t.Error("ReadAtMost did not redact")
	}
}

// Firefox names no value for "Multiple CORS header" and no method for "Did not find method":
// the explanation and the fix say what happened without an empty value (empty quotes or
// parentheses), in every language, from the console line (curly or straightened quotes) and
// from a HAR alike.
func TestNoEmptyValue(t *testing.T) {
	multiple := "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://x.example/. (Reason: Multiple CORS header ‘Access-Control-Allow-Origin’ not allowed).\n"
	method := "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://x.example/. (Reason: Did not find method in CORS header ‘Access-Control-Allow-Methods’).\n"
	h := newHAR("Firefox", "Finesse")
	h.add("GET", subURL, []string{"Origin: " + desktop, "Cookie: a=b"}, 200, []string{"Access-Control-Allow-Origin: " + desktop, "Access-Control-Allow-Origin: " + desktop, "Access-Control-Allow-Credentials: true"}, nil)
	for name, in := range map[string]string{
		"console": multiple, "straight quotes": strings.NewReplacer("‘", "'", "’", "'").Replace(multiple),
		"HAR": h.json(), "method": method,
	} {
		res := read(t, in, Options{})
		if len(res.Findings) != 1 || res.Findings[0].Verdict != cors.Blocked {
			t.Fatalf("%s: %d findings:\n%s", name, len(res.Findings), res.Text())
		}
		for _, l := range words.Langs {
			f := res.In(l).Findings[0]
			text := f.Explanation + "\n" + fix.Text(f.Fixes, l)
			if strings.Contains(text, "''") || strings.Contains(text, "()") || strings.Contains(text, "method  ") ||
				l != words.English && strings.Contains(text, "Access-Control-Allow-Origin once") {
				t.Errorf("%s in %s: an empty value is shown:\n%s", name, l, text)
			}
			if l == words.English && name != "method" && !strings.Contains(f.Explanation, "Access-Control-Allow-Origin header more than once") {
				t.Errorf("%s: %s", name, f.Explanation)
			}
		}
	}
}
