package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/corsquickcheck/corscheck/gadget"
	"github.com/corsquickcheck/corscheck/server/browsertest"
	"github.com/corsquickcheck/corscheck/server/lab"
	"github.com/corsquickcheck/corscheck/server/polltest"
	"github.com/corsquickcheck/corscheck/server/simulator"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// consoleRecorder keeps what the page reports as errors: exceptions, console.error and error
// log entries.
type consoleRecorder struct {
	mu     sync.Mutex
	errors []string
}

func (c *consoleRecorder) listen(ev any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		c.errors = append(c.errors, "exception: "+e.ExceptionDetails.Text+" "+fmt.Sprint(e.ExceptionDetails.Exception))
	case *runtime.EventConsoleAPICalled:
		if e.Type == "error" {
			c.errors = append(c.errors, "console.error")
		}
	case *log.EventEntryAdded:
		if e.Entry != nil && e.Entry.Level == log.EntryLevelError {
			c.errors = append(c.errors, "log: "+e.Entry.Text+" "+e.Entry.URL)
		}
	}
}

// unexpected returns the errors that are not the network failures the checks provoke on
// purpose (Chromium logs every blocked or refused request it was asked to make).
func (c *consoleRecorder) unexpected() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	provoked := regexp.MustCompile(`blocked by CORS policy|net::ERR_CONNECTION_REFUSED|net::ERR_FAILED|status of 403`)
	var out []string
	for _, e := range c.errors {
		if !provoked.MatchString(e) {
			out = append(out, e)
		}
	}
	return out
}

// inGadget runs a JavaScript function of the gadget iframe's document (same origin as the
// desktop, as in Finesse).
func inGadget[T any](t *testing.T, ctx context.Context, fn string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](`(`+fn+`)(document.getElementById('gadget').contentDocument)`))
	if err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	return v
}

func waitInGadget(t *testing.T, ctx context.Context, fn string) {
	t.Helper()
	var err error
	if !polltest.Until(20*time.Second, func() bool {
		var ok bool
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+fn+`)(document.getElementById('gadget').contentDocument) } catch (e) { return false } })()`))
		return err == nil && ok
	}) {
		t.Fatalf("timed out waiting for %s (%v)", fn, err)
	}
}

type checkRow struct {
	Node    string `json:"node"`
	Verdict string `json:"verdict"`
	Label   string `json:"label"`
	Text    string `json:"text"`
}

// runChecks presses Test and returns each node's row once all have a verdict.
func runChecks(t *testing.T, ctx context.Context, want int) []checkRow {
	t.Helper()
	inGadget[bool](t, ctx, `d => { d.querySelector('button.cc-primary').click(); return true }`)
	// Done when every node has a verdict and every failure has the service's diagnosis.
	waitInGadget(t, ctx, fmt.Sprintf(`d => { const cs = [...d.querySelectorAll('.cc-check')];
		return cs.length === %d && cs.every(c => /cc-allowed/.test(c.className) || ((/cc-blocked|cc-unreachable/).test(c.className) && c.querySelector('.cc-fix'))) }`, want))
	return inGadget[[]checkRow](t, ctx, `d => [...d.querySelectorAll('.cc-check')].map(li => ({
		node: new URL(li.textContent.match(/https?:\/\/[^\s\/]+/)[0]).hostname,
		verdict: (li.className.match(/cc-(allowed|blocked|unreachable)/) || [])[1] || '',
		label: li.querySelector('.cc-verdict').textContent,
		text: li.textContent }))`)
}

// demoInBrowser starts the demo (the service, the lab and its desktop simulator) on loopback,
// with more names for the lab certificate, and a browser that trusts the lab; both stop when the
// test ends.
func demoInBrowser(tb testing.TB, extraHosts ...string) (*demoEnv, context.Context) {
	tb.Helper()
	e, err := startDemo(tb.Context(), demoOptions{listen: "127.0.0.1:0", dataDir: tb.TempDir(), extraHosts: extraHosts}, io.Discard, io.Discard)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.Close)
	return e, browsertest.New(tb, browsertest.TrustCA(e.lab.CA().CertPEM()))
}

