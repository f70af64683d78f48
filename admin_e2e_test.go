package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/corsquickcheck/corscheck/server/browsertest"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/polltest"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

const (
	hostileImg    = `<img src=x onerror=alert(1)>`
	hostileScript = `<script>alert(1)</script>`
)

// evalPage runs a JavaScript expression in the current page.
func evalPage[T any](t *testing.T, ctx context.Context, js string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitPage polls a JavaScript expression until it is true (pages may be navigating meanwhile).
func waitPage(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	var err error
	if !polltest.Until(15*time.Second, func() bool {
		var ok bool
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+js+`) } catch (e) { return false } })()`))
		return err == nil && ok
	}) {
		href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.body ? document.body.innerText : "")`))
		t.Fatalf("timed out waiting for %s (%v); page: %s", js, err, href)
	}
}

func navigate(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("navigate %s: %v", u, err)
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 900)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startAdminDemo starts the demo's service (without history) for the test and returns it with
// the admin password it generated.
func startAdminDemo(t *testing.T) (*demoEnv, string) {
	t.Helper()
	var stdout bytes.Buffer
	e, err := startDemo(t.Context(), demoOptions{listen: "127.0.0.1:0", dataDir: t.TempDir()}, &stdout, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	m := regexp.MustCompile(`Admin password \(generated now, shown only this once\): (\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no generated admin password in the output:\n%s", stdout.String())
	}
	return e, m[1]
}

