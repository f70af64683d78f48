package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/corsquickcheck/corscheck/server/browsertest"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/polltest"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// The Chromium conformance suite: every case is a server behaviour and a fetch(). Headless
// Chromium runs the fetch from a page on another loopback origin (verdict from the promise,
// reason from Network.loadingFailed → corsErrorStatus, console line from Log.entryAdded); the
// probe runs the same request; both must agree on the verdict, the reason, the failed parameter
// and the console line. The cases are in conformance_cases_test.go.

// reply is how a route answers: a status and header lines ("Name: value"), or raw bytes written
// on the connection (raw == "hangup" closes it without a word). Values may use {origin} (the
// request's Origin header), {page} (the page origin), {A} and {B} (the two target servers).
type reply struct {
	status int
	header []string
	raw    string
}

// route answers one URL: pre for preflights (OPTIONS with Access-Control-Request-Method), act for
// everything else.
type route struct{ pre, act reply }

type conformanceCase struct {
	name   string
	method string   // as passed to fetch(); "" is GET
	header []string // "Name: value", as passed to fetch()
	cred   string   // fetch() credentials; "" leaves the default (same-origin)
	route           // the answer at the case's URL (its target's /c/<name>)
	more   map[string]route
	// page is the page that calls fetch(): "" an http page on 127.0.0.1, "https" an https page
	// (https://page.test:PORT), "https443" an https page on the default port (https://page443.test).
	page string
	// target is where the fetch goes: "" server A (http on 127.0.0.1); "localhost" and
	// "sub.localhost" server A under localhost and cuic.localhost; "page" the page's own server
	// (server P); "dead" a closed port;
	// "tls" an https server with a certificate nobody trusts; "S" the https server of the test
	// PKI (https://good.test:PORT); "cert:NAME" the same server under NAME.test, whose
	// certificate is wrong in the way NAME says; "insecure" server A under a name that is not
	// potentially trustworthy (http://insecure.test:PORT); "tls-on-http" https:// to server A.
	target string
	// chromium says where Chromium and the Fetch standard differ on this case.
	chromium string
	// want is what Chromium decided when the case was written ("allowed", "blocked REASON",
	// "unreachable net::ERR_…"), checked besides the agreement, so that a broken browser and a
	// broken probe cannot agree by accident.
	want string
}

type conformanceEnv struct {
	page, a, b, tls *httptest.Server
	s               *http.Server // the test PKI's https server, by SNI name
	sPort           string
	names           []string // the .test names, all on 127.0.0.1
	dead            string
	pki             *testPKI
	cases           map[string]conformanceCase
}