// TestGadgetInSimulator: the gadget in the Finesse desktop simulator, in headless Chromium,
// checks the lab's CUIC publisher, subscriber and dead node at once and shows allowed, blocked
// and unreachable, in English, Dutch and Korean; every result reaches the store; the page logs
// no error beyond the failures the checks provoke.
func TestGadgetInSimulator(t *testing.T) {
	e, ctx := demoInBrowser(t)
	var console consoleRecorder
	if err := chromedp.Listen(ctx, console.listen); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]map[string]string{} // locale → verdict → label
	stored := int64(0)
	for _, locale := range []string{"en_US", "nl_NL", "ko_KR"} {
		t.Run(locale, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.Navigate(e.lab.DesktopURL(locale))); err != nil {
				t.Fatal(err)
			}
			waitInGadget(t, ctx, `d => d.querySelector('#cc-node-3')`) // the service's catalogue has arrived
			rows := runChecks(t, ctx, 3)
			got := map[string]string{}
			labels[locale] = map[string]string{}
			for _, r := range rows {
				got[r.Node] = r.Verdict
				labels[locale][r.Verdict] = r.Label
			}
			want := map[string]string{"cuicpub.localhost": "allowed", "cuicsub.localhost": "blocked", "127.0.0.2": "unreachable"}
			for node, v := range want {
				if got[node] != v {
					t.Errorf("%s: %q, want %q (rows %+v)", node, got[node], v, rows)
				}
			}
			// The service's diagnosis is told in the agent's language too; the commands are not.
			fixWords := map[string]string{"en_US": "allow the origin ", "nl_NL": "sta de origin ", "ko_KR": "에서 출처 "}[locale]
			for _, r := range rows {
				if r.Verdict == "blocked" && !strings.Contains(r.Text, "utils cuic cors allowed_origin add "+e.lab.SimulatorOrigin()) {
					t.Errorf("the blocked node shows no fix with the page's origin: %s", r.Text)
				}
				if r.Verdict == "blocked" && !strings.Contains(r.Text, fixWords) {
					t.Errorf("in %s the fix is not in the agent's language (want %q): %s", locale, fixWords, r.Text)
				}
			}
			if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" { // make screenshots: for docs/
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(1000, 900)); err != nil {
					t.Fatal(err)
				}
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "gadget-"+locale+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// Results are reported once the checks are done; give the POST a moment.
			var n int64
			var err error
			if !polltest.Until(5*time.Second, func() bool {
				n, err = e.svc.store.CountResults(context.Background(), store.Filter{PageOrigin: e.lab.SimulatorOrigin()})
				return err == nil && n == stored+3
			}) {
				t.Fatalf("store holds %d results from the simulator, want %d (%v)", n, stored+3, err)
			}
			stored = n
		})
	}
	if labels["en_US"]["blocked"] == labels["nl_NL"]["blocked"] || labels["en_US"]["blocked"] == labels["ko_KR"]["blocked"] {
		t.Errorf("verdicts are not translated: %v", labels)
	}
	if !regexp.MustCompile(`\p{Hangul}`).MatchString(labels["ko_KR"]["allowed"]) {
		t.Errorf("Korean verdict %q has no Hangul", labels["ko_KR"]["allowed"])
	}
	if errs := console.unexpected(); len(errs) > 0 {
		t.Errorf("the page logged errors: %q", errs)
	}
}

// nginxConf plays CUIC's Tomcat CorsFilter: 200 with the CORS headers for the allowed origin,
// 403 without any otherwise. nginx-pub allows the simulator's origin; nginx-sub allows none.
const nginxConf = `
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[1]s/body; proxy_temp_path %[1]s/proxy; fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi; scgi_temp_path %[1]s/scgi;
  map_hash_bucket_size 256;
  map "$host|$http_origin" $cors_origin { default ""; "nginx-pub.localhost|%[2]s" $http_origin; }
  map $cors_origin $cors_credentials { default "true"; "" ""; }
  server {
    listen 127.0.0.1:%[3]d ssl;
    server_name nginx-pub.localhost nginx-sub.localhost;
    ssl_certificate %[1]s/cert.pem;
    ssl_certificate_key %[1]s/key.pem;
    location /cuic/ {
      add_header Access-Control-Allow-Origin $cors_origin always;
      add_header Access-Control-Allow-Credentials $cors_credentials always;
      add_header Access-Control-Allow-Methods "GET,POST,PUT,DELETE,OPTIONS,HEAD" always;
      add_header Access-Control-Allow-Headers "referer,peripheralid,origin,locale,accept,authorization,domain,x-requested-with,content-type,access-control-request-private-network,user-agent" always;
      add_header Vary Origin always;
      if ($cors_origin = "") { return 403; }
      if ($request_method = OPTIONS) { return 200; }
      default_type application/json;
      return 200 '{"status":"ok"}';
    }
  }
}
`