// TestAdminInBrowser: the admin UI in headless Chromium. Sign-in with the generated password,
// the verdict filter, a result beside its diagnosis with the fix, the CSV export, hostile
// strings from browsers rendered as inert text, and a cross-site form POST refused.
func TestAdminInBrowser(t *testing.T) {
	e, password := startAdminDemo(t)

	// Results as browsers report them (plus one carrying markup in every free-text field).
	const origin = "https://finessep.example:8445"
	now := time.Now().UTC().Truncate(time.Second)
	result := func(ago time.Duration, kind, node, verdict, browserErr, agentID, ext string) store.Result {
		path := map[string]string{"cuic": "/cuic/rest/about", "livedata": "/livedata/security"}[kind]
		return store.Result{
			ReceivedAt: now.Add(-ago), ClientTime: now.Add(-ago - 300*time.Millisecond), ClientAddr: "10.20.30.41",
			GadgetVersion: "1.0.0", PageOrigin: origin, TargetKind: kind, Node: node,
			URL: "https://" + node + ":8444" + path, Method: "GET",
			HeaderNames: []string{"authorization", "locale", "peripheralid"}, Credentials: "include",
			Verdict: verdict, BrowserError: browserErr, DurationMs: 42,
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36",
			AgentID:   agentID, Extension: ext, Role: "Agent",
		}
	}
	rs := []store.Result{
		result(9*time.Minute, "cuic", "cuicpub.example.com", "allowed", "", "jdoe", "5001"),
		result(8*time.Minute, "livedata", "cuicpub.example.com", "allowed", "", "jdoe", "5001"),
		result(7*time.Minute, "cuic", "cuicsub.example.com", "blocked", "TypeError: Failed to fetch", "jdoe", "5001"),
		result(5*time.Minute, "livedata", "cuicsub.example.com", "allowed", "", "asmith", "5002"),
		result(4*time.Minute, "cuic", "cuicsub.example.com", "blocked", "TypeError: Failed to fetch", "asmith", "5002"),
		result(2*time.Minute, "cuic", "10.10.1.23", "unreachable", "TypeError: Failed to fetch", "bwong", "5003"),
	}
	ids, err := e.svc.store.AddResults(t.Context(), rs)
	if err != nil {
		t.Fatal(err)
	}
	blockedID := ids[4]
	// The fix is the product's own advice for this case, so the screenshot shows what users see.
	fixes, err := json.Marshal(fix.For(fix.Problem{Kind: targets.CUIC, URL: &url.URL{Scheme: "https", Host: "cuicsub.example.com:8444", Path: "/cuic/rest/about"}, Origin: origin, Reason: cors.PreflightMissingAllowOriginHeader}))
	if err != nil {
		t.Fatal(err)
	}
	report := `{"url":"https://cuicsub.example.com:8444/cuic/rest/about","origin":"` + origin + `","method":"GET",` +
		`"console":"Access to fetch at 'https://cuicsub.example.com:8444/cuic/rest/about' from origin '` + origin + `' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.",` +
		`"explanation":"The preflight (OPTIONS) response has no Access-Control-Allow-Origin header: the node does not allow this origin.",` +
		`"fixes":` + string(fixes) + `,` +
		`"preflight":{"kind":"preflight","method":"OPTIONS","url":"https://cuicsub.example.com:8444/cuic/rest/about",` +
		`"requestHeaders":[{"name":"Origin","value":"` + origin + `"},{"name":"Access-Control-Request-Method","value":"GET"}],` +
		`"status":403,"headers":{"Server":["Apache"],"Content-Length":["0"]}}}`
	if _, err := e.svc.store.AddDiagnosis(t.Context(), store.Diagnosis{
		ResultID: blockedID, CreatedAt: now.Add(-4 * time.Minute), URL: rs[4].URL, Origin: origin,
		Kind: "cuic", Node: "cuicsub.example.com", Verdict: "blocked",
		Reason: string(cors.PreflightMissingAllowOriginHeader), NetworkClass: "ok", Report: []byte(report),
	}); err != nil {
		t.Fatal(err)
	}

	ctx := browsertest.New(t)
	var (
		mu        sync.Mutex
		dialogs   []string
		responses = map[string]int64{} // URL → last status of a document load
	)
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			mu.Lock()
			dialogs = append(dialogs, string(ev.Type)+": "+ev.Message+" on "+ev.URL)
			mu.Unlock()
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeDocument {
				mu.Lock()
				responses[ev.Response.URL] = ev.Response.Status
				mu.Unlock()
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	noDialogs := func(t *testing.T) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(dialogs) > 0 {
			t.Fatalf("JavaScript dialogs opened: %q", dialogs)
		}
	}

	// Signed out, /admin/ leads to the sign-in form.
	navigate(t, ctx, e.base+"/admin/")
	if p := evalPage[string](t, ctx, `location.pathname`); p != "/admin/login" {
		t.Fatalf("signed out, /admin/ ends at %s, want /admin/login", p)
	}
	evalPage[bool](t, ctx, fmt.Sprintf(`(() => { document.querySelector('input[name=password]').value = %s;
		document.querySelector('.login form').submit(); return true })()`, strconv.Quote(password)))
	// Signed in, the dashboard: the subscriber's CUIC cell is blocked and leads to its results.
	waitPage(t, ctx, `location.pathname === '/admin/' && document.readyState === 'complete' && document.querySelector('#matrix')`)
	cell := `[...document.querySelectorAll('#matrix tbody tr')].find(tr => tr.querySelector('th').textContent.includes('cuicsub.example.com') && tr.querySelector('th .kind').textContent === 'cuic').querySelector('td')`
	if got := evalPage[string](t, ctx, cell+`.className`); got != "cell cell-blocked" {
		t.Errorf("the cuicsub CUIC cell has class %q, want cell cell-blocked", got)
	}
	if got := evalPage[string](t, ctx, cell+`.textContent.replace(/\s+/g, ' ').trim()`); !strings.HasPrefix(got, "blocked 4 min ago 0% allowed of 2") {
		t.Errorf("the cuicsub CUIC cell reads %q", got)
	}
	// The chart's bars (their titles) count the two blocked results, drawn in one or two hours.
	blockedInChart := evalPage[int](t, ctx, `[...document.querySelectorAll('#chart g.bar > title')]
		.map(t => +t.textContent.match(/, (\d+) blocked/)[1]).reduce((a, b) => a + b, 0)`)
	if segments := evalPage[int](t, ctx, `document.querySelectorAll('#chart rect.bar-blocked').length`); blockedInChart != 2 || segments < 1 || segments > 2 {
		t.Errorf("the chart counts %d blocked results in %d segments, want 2 in 1 or 2", blockedInChart, segments)
	}
	evalPage[bool](t, ctx, `(() => { `+cell+`.querySelector('a').click(); return true })()`)
	waitPage(t, ctx, `location.pathname === '/admin/results' && new URL(location.href).searchParams.get('node') === 'cuicsub.example.com' && document.readyState === 'complete' && document.querySelector('#results')`)
	want := []string{strconv.FormatInt(ids[4], 10), strconv.FormatInt(ids[2], 10)}
	if got := evalPage[[]string](t, ctx, `[...document.querySelectorAll('#results tbody tr')].map(tr => tr.dataset.id)`); !slices.Equal(got, want) {
		t.Errorf("the cell's results are %q, want %q: the two blocked CUIC checks of cuicsub", got, want)
	}

	navigate(t, ctx, e.base+"/admin/results")
	waitPage(t, ctx, `location.pathname === '/admin/results' && document.readyState === 'complete' && document.querySelector('#results')`)
	if n := evalPage[int](t, ctx, `document.querySelectorAll('#results tbody tr').length`); n != len(rs) {
		t.Errorf("results page shows %d rows, want %d", n, len(rs))
	}
	screenshot(t, ctx, "admin-results.png")

	// The verdict filter: a GET form, so the filtered list has a bookmarkable URL.
	evalPage[bool](t, ctx, `(() => { const f = document.querySelector('form.filters');
		f.querySelector('select[name=verdict]').value = 'blocked'; f.submit(); return true })()`)
	waitPage(t, ctx, `new URL(location.href).searchParams.get('verdict') === 'blocked' && document.readyState === 'complete' && document.querySelector('#results')`)
	bookmark := evalPage[string](t, ctx, `location.href`)
	verdicts := evalPage[[]string](t, ctx, `[...document.querySelectorAll('#results tbody tr .verdict')].map(s => s.textContent)`)
	if len(verdicts) != 2 || verdicts[0] != "blocked" || verdicts[1] != "blocked" {
		t.Errorf("verdict=blocked shows %q, want two blocked rows", verdicts)
	}
	if got := evalPage[string](t, ctx, `document.querySelector('#total').textContent`); !strings.HasPrefix(got, "2 ") {
		t.Errorf("total %q, want 2 matching results", got)
	}
	if href := evalPage[string](t, ctx, `document.querySelector('#export-csv').getAttribute('href')`); href != "/admin/export.csv?verdict=blocked" {
		t.Errorf("CSV export link %q does not keep the filter", href)
	}
	navigate(t, ctx, bookmark) // the bookmarked URL shows the same
	if n := evalPage[int](t, ctx, `document.querySelectorAll('#results tbody tr').length`); n != 2 {
		t.Errorf("the bookmarked filter %s shows %d rows, want 2", bookmark, n)
	}

	// The detail page: the browser's view beside the service's diagnosis and its fix.
	evalPage[bool](t, ctx, fmt.Sprintf(`(() => { document.querySelector('#results tr[data-id="%d"] a').click(); return true })()`, blockedID))
	waitPage(t, ctx, fmt.Sprintf(`location.pathname === '/admin/results/%d' && document.readyState === 'complete' && document.querySelector('#server')`, blockedID))
	if got := evalPage[string](t, ctx, `document.querySelector('h1').textContent.replace(/\s+/g, ' ').trim()`); got != fmt.Sprintf("Result %d: blocked", blockedID) {
		t.Errorf("detail heading %q, want the verdict badge after the id", got)
	}
	const fixCmd = "utils cuic cors allowed_origin add https://finessep.example:8445"
	if got := evalPage[string](t, ctx, `[...document.querySelectorAll('#server pre.commands')].map(p => p.textContent).join('\n')`); !slices.Contains(strings.Split(got, "\n"), fixCmd) {
		t.Errorf("fix commands %q, want %q among them", got, fixCmd)
	}
	if got := evalPage[string](t, ctx, `document.querySelector('#server').textContent`); !strings.Contains(got, "Intelligence Center Reporting Service") || strings.Contains(got, "Cisco Tomcat") {
		t.Errorf("the fix does not restart CUIC's reporting service:\n%s", got)
	}
	if got := evalPage[string](t, ctx, `document.querySelector('#server pre.headers.response').textContent`); !strings.Contains(got, "Server: Apache") {
		t.Errorf("raw preflight headers %q lack Server: Apache", got)
	}
	if got := evalPage[string](t, ctx, `document.querySelector('#server .exchange h3').textContent`); !strings.Contains(got, "403 Forbidden") {
		t.Errorf("preflight heading %q lacks the status", got)
	}
	if got := evalPage[string](t, ctx, `document.querySelector('#copy').value`); !strings.Contains(got, fixCmd) || !strings.Contains(got, "Browser error: TypeError: Failed to fetch") {
		t.Errorf("copy-as-text lacks the fix or the browser error:\n%s", got)
	}
	screenshot(t, ctx, "admin-detail.png")

	// Hostile strings, reported by a browser and found by a diagnosis, are shown as text.
	hostile := result(time.Minute, "cuic", hostileImg+hostileScript, "blocked", hostileImg+" "+hostileScript, hostileScript, hostileImg)
	hostile.URL = "https://cuicsub.example.com:8444/" + hostileImg + hostileScript
	hostile.UserAgent = hostileScript + hostileImg
	hostile.PageOrigin = "https://finessep.example:8445" + hostileScript
	hostile.AgentID = `=HYPERLINK("http://evil.example")` // a formula, for the CSV guard
	hids, err := e.svc.store.AddResults(t.Context(), []store.Result{hostile})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.store.AddDiagnosis(t.Context(), store.Diagnosis{
		ResultID: hids[0], CreatedAt: now, URL: hostile.URL, Origin: origin, Kind: "cuic", Node: hostile.Node,
		Verdict: "blocked", Reason: hostileScript,
		Report: fmt.Appendf(nil, `{"console":%[1]q,"fixes":[{"node":%[1]q,"summary":%[1]q,"commands":[%[1]q]}],`+
			`"preflight":{"method":"OPTIONS","url":%[1]q,"status":403,"headers":{"Server":[%[1]q]}}}`, hostileImg+hostileScript),
	}); err != nil {
		t.Fatal(err)
	}

	// Export: the admin pages' CSP allows them no fetch at all (connect-src falls back to
	// default-src 'none'), so fetch from another page of the same origin, with the cookie.
	if ok := evalPage[bool](t, ctx, `fetch('/admin/export.csv', {credentials: 'same-origin'}).then(() => true, () => false)`, chromedp.EvalAwaitPromise); ok {
		t.Error("the admin page's CSP let a script fetch")
	}
	navigate(t, ctx, e.base+"/healthz") // JSON of the same origin, without the admin pages' CSP
	type fetched struct {
		Status      int    `json:"status"`
		ContentType string `json:"contentType"`
		Disposition string `json:"disposition"`
		Body        string `json:"body"`
	}
	fetchCSV := func(query string) fetched {
		t.Helper()
		return evalPage[fetched](t, ctx, `fetch('/admin/export.csv`+query+`', {credentials: 'same-origin'}).then(async r => ({
			status: r.status, contentType: r.headers.get('Content-Type') || '',
			disposition: r.headers.get('Content-Disposition') || '', body: await r.text() }))`, chromedp.EvalAwaitPromise)
	}
	f := fetchCSV("")
	if f.Status != 200 || !strings.HasPrefix(f.ContentType, "text/csv") || !strings.Contains(f.Disposition, "attachment") {
		t.Fatalf("export.csv: %d %q %q\n%s", f.Status, f.ContentType, f.Disposition, f.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(f.Body)).ReadAll()
	if err != nil {
		t.Fatalf("export.csv is not CSV: %v\n%s", err, f.Body)
	}
	if len(rows) != len(rs)+2 || strings.Join(rows[0], ",") != strings.Join(csvColumns, ",") {
		t.Fatalf("export.csv has %d rows, header %q:\n%s", len(rows), rows[0], f.Body)
	}
	if rows[1][0] != strconv.FormatInt(hids[0], 10) || rows[1][12] != "blocked" || rows[1][7] != hostile.Node {
		t.Errorf("first CSV row %q, want the newest result %d", rows[1], hids[0])
	}
	if got := rows[1][16]; got != `'=HYPERLINK("http://evil.example")` {
		t.Errorf("formula agent id exported as %q, want it prefixed with '", got)
	}
	if f := fetchCSV("?verdict=blocked"); strings.Count(f.Body, "\n") != 4 {
		t.Errorf("export.csv?verdict=blocked:\n%s", f.Body)
	}

	// The hostile strings are inert wherever they are shown.
	inert := func(t *testing.T, u string) {
		t.Helper()
		navigate(t, ctx, u)
		if n := evalPage[int](t, ctx, `document.querySelectorAll('img, script, [onerror]').length`); n != 0 {
			t.Errorf("%s: %d img, script or onerror elements from data:\n%s", u, n, evalPage[string](t, ctx, `document.body.innerHTML`))
		}
		text := evalPage[string](t, ctx, `document.body.textContent`)
		if !strings.Contains(text, hostileImg) || !strings.Contains(text, hostileScript) {
			t.Errorf("%s does not show the hostile strings as text:\n%s", u, text)
		}
	}
	inert(t, e.base+"/admin/results")
	inert(t, e.base+"/admin/results?node="+url.QueryEscape(hostile.Node))
	inert(t, fmt.Sprintf("%s/admin/results/%d", e.base, hids[0]))
	inert(t, e.base+"/admin/")
	time.Sleep(200 * time.Millisecond) // a dialog would open at once; give its event a moment
	noDialogs(t)

	// A 253-character host name and a long reason name on a narrow screen: the page does not
	// grow wider than the screen (tables and fields scroll inside their box), and no line ends
	// between two letters or digits: no word is broken.
	longHost := "cuic-" + strings.Repeat("a", 58) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." +
		strings.Repeat("d", 53) + "-example"
	long := result(30*time.Second, "cuic", longHost, "blocked", "TypeError: Failed to fetch", "jdoe", "5001")
	lids, err := e.svc.store.AddResults(t.Context(), []store.Result{long})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.store.AddDiagnosis(t.Context(), store.Diagnosis{ResultID: lids[0], CreatedAt: now, URL: long.URL,
		Origin: origin, Kind: "cuic", Node: longHost, Verdict: "blocked", Reason: "PreflightInvalidAllowCredentials"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(600, 900)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, cells string }{
		{"/admin/results", `#results tr[data-id="` + strconv.FormatInt(lids[0], 10) + `"] td`},
		{"/admin/", `#matrix th, #reasons td, #failures td`},
		{fmt.Sprintf("/admin/results/%d", lids[0]), `#browser dd`},
	} {
		navigate(t, ctx, e.base+c.path)
		if w := evalPage[[]int](t, ctx, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
			t.Errorf("%s with a 253-character host is %d px wide on a %d px screen", c.path, w[0], w[1])
		}
		broken := evalPage[[]string](t, ctx, `[...document.querySelectorAll(`+strconv.Quote(c.cells)+`)].flatMap(cell => {
			const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT), out = [], r = document.createRange();
			for (let n; (n = walk.nextNode()); ) {
				let top;
				for (let i = 0; i < n.data.length; i++) {
					r.setStart(n, i); r.setEnd(n, i + 1);
					const box = r.getClientRects()[0];
					if (!box) continue;
					if (top !== undefined && box.top > top + 1 && /^[\p{L}\p{N}]{2}$/u.test(n.data.slice(i - 1, i + 1)))
						out.push(n.data.slice(Math.max(0, i - 12), i) + '|' + n.data.slice(i, i + 12));
					top = box.top;
				}
			}
			return out; })`)
		if len(broken) > 0 {
			t.Errorf("%s breaks inside %q", c.path, broken)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 900)); err != nil {
		t.Fatal(err)
	}

	// The targets page: add a node to the first target in the editor and save; the gadget's
	// dropdown (GET /api/v1/targets) has it at once.
	navigate(t, ctx, e.base+"/admin/targets")
	waitPage(t, ctx, `document.readyState === 'complete' && document.querySelector('#catalogue')`)
	screenshot(t, ctx, "admin-targets.png")
	evalPage[bool](t, ctx, `(() => { const ta = document.querySelector('#catalogue');
		const c = JSON.parse(ta.value); c.targets[0].nodes.push('cuicnew.example.com');
		ta.value = JSON.stringify(c, null, 2); ta.form.submit(); return true })()`)
	waitPage(t, ctx, `new URL(location.href).searchParams.get('saved') === '1' && document.readyState === 'complete' && document.querySelector('#notice')`)
	if got := evalPage[string](t, ctx, `document.querySelector('#in-use').textContent`); !strings.Contains(got, "cuicnew.example.com") {
		t.Errorf("the saved catalogue does not list the new node")
	}
	apiResp, err := http.Get(e.base + "/api/v1/targets")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(apiResp.Body)
	apiResp.Body.Close()
	if !strings.Contains(string(body), "cuicnew.example.com") {
		t.Errorf("GET /api/v1/targets after the save: %s", body)
	}
	// An invalid catalogue is refused with its problems, and the text stays in the editor.
	evalPage[bool](t, ctx, `(() => { const ta = document.querySelector('#catalogue');
		ta.value = ta.value.replace('cuicnew.example.com', 'cuic new.example.com'); ta.form.submit(); return true })()`)
	waitPage(t, ctx, `document.readyState === 'complete' && document.querySelector('#problems')`)
	if got := evalPage[string](t, ctx, `document.querySelector('#catalogue').value`); !strings.Contains(got, "cuic new.example.com") {
		t.Errorf("the refused text is not kept in the editor")
	}

	// A cross-site form POST (another site's page submitting to /admin/logout) is refused, and
	// the session survives it.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><form id="f" method="post" action="%s/admin/logout"></form>
<script>document.getElementById('f').submit()</script>`, e.base)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1) // another site than 127.0.0.1
	navigate(t, ctx, evilURL)
	waitPage(t, ctx, `location.href === `+strconv.Quote(e.base+"/admin/logout")+` && document.readyState === 'complete'`)
	mu.Lock()
	status := responses[e.base+"/admin/logout"]
	mu.Unlock()
	if status != http.StatusForbidden {
		t.Errorf("the cross-site POST to /admin/logout answered %d, want 403", status)
	}
	if body := evalPage[string](t, ctx, `document.body.innerText`); !strings.Contains(body, "cross-origin") {
		t.Errorf("the cross-site POST shows %q", body)
	}
	navigate(t, ctx, e.base+"/admin/results")
	if p := evalPage[string](t, ctx, `location.pathname`); p != "/admin/results" {
		t.Errorf("after the cross-site POST, /admin/results ends at %s: the session was ended", p)
	}
	req, _ := http.NewRequest(http.MethodPost, e.base+"/admin/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /admin/logout with Sec-Fetch-Site: cross-site answered %d, want 403", resp.StatusCode)
	}

	// The start page and a 404 outside /admin/ are styled pages (the stylesheet applies under
	// their CSP) whose links lead on: to the admin UI, and back to the dashboard.
	styled := `getComputedStyle(document.querySelector('header.top')).borderBottomStyle === 'solid'`
	navigate(t, ctx, e.base+"/")
	waitPage(t, ctx, `document.readyState === 'complete' && document.querySelector('#admin-link') && `+styled)
	evalPage[bool](t, ctx, `(() => { document.querySelector('#admin-link').click(); return true })()`)
	waitPage(t, ctx, `location.pathname === '/admin/' && document.readyState === 'complete' && document.querySelector('#matrix')`)
	navigate(t, ctx, e.base+"/no-such-page")
	waitPage(t, ctx, `document.readyState === 'complete' && document.querySelector('#error-page a#back') && `+styled)
	mu.Lock()
	status = responses[e.base+"/no-such-page"]
	mu.Unlock()
	if status != http.StatusNotFound {
		t.Errorf("/no-such-page answered %d, want 404", status)
	}
	evalPage[bool](t, ctx, `(() => { document.querySelector('a#back').click(); return true })()`)
	waitPage(t, ctx, `location.pathname === '/admin/' && document.readyState === 'complete' && document.querySelector('#matrix')`)
	noDialogs(t)
}

// csvColumns is the export's header, as docs/admin.md lists it.
var csvColumns = []string{"id", "received_at", "client_time", "client_addr", "gadget_version",
	"page_origin", "target_kind", "node", "url", "method", "header_names", "credentials", "verdict",
	"browser_error", "duration_ms", "user_agent", "agent_id", "extension", "role", "reason", "source"}

// TestDemoDashboardInBrowser: what `make run` shows an admin. The demo's week of history makes
// the dashboard tell the field case: the subscriber has blocked the Finesse origin since the
// upgrade two days ago, the publisher allows it, the dead node is unreachable; each with its
// reason. Takes the dashboard's screenshot for docs/admin.md.
func TestDemoDashboardInBrowser(t *testing.T) {
	e, password := startAdminDemo(t)
	now := time.Now()
	if n, err := seedHistory(t.Context(), e, now); err != nil || n == 0 {
		t.Fatalf("seeding the demo history: %d, %v", n, err)
	}

	ctx := browsertest.New(t)
	navigate(t, ctx, e.base+"/admin/login")
	evalPage[bool](t, ctx, fmt.Sprintf(`(() => { document.querySelector('input[name=password]').value = %s;
		document.querySelector('.login form').submit(); return true })()`, strconv.Quote(password)))
	waitPage(t, ctx, `location.pathname === '/admin/' && document.readyState === 'complete' && document.querySelector('#matrix')`)

	cell := func(node, origin string) string {
		return evalPage[string](t, ctx, fmt.Sprintf(`(() => {
			const col = [...document.querySelectorAll('#matrix thead th')].findIndex(th => th.textContent === %s);
			const row = [...document.querySelectorAll('#matrix tbody tr')].find(tr => tr.querySelector('th').textContent.trim().startsWith(%s));
			if (col < 0 || !row) return 'missing';
			const td = row.children[col];
			return td.className + ' | ' + td.textContent.replace(/\s+/g, ' ').trim(); })()`, strconv.Quote(origin), strconv.Quote(node)))
	}
	origin := "https://finessep.example:8445"
	if got := cell("cuicpub.localhost", origin); !strings.HasPrefix(got, "cell cell-allowed | allowed") {
		t.Errorf("cuicpub × %s: %q, want allowed", origin, got)
	}
	if got := cell("127.0.0.2", origin); !strings.HasPrefix(got, "cell cell-unreachable | unreachable") {
		t.Errorf("cuic-dead (127.0.0.2) × %s: %q, want unreachable", origin, got)
	}
	sub := cell("cuicsub.localhost", origin)
	m := regexp.MustCompile(`^cell cell-blocked \| blocked .* blocked since (\w{3} \w{3} \d+ \d\d:\d\d) UTC$`).FindStringSubmatch(sub)
	if m == nil {
		t.Fatalf("cuicsub × %s: %q, want blocked since the upgrade", origin, sub)
	}
	since, err := time.Parse("Mon Jan 2 15:04", m[1])
	if err != nil {
		t.Fatal(err)
	}
	since = since.AddDate(now.UTC().Year(), 0, 0)
	if upgrade := now.Add(-upgradeAgo).UTC(); since.Before(upgrade.Truncate(time.Hour)) || since.After(upgrade.Add(18*time.Hour)) {
		t.Errorf("cuicsub blocked since %s, want the first checks after the upgrade at %s", since, upgrade)
	}
	reasons := evalPage[[]string](t, ctx, `[...document.querySelectorAll('#reasons tbody tr td:first-child')].map(td => td.textContent)`)
	if !slices.Contains(reasons, "PreflightMissingAllowOriginHeader") && !slices.Contains(reasons, "PreflightInvalidStatus") {
		t.Errorf("top reasons %q lack the subscriber's", reasons)
	}
	if n := evalPage[int](t, ctx, `document.querySelectorAll('#chart rect.bar-allowed').length`); n < 10 {
		t.Errorf("the chart has %d allowed segments in 24 hours of history", n)
	}
	screenshot(t, ctx, "admin-dashboard.png")
}