func newConformanceEnv(t *testing.T, cases []conformanceCase) *conformanceEnv {
	t.Helper()
	env := &conformanceEnv{cases: map[string]conformanceCase{}, pki: newTestPKI(t)}
	for _, c := range cases {
		if _, dup := env.cases[c.name]; dup {
			t.Fatalf("duplicate case %q", c.name)
		}
		env.cases[c.name] = c
	}
	pageCases := env.handler("P")
	env.page = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/c/") {
			pageCases.ServeHTTP(w, r) // same-origin requests that redirect away
			return
		}
		fmt.Fprint(w, pageHTML)
	}))
	env.a = httptest.NewServer(env.handler("A"))
	env.b = httptest.NewServer(env.handler("B"))
	env.tls = httptest.NewTLSServer(env.handler("A"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env.dead = "http://" + l.Addr().String()
	l.Close()
	env.startS(t)
	t.Cleanup(func() {
		env.page.Close()
		env.a.Close()
		env.b.Close()
		env.tls.Close()
		env.s.Close()
	})
	return env
}

const pageHTML = "<!doctype html><title>conformance page</title>"

// certCases are the certificates of the "cert:NAME" targets, each wrong in one way.
func certCases(pki *testPKI, t testing.TB) map[string]tls.Certificate {
	now := time.Now()
	n := func(name string) []string { return []string{name + ".test"} }
	return map[string]tls.Certificate{
		"good":               pki.leaf(t, leafSpec{names: []string{"good.test", "page.test", "page443.test"}}),
		"expired":            pki.leaf(t, leafSpec{names: n("expired"), notBefore: now.Add(-72 * time.Hour), notAfter: now.Add(-24 * time.Hour)}),
		"not-yet-valid":      pki.leaf(t, leafSpec{names: n("not-yet-valid"), notBefore: now.Add(24 * time.Hour), notAfter: now.Add(72 * time.Hour)}),
		"wrong-name":         pki.leaf(t, leafSpec{names: []string{"other.test"}}),
		"cn-only":            pki.leaf(t, leafSpec{cn: "cn-only.test"}),
		"client-auth-only":   pki.leaf(t, leafSpec{names: n("client-auth-only"), eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}),
		"no-intermediate":    pki.leaf(t, leafSpec{names: n("no-intermediate"), noIntermediate: true}),
		"self-signed":        pki.leaf(t, leafSpec{names: n("self-signed"), selfSigned: true}),
		"tls10":              pki.leaf(t, leafSpec{names: n("tls10")}),
		"expired-wrong-name": pki.leaf(t, leafSpec{names: []string{"other.test"}, notBefore: now.Add(-72 * time.Hour), notAfter: now.Add(-24 * time.Hour)}),
		"self-signed-expired": pki.leaf(t, leafSpec{names: n("self-signed-expired"), selfSigned: true,
			notBefore: now.Add(-72 * time.Hour), notAfter: now.Add(-24 * time.Hour)}),
		"key-usage-encipherment": pki.leaf(t, leafSpec{names: n("key-usage-encipherment"), keyUsage: x509.KeyUsageKeyEncipherment}),
		// Found by an outside audit: where Chromium and Go's defaults part.
		"wildcard-registry":        pki.leaf(t, leafSpec{names: []string{"*.test"}}),
		"sha1":                     pki.leaf(t, leafSpec{names: n("sha1"), leaf: func(c *x509.Certificate) { c.SignatureAlgorithm = x509.ECDSAWithSHA1 }}),
		"name-constrained":         pki.leaf(t, leafSpec{names: n("name-constrained"), intermediate: func(c *x509.Certificate) { c.PermittedDNSDomains = []string{"example.com"} }}),
		"intermediate-not-ca":      pki.leaf(t, leafSpec{names: n("intermediate-not-ca"), intermediate: func(c *x509.Certificate) { c.IsCA = false }}),
		"intermediate-client-auth": pki.leaf(t, leafSpec{names: n("intermediate-client-auth"), intermediate: func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }}),
		"expired-intermediate": pki.leaf(t, leafSpec{names: n("expired-intermediate"), intermediate: func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = now.Add(-72*time.Hour), now.Add(-24*time.Hour)
		}}),
		"critical-extension": pki.leaf(t, leafSpec{names: n("critical-extension"), leaf: func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}}
		}}),
		"five-years": pki.leaf(t, leafSpec{names: n("five-years"), notAfter: now.Add(5 * 365 * 24 * time.Hour)}),
		"rsa1024":    pki.leaf(t, leafSpec{names: n("rsa1024"), rsaBits: 1024, keyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}),
		"rsa2048":    pki.leaf(t, leafSpec{names: n("rsa2048"), rsaBits: 2048, keyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}),
		"any-eku":    pki.leaf(t, leafSpec{names: n("any-eku"), eku: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}),
		"leaf-is-ca": pki.leaf(t, leafSpec{names: n("leaf-is-ca"), leaf: func(c *x509.Certificate) {
			c.IsCA, c.BasicConstraintsValid, c.KeyUsage = true, true, c.KeyUsage|x509.KeyUsageCertSign
		}}),
		"trailing-dot": pki.leaf(t, leafSpec{names: []string{"trailing-dot.test."}}),
	}
}

// startS starts the https server of the test PKI: one port, a certificate per SNI name, and for
// tls10.test TLS 1.0 only. It serves the https pages at / and the cases as server "S".
func (env *conformanceEnv) startS(t *testing.T) {
	certs := certCases(env.pki, t)
	env.names = []string{"page.test", "page443.test", "insecure.test", "other.test"}
	for name := range certs {
		env.names = append(env.names, name+".test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, env.sPort, _ = net.SplitHostPort(ln.Addr().String())
	cases := env.handler("S")
	env.s = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/" {
				fmt.Fprint(w, pageHTML)
				return
			}
			cases.ServeHTTP(w, r)
		}),
		ErrorLog: stdlog.New(io.Discard, "", 0), // failed handshakes are the point of several cases
		TLSConfig: &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			name, _ := strings.CutSuffix(hello.ServerName, ".test")
			cert, ok := certs[name]
			if !ok {
				cert = certs["good"]
			}
			c := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
			if name == "tls10" {
				c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS10
			}
			return c, nil
		}},
	}
	go env.s.ServeTLS(ln, "", "")
}