// startNginx runs Debian's nginx on loopback with nginxConf until the test ends.
func startNginx(t *testing.T, l *lab.Lab, origin string) int {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no nginx")
	}
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("nginx is required in CI (apt-get install nginx-light)")
			}
			t.Skip("nginx not installed (apt-get install nginx-light)")
		}
	}
	dir := t.TempDir()
	if err := l.CA().WriteServerCert(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, dir, origin, port)), 0o644)
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-g", "daemon off;")
	out, _ := os.Create(filepath.Join(dir, "out.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if !polltest.Until(10*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		o, _ := os.ReadFile(filepath.Join(dir, "out.log"))
		t.Fatalf("nginx did not start: %s %s", b, o)
	}
	return port
}

// TestGadgetAgainstNginx: the gadget checks two nodes of a real nginx configured like CUIC.
func TestGadgetAgainstNginx(t *testing.T) {
	e, err := startDemo(t.Context(), demoOptions{listen: "127.0.0.1:0", dataDir: t.TempDir(),
		extraHosts: []string{"nginx-pub.localhost", "nginx-sub.localhost"}}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	port := startNginx(t, e.lab, e.lab.SimulatorOrigin())
	// The admin lists nginx's port as the CUIC endpoint: the service diagnoses only the endpoints
	// the catalogue lists.
	cat := e.svc.catalogue.Get()
	cat.Targets = slices.Clone(cat.Targets) // the catalogue in use is shared: change a copy
	for i, tg := range cat.Targets {
		if tg.ID == "cuic" {
			cat.Targets[i].Endpoints = []targets.Endpoint{{Name: "nginx", Port: port, Path: tg.Endpoints[0].Path}}
		}
	}
	if err := e.svc.catalogue.Replace(t.Context(), cat); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, browsertest.TrustCA(e.lab.CA().CertPEM()))
	if err := chromedp.Do(ctx, chromedp.Navigate(e.lab.DesktopURL("en_US"))); err != nil {
		t.Fatal(err)
	}
	waitInGadget(t, ctx, `d => d.querySelector('#cc-node-3')`) // the service's catalogue has arrived
	// The CUIC target's nodes and port, set as an engineer would type them.
	inGadget[bool](t, ctx, fmt.Sprintf(`d => {
		const set = (el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); };
		d.querySelector('#cc-node-3').parentElement.querySelector('button').click();
		set(d.querySelector('#cc-node-1'), 'nginx-pub.localhost');
		set(d.querySelector('#cc-node-2'), 'nginx-sub.localhost');
		set(d.querySelector('.cc-port'), '%d');
		return true }`, port))
	rows := runChecks(t, ctx, 2)
	got := map[string]string{}
	for _, r := range rows {
		got[r.Node] = r.Verdict
	}
	if got["nginx-pub.localhost"] != "allowed" || got["nginx-sub.localhost"] != "blocked" {
		t.Fatalf("nginx nodes: %+v", rows)
	}
}

// slowNodes serves nodes slow1…slow3.localhost on one TLS port, each answering after its own
// delay (100, 200, 300 ms) and allowing origin, as a CUIC node far away would.
func slowNodes(tb testing.TB, l *lab.Lab, origin string) int {
	tb.Helper()
	dir := tb.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := l.CA().WriteServerCert(certFile, keyFile); err != nil {
		tb.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.Host)
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(host, "slow"), ".localhost"))
		time.Sleep(time.Duration(n) * 100 * time.Millisecond)
		if r.Header.Get("Origin") == origin {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Headers", "authorization,locale,peripheralid")
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

// BenchmarkGadgetThreeNodes measures in Chromium how long a Test of three nodes (100, 200 and
// 300 ms away) takes against a Test of the slowest alone, and reports the ratio: the gadget
// checks nodes at once, so it should be close to 1.
func BenchmarkGadgetThreeNodes(b *testing.B) {
	hosts := []string{"slow1.localhost", "slow2.localhost", "slow3.localhost"}
	e, ctx := demoInBrowser(b, hosts...)
	port := slowNodes(b, e.lab, e.lab.SimulatorOrigin())
	if err := chromedp.Do(ctx, chromedp.Navigate(e.lab.DesktopURL("en_US"))); err != nil {
		b.Fatal(err)
	}
	timeTest := func(nodes []string) float64 {
		js := fmt.Sprintf(`(async () => {
			const d = document.getElementById('gadget').contentDocument;
			// The previous Test is over (its results reported) when the button is enabled again.
			while (d.querySelector('button.cc-primary').getAttribute('aria-disabled') === 'true') await new Promise(r => setTimeout(r, 10));
			const set = (el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); };
			while (d.querySelectorAll('[id^=cc-node-]').length > 1) d.querySelector('[id^=cc-node-]').parentElement.querySelector('button').click();
			const want = %q.split(',');
			for (let i = 1; i < want.length; i++) [...d.querySelectorAll('button')].find(b => b.textContent.trim() === 'Add node').click();
			want.forEach((n, i) => set(d.querySelector('#cc-node-' + (i + 1)), n));
			set(d.querySelector('.cc-port'), '%d');
			const t0 = performance.now();
			d.querySelector('button.cc-primary').click();
			return await new Promise(res => { const iv = setInterval(() => {
				const cs = [...d.querySelectorAll('.cc-check')];
				if (cs.length === want.length && cs.every(c => /cc-allowed/.test(c.className))) { clearInterval(iv); res(performance.now() - t0); }
				if (performance.now() - t0 > 10000) { clearInterval(iv); res(-1); }
			}, 2); });
		})()`, strings.Join(nodes, ","), port)
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		ms, err := chromedp.Run(tctx, chromedp.Evaluate[float64](js, chromedp.EvalAwaitPromise))
		if err != nil || ms < 0 {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.getElementById('gadget').contentDocument.querySelectorAll('.cc-check')].map(c => c.className + ' ' + c.textContent.slice(0, 200)).join(' | ') + ' BODY=' + document.getElementById('gadget').contentDocument.body.innerText.slice(0, 1500) + ' nodes=' + [...document.getElementById('gadget').contentDocument.querySelectorAll('[id^=cc-node-]')].map(i => i.value).join(',')`))
			b.Fatalf("%v: %s", err, state)
		}
		return ms
	}
	// The service's catalogue (three lab nodes) has arrived before the first Test.
	if !polltest.Until(20*time.Second, func() bool {
		ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.getElementById('gadget').contentDocument.querySelector('#cc-node-3')`))
		return ok
	}) {
		b.Fatal("the gadget did not load the catalogue")
	}
	var one, three []float64
	for b.Loop() {
		one = append(one, timeTest(hosts[2:]))
		three = append(three, timeTest(hosts))
	}
	slices.Sort(one)
	slices.Sort(three)
	b.ReportMetric(one[len(one)/2], "slowest-alone-ms")
	b.ReportMetric(three[len(three)/2], "three-nodes-ms")
	b.ReportMetric(three[len(three)/2]/one[len(one)/2], "ratio")
}