// origin is the origin of the page a case runs in.
func (env *conformanceEnv) origin(c conformanceCase) string {
	switch c.page {
	case "https":
		return "https://page.test:" + env.sPort
	case "https443":
		return "https://page443.test"
	}
	return env.page.URL
}

// pageURL is the page a case runs in.
func (env *conformanceEnv) pageURL(c conformanceCase) string { return env.origin(c) + "/" }

// base is where a case's target answers.
func (env *conformanceEnv) base(target string) string {
	switch {
	case target == "dead":
		return env.dead
	case target == "tls":
		return env.tls.URL
	case target == "S":
		return "https://good.test:" + env.sPort
	case strings.HasPrefix(target, "cert:"):
		return "https://" + strings.TrimPrefix(target, "cert:") + ".test:" + env.sPort
	case target == "insecure":
		return strings.Replace(env.a.URL, "127.0.0.1", "insecure.test", 1)
	case target == "tls-on-http":
		return strings.Replace(env.a.URL, "http://127.0.0.1", "https://insecure.test", 1)
	case target == "localhost":
		return strings.Replace(env.a.URL, "127.0.0.1", "localhost", 1)
	case target == "sub.localhost":
		return strings.Replace(env.a.URL, "127.0.0.1", "cuic.localhost", 1)
	case target == "page":
		return env.page.URL
	}
	return env.a.URL
}

// url is where a case's fetch goes; the query makes each run unique so no preflight cache or
// HTTP cache entry is shared between runs.
func (env *conformanceEnv) url(c conformanceCase, run string) string {
	return env.base(c.target) + "/c/" + c.name + "?run=" + run
}

// home is the server that answers a case's own route.
func (c conformanceCase) home() string {
	switch {
	case c.target == "S" || strings.HasPrefix(c.target, "cert:"):
		return "S"
	case c.target == "page":
		return "P"
	}
	return "A"
}

func (env *conformanceEnv) handler(server string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/c/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		name, sub, _ := strings.Cut(rest, "/")
		c, ok := env.cases[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		rt := c.route
		if sub != "" || server != c.home() {
			rt, ok = c.more[server+"/"+sub]
			if !ok {
				http.Error(w, "no route "+server+"/"+sub, http.StatusTeapot)
				return
			}
		}
		rp := rt.act
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			rp = rt.pre
		}
		env.write(w, r, rp)
	})
}

func (env *conformanceEnv) expand(s string, r *http.Request) string {
	return strings.NewReplacer("{origin}", r.Header.Get("Origin"), "{page}", env.page.URL,
		"{A}", env.a.URL, "{B}", env.b.URL, "{S}", env.base("S"), "{insecure}", env.base("insecure"),
		"{Ahost}", strings.TrimPrefix(env.a.URL, "http://"), "{Aport}", env.a.URL[strings.LastIndex(env.a.URL, ":")+1:], "{Bhost}", strings.TrimPrefix(env.b.URL, "http://"),
		"{expired}", env.base("cert:expired")).Replace(s)
}

func (env *conformanceEnv) write(w http.ResponseWriter, r *http.Request, rp reply) {
	if rp.raw != "" {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		if rp.raw != "hangup" {
			buf.WriteString(env.expand(rp.raw, r))
			buf.Flush()
		}
		return
	}
	for _, h := range rp.header {
		name, value, _ := strings.Cut(h, ":")
		// Direct map access keeps the name's case and allows repeated lines.
		w.Header()[name] = append(w.Header()[name], env.expand(strings.TrimPrefix(value, " "), r))
	}
	status := rp.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	fmt.Fprint(w, "body")
}

// browserResult is what Chromium decided.
type browserResult struct {
	verdict cors.Verdict
	reason  cors.Reason
	param   string
	console string
	errText string
	blocked string // Network.loadingFailed's blockedReason (mixed-content, …)
}

// String is the form of conformanceCase.want.
func (r browserResult) String() string {
	switch r.verdict {
	case cors.Blocked:
		return "blocked " + string(r.reason)
	case cors.Unreachable:
		s := "unreachable"
		if r.errText != "" {
			s += " " + r.errText
		}
		if r.blocked != "" {
			s += " (" + r.blocked + ")"
		}
		return s
	}
	return string(r.verdict)
}

// chromiumRecorder collects the events that explain failed requests, by the URL the request
// started with.
type chromiumRecorder struct {
	mu       sync.Mutex
	firstURL map[network.RequestID]string
	failed   map[string]*network.EventLoadingFailed
	console  map[string]string
	mixed    []string // "Mixed Content: …" console lines, in order
}

func (rec *chromiumRecorder) listen(ev any) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if _, ok := rec.firstURL[e.RequestID]; !ok {
			rec.firstURL[e.RequestID] = e.Request.URL
		}
	case *network.EventLoadingFailed:
		if u, ok := rec.firstURL[e.RequestID]; ok {
			rec.failed[u] = e
		}
	case *log.EventEntryAdded:
		switch {
		case e.Entry == nil:
		case strings.Contains(e.Entry.Text, "blocked by CORS policy"):
			rec.console[consoleURL(e.Entry.Text)] = e.Entry.Text
		case strings.HasPrefix(e.Entry.Text, "Mixed Content:"):
			rec.mixed = append(rec.mixed, e.Entry.Text)
		}
	}
}

// consoleURL finds the URL fetch() was called with in a console line.
func consoleURL(line string) string {
	if _, rest, ok := strings.Cut(line, "(redirected from '"); ok {
		u, _, _ := strings.Cut(rest, "'")
		return u
	}
	_, rest, _ := strings.Cut(line, "Access to fetch at '")
	u, _, _ := strings.Cut(rest, "'")
	return u
}

func (rec *chromiumRecorder) waitFailure(u string, wantConsole bool) (f *network.EventLoadingFailed, c string) {
	polltest.Until(3*time.Second, func() bool {
		rec.mu.Lock()
		f, c = rec.failed[u], rec.console[u]
		rec.mu.Unlock()
		return f != nil && (!wantConsole || c != "")
	})
	return f, c
}

// waitMixed returns the first Mixed Content line logged after the first n, or "" when none comes.
func (rec *chromiumRecorder) waitMixed(n int) (line string) {
	polltest.Until(time.Second, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.mixed) > n {
			line = rec.mixed[n]
		}
		return line != ""
	})
	return line
}

// fetchScript is the page's fetch() of a case at u, answering "ok STATUS" or "error …".
func fetchScript(c conformanceCase, u string) string {
	headers := [][2]string{}
	for _, h := range c.header {
		n, v, _ := strings.Cut(h, ":")
		headers = append(headers, [2]string{n, strings.TrimPrefix(v, " ")})
	}
	init := map[string]any{"mode": "cors", "cache": "no-store", "headers": headers}
	if c.method != "" {
		init["method"] = c.method
	}
	if c.cred != "" {
		init["credentials"] = c.cred
	}
	initJSON, _ := json.Marshal(init)
	return fmt.Sprintf(`fetch(%q, %s).then(r => "ok " + r.status, e => "error " + e)`, u, initJSON)
}

func runInChromium(ctx context.Context, rec *chromiumRecorder, c conformanceCase, u string) (browserResult, error) {
	js := fetchScript(c, u)
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	rec.mu.Lock()
	mixedBefore := len(rec.mixed)
	rec.mu.Unlock()
	res, err := chromedp.Run(tctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return browserResult{}, err
	}
	if strings.HasPrefix(res, "ok ") {
		return browserResult{verdict: cors.Allowed}, nil
	}
	f, console := rec.waitFailure(u, false)
	if f == nil {
		return browserResult{}, fmt.Errorf("fetch said %q but no Network.loadingFailed arrived", res)
	}
	if f.CorsErrorStatus == nil {
		r := browserResult{verdict: cors.Unreachable, errText: f.ErrorText, blocked: string(f.BlockedReason)}
		if r.blocked == "mixed-content" || r.errText == "net::ERR_ABORTED" {
			r.console = rec.waitMixed(mixedBefore)
		}
		return r, nil
	}
	if console == "" {
		_, console = rec.waitFailure(u, true)
	}
	return browserResult{verdict: cors.Blocked, reason: cors.Reason(f.CorsErrorStatus.CorsError.String()),
		param: f.CorsErrorStatus.FailedParameter, console: console, errText: f.ErrorText}, nil
}