// TestGadgetWithoutService: a gadget built without a service still gives browser verdicts.
func TestGadgetWithoutService(t *testing.T) {
	folder, err := gadget.Build(gadgetXML, gadget.Options{Version: version()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := lab.Start(lab.Options{Gadget: folder, GadgetQuery: "cuic=cuicpub.localhost,cuicsub.localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := browsertest.New(t, browsertest.TrustCA(l.CA().CertPEM()))
	if err := chromedp.Do(ctx, chromedp.Navigate(l.DesktopURL("en_US"))); err != nil {
		t.Fatal(err)
	}
	waitInGadget(t, ctx, `d => d.querySelector('#cc-node-2')`)
	inGadget[bool](t, ctx, fmt.Sprintf(`d => { const p = d.querySelector('.cc-port'); p.value = '%d';
		p.dispatchEvent(new Event('input', {bubbles: true})); return true }`, l.Port("cuic")))
	inGadget[bool](t, ctx, `d => { d.querySelector('button.cc-primary').click(); return true }`)
	waitInGadget(t, ctx, `d => { const cs = [...d.querySelectorAll('.cc-check')]; return cs.length === 2 && !cs.some(c => /cc-pending/.test(c.className)) }`)
	verdicts := inGadget[[]string](t, ctx, `d => [...d.querySelectorAll('.cc-check')].map(c => (c.className.match(/cc-(allowed|blocked|unreachable)/) || [])[1])`)
	if !slices.Equal(verdicts, []string{"allowed", "blocked"}) {
		t.Fatalf("verdicts %v, want [allowed blocked]", verdicts)
	}
	if n := inGadget[int](t, ctx, `d => d.querySelectorAll('.cc-fix').length`); n != 0 {
		t.Errorf("without a service there is no diagnosis, got %d fixes", n)
	}
}

// frameHeight is the gadget iframe's height and the bottom of what the gadget shows (its root's
// bottom plus the body's bottom margin), in CSS pixels.
type frameHeight struct {
	Frame   float64 `json:"frame"`
	Content float64 `json:"content"`
}

func measureFrame(t *testing.T, ctx context.Context) frameHeight {
	t.Helper()
	h, err := chromedp.Run(ctx, chromedp.Evaluate[frameHeight](`(() => {
		const f = document.getElementById('gadget'), d = f.contentDocument;
		const margin = parseFloat(getComputedStyle(d.body).marginBottom) || 0;
		return { frame: f.getBoundingClientRect().height, content: d.getElementById('corscheck').getBoundingClientRect().bottom + margin };
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// waitFrameFits waits until the frame is as high as the content, to the pixel, and returns it.
func waitFrameFits(t *testing.T, ctx context.Context) frameHeight {
	t.Helper()
	var h frameHeight
	if !polltest.Until(10*time.Second, func() bool {
		h = measureFrame(t, ctx)
		d := h.Frame - h.Content
		return d > -1 && d < 1
	}) {
		t.Fatalf("the frame is %.1f px high for %.1f px of content", h.Frame, h.Content)
	}
	return h
}

// TestGadgetFrameFollowsContent: the frame's height follows the content both ways, as
// adjustHeight sizes it in Finesse: it grows for a check of three nodes with their diagnoses and
// shrinks again for a check of one node; full-page screenshots and resizes leave it alone.
func TestGadgetFrameFollowsContent(t *testing.T) {
	e, ctx := demoInBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.lab.DesktopURL("en_US"))); err != nil {
		t.Fatal(err)
	}
	waitInGadget(t, ctx, `d => d.querySelector('#cc-node-3')`)
	form := waitFrameFits(t, ctx)
	runChecks(t, ctx, 3)
	three := waitFrameFits(t, ctx)
	if three.Frame <= form.Frame {
		t.Fatalf("three checks: the frame is %.0f px, the form alone %.0f px", three.Frame, form.Frame)
	}
	// Only the publisher: remove the second node twice (the subscriber, then the dead node).
	inGadget[bool](t, ctx, `d => { for (let i = 0; i < 2; i++) d.querySelector('#cc-node-2').parentElement.querySelector('button').click(); return true }`)
	runChecks(t, ctx, 1)
	one := waitFrameFits(t, ctx)
	if one.Frame >= three.Frame {
		t.Fatalf("one check after three: the frame stays %.0f px (three checks: %.0f px)", one.Frame, three.Frame)
	}
	// A full-page screenshot resizes the page's viewport; resizes make the gadget measure again.
	for i := range 3 {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(900+50*i), 700)); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.FullScreenshot(50)); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(900, 700)); err != nil {
		t.Fatal(err)
	}
	after := waitFrameFits(t, ctx)
	if after.Frame > one.Frame+1 {
		t.Errorf("after screenshots and resizes the frame is %.0f px, before %.0f px", after.Frame, one.Frame)
	}
}

// response is one HTTP response the browser received.
type response struct {
	URL      string
	Status   int64
	Encoding string
}

// responseRecorder keeps the responses the browser receives, iframes' included.
type responseRecorder struct {
	mu   sync.Mutex
	seen []response
}

func (r *responseRecorder) listen(ev any) {
	if e, ok := ev.(*network.EventResponseReceived); ok && e.Response != nil {
		enc, _ := e.Response.Headers["content-encoding"].(string)
		r.mu.Lock()
		r.seen = append(r.seen, response{URL: e.Response.URL, Status: e.Response.Status, Encoding: enc})
		r.mu.Unlock()
	}
}

// take waits until n responses for URLs with this path suffix have arrived since the last take
// (events may trail what the page shows), returns them, and forgets all responses.
func (r *responseRecorder) take(t *testing.T, suffix string, n int) []response {
	t.Helper()
	matching := func() (out []response) { // with r.mu held
		for _, s := range r.seen {
			if u, err := url.Parse(s.URL); err == nil && strings.HasSuffix(u.Path, suffix) {
				out = append(out, s)
			}
		}
		return out
	}
	polltest.Until(10*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(matching()) >= n
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	out := matching()
	r.seen = nil
	return out
}

// TestGadgetStartsInEveryForm: in Chromium the gadget starts, with no setting, whatever spec URL
// Finesse puts in the iframe's url parameter: root-relative, absolute on the desktop's origin,
// Finesse's internal http address on localhost or its own name (port 8082, which the browser
// cannot use), another host (the corscheck service, a customer's web server, one that copies
// Finesse's folders and so is tried second), and behind the VPN-less reverse proxy, where
// Finesse's own name is out of the browser's reach (any attempt reaches the sink and fails the
// test). Each time gadget.js comes from the expected folder under its stamped URL, and from
// Finesse compressed as Finesse serves it, and the gadget is styled.
func TestGadgetStartsInEveryForm(t *testing.T) {
	folder, err := gadget.Build(gadgetXML, gadget.Options{Version: version()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := lab.Start(lab.Options{Gadget: folder})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := browsertest.New(t, browsertest.TrustCA(l.CA().CertPEM()))
	var responses responseRecorder
	if err := chromedp.Listen(ctx, responses.listen); err != nil {
		t.Fatal(err)
	}
	finesse := l.SimulatorOrigin() + "/3rdpartygadget/files/"
	other := strings.Replace(l.SimulatorOrigin(), simulator.Host, simulator.GadgetHost, 1)
	want := map[simulator.SpecForm][]string{ // the folders gadget.js is asked from, in order
		simulator.FormRelative:     {finesse},
		simulator.FormAbsolute:     {finesse},
		simulator.FormInternal:     {finesse},
		simulator.FormInternalFQDN: {finesse},
		simulator.FormElsewhere:    {other + "/gadget/"},
		simulator.FormMirror:       {finesse + "mirror/", other + "/3rdpartygadget/files/mirror/"},
		simulator.FormProxy:        {l.ProxyOrigin() + "/3rdpartygadget/files/"},
	}
	js := folder.StampedURL("gadget.js")
	for _, form := range simulator.SpecForms() {
		t.Run(string(form), func(t *testing.T) {
			folders, ok := want[form]
			if !ok {
				t.Fatalf("no expectation for the form %s", form)
			}
			// By way of a blank page, so that nothing below can see the previous form's gadget.
			if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
				t.Fatal(err)
			}
			responses.take(t, "", 0)
			if err := chromedp.Do(ctx, chromedp.Navigate(l.FormURL(form, "en_US"))); err != nil {
				t.Fatal(err)
			}
			// The body holds the start-up script, whose text has the failure message too.
			waitInGadget(t, ctx, `d => d.querySelector('button.cc-primary') || /could not start/.test(d.getElementById('corscheck').textContent)`)
			if text := inGadget[string](t, ctx, `d => d.getElementById('corscheck').textContent`); strings.Contains(text, "could not start") {
				t.Fatalf("the gadget did not start: %s", text)
			}
			got := responses.take(t, "/gadget.js", len(folders))
			if len(got) != len(folders) {
				t.Fatalf("gadget.js was fetched %d times (%+v), want from %v", len(got), got, folders)
			}
			for i, f := range folders {
				if got[i].URL != f+js {
					t.Errorf("gadget.js fetch %d: %s, want %s", i+1, got[i].URL, f+js)
				}
			}
			last := got[len(got)-1]
			if last.Status != http.StatusOK {
				t.Errorf("gadget.js: status %d", last.Status)
			}
			if strings.HasPrefix(last.URL, l.SimulatorOrigin()) && last.Encoding != "gzip" {
				t.Errorf("gadget.js from Finesse: Content-Encoding %q, want gzip as Finesse sends it", last.Encoding)
			}
			// gadget.css (.cc { padding: 8px 10px }) came from the same folder.
			if pad := inGadget[string](t, ctx, `d => d.defaultView.getComputedStyle(d.getElementById('corscheck')).paddingLeft`); pad != "10px" {
				t.Errorf("the gadget is not styled (padding-left %q): gadget.css did not load", pad)
			}
			wantOrigin := l.SimulatorOrigin()
			if form == simulator.FormProxy {
				wantOrigin = l.ProxyOrigin()
			}
			if origin := inGadget[string](t, ctx, `d => d.defaultView.location.origin`); origin != wantOrigin {
				t.Errorf("the gadget's page origin is %s, want %s", origin, wantOrigin)
			}
		})
	}
}