// probeRequest builds the request the probe sends for a case, as the CLI does.
func probeRequest(t *testing.T, c conformanceCase, u, origin string) cors.Request {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	m := c.method
	if m == "" {
		m = "GET"
	}
	m, err = cors.NormalizeMethod(m)
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := cors.CombineHeaders(headerList(t, c))
	cred := cors.SameOrigin
	if c.cred != "" {
		cred = cors.Credentials(c.cred)
	}
	return cors.Request{URL: pu, Origin: origin, Method: m, Header: hs, Credentials: cred}
}

// prober is the probe the suites compare with the browsers: it trusts the test PKI and sends the
// .test names to loopback, as the browsers do.
func (env *conformanceEnv) prober() *Prober {
	var resolve []Resolve
	for _, n := range env.names {
		resolve = append(resolve, Resolve{Host: n, Port: "*", Addr: "127.0.0.1"})
	}
	return New(Options{Timeout: 5 * time.Second, NoExtraChecks: true, RootCAs: env.pki.pool, Resolve: resolve})
}

// headerList is a case's headers as the page sets them, before fetch() combines them.
func headerList(t *testing.T, c conformanceCase) []cors.Header {
	t.Helper()
	var hs []cors.Header
	for _, h := range c.header {
		n, v, _ := strings.Cut(h, ":")
		v, err := cors.ValidateHeader(n, v)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, cors.Header{Name: n, Value: v})
	}
	return hs
}

func TestChromiumConformance(t *testing.T) {
	cases := conformanceCases()
	if len(cases) < 200 {
		t.Fatalf("the suite must cover at least 200 server behaviours, has %d", len(cases))
	}
	env := newConformanceEnv(t, cases)
	ctx := browsertest.New(t, browsertest.TrustCA(env.pki.rootPEM), browsertest.LabNames("*.test"),
		browsertest.MapAddress("page443.test:443", "127.0.0.1:"+env.sPort))
	rec := &chromiumRecorder{firstURL: map[network.RequestID]string{}, failed: map[string]*network.EventLoadingFailed{}, console: map[string]string{}}
	if err := chromedp.Listen(ctx, rec.listen); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	p := env.prober()
	defer p.Close()
	// The cases run page by page, in the order written.
	slices.SortStableFunc(cases, func(a, b conformanceCase) int { return strings.Compare(a.page, b.page) })
	agree, page := 0, "none"
	for _, c := range cases {
		if c.page != page {
			page = c.page
			if err := chromedp.Do(ctx, chromedp.Navigate(env.pageURL(c))); err != nil {
				t.Fatalf("open %s: %v", env.pageURL(c), err)
			}
		}
		t.Run(c.name, func(t *testing.T) {
			u := env.url(c, "chromium")
			got, err := runInChromium(ctx, rec, c, u)
			if err != nil {
				t.Fatalf("chromium: %v", err)
			}
			if c.want != "" && got.String() != c.want {
				t.Errorf("Chromium no longer decides as when the case was written:\n got:  %s\n want: %s", got, c.want)
			}
			pu := env.url(c, "probe")
			rep := p.Check(context.Background(), probeRequest(t, c, pu, env.origin(c)), targets.Custom)
			wantConsole := strings.ReplaceAll(got.console, "run=chromium", "run=probe")
			netErr := ""
			if rep.Network != nil {
				netErr = rep.Network.NetError
			}
			if rep.Verdict != got.verdict || rep.CorsError != got.reason || rep.FailedParameter != got.param ||
				(got.console != "" && rep.Console != wantConsole) || (got.verdict == cors.Unreachable && netErr != got.errText) {
				t.Errorf("probe and Chromium disagree%s\n chromium: %s %q\n   console: %s\n probe:    %s %s %q %s\n   console: %s\n%s",
					chromiumNote(c), got, got.param, wantConsole,
					rep.Verdict, rep.CorsError, rep.FailedParameter, netErr, rep.Console, rep.Text())
				return
			}
			t.Logf("agree: %s %q", got, got.param)
			agree++
		})
	}
	t.Logf("probe agrees with Chromium on %d of %d server behaviours", agree, len(cases))
}

func chromiumNote(c conformanceCase) string {
	if c.chromium == "" {
		return ""
	}
	return " (known Chromium rule: " + c.chromium + ")"
}
