// Package probe sends what Chromium would send for a cross-origin fetch(), follows redirects as
// the browser does, and judges the answers with the cors package. It tells a request blocked by
// CORS from one that never got an HTTP answer (DNS, refused, timeout, TLS, reset), keeps every
// status and header it saw, and adds the findings that do not block but matter.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/server/words"
)

// Options configure a Prober.
type Options struct {
	Timeout  time.Duration // for the whole check; default 10 s
	RootCAs  *x509.CertPool
	Insecure bool // skip certificate verification (the browser never does; say so in reports)
	// DialContext, when set, replaces the dialer (the service uses it to refuse forbidden
	// addresses).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// NoExtraChecks skips the foreign-origin request that detects a server reflecting any
	// origin.
	NoExtraChecks bool
	UserAgent     string
	// Resolve sends some host names to other addresses (curl's --resolve). The guarding dialer
	// of the service never gets it.
	Resolve []Resolve
}

// Limits on what is read from a server.
const (
	maxBodyBytes = 64 << 10
	// ForeignOrigin is sent to see whether a server allows any origin at all.
	ForeignOrigin = "https://corscheck-foreign-origin.example"
)

// DefaultUserAgent looks like Chromium's, and says who is asking.
const DefaultUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 corscheck/1"

// Prober runs checks. It is safe for concurrent use and reuses connections.
type Prober struct {
	opt Options
	// transport sends each exchange as it is: redirects are followed by cors.Fetch, as the
	// browser follows them, never by net/http.
	transport *http.Transport
}

// New returns a Prober with its HTTP client set up once.
func New(opt Options) *Prober {
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.UserAgent == "" {
		opt.UserAgent = DefaultUserAgent
	}
	dialer := &net.Dialer{Timeout: opt.Timeout, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, loopbackName(resolved(opt.Resolve, addr)))
	}
	if opt.DialContext != nil {
		// A guarding dialer gets the host name as written, so it can judge the name; it maps
		// localhost names itself (see the egress package).
		dial = opt.DialContext
	}
	// The certificate is checked as Chromium checks it (certificate.go), not by Go's defaults.
	tlsConfig := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	tr := &http.Transport{
		Proxy: nil, // the browser's proxy is unknown; go direct, as a LAN desktop does
		// HTTP/1 connections record each response head, which the probe reads as Chromium does
		// (wire.go); an HTTP/2 connection stays a *tls.Conn, so net/http speaks HTTP/2 on it.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &capturingConn{Conn: c}, nil
		},
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			cfg := tlsConfig.Clone()
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
			if !opt.Insecure {
				cfg.VerifyConnection = verifyConnection(cfg.ServerName, opt.RootCAs)
			}
			tc := tls.Client(c, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				c.Close()
				return nil, err
			}
			if tc.ConnectionState().NegotiatedProtocol == "h2" {
				return tc, nil
			}
			return &capturingConn{Conn: tc}, nil
		},
		MaxResponseHeaderBytes: 4 * maxHeadBytes, // Chromium's limit applies when the head is read again
		DisableCompression:     true,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	return &Prober{opt: opt, transport: tr}
}

// loopbackName maps localhost and names under .localhost to 127.0.0.1, as Chromium does without
// asking DNS (RFC 6761), so that the probe reaches what the browser reaches.
func loopbackName(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// LoadCAFile reads PEM certificates into a pool for Options.RootCAs, with the system roots.
func LoadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// Close releases idle connections.
func (p *Prober) Close() { p.transport.CloseIdleConnections() }

// Check runs req as Chromium would and returns the diagnosis; kind selects the fix advice.
func (p *Prober) Check(ctx context.Context, req cors.Request, kind targets.Kind) *Report {
	ctx, cancel := context.WithTimeout(ctx, p.opt.Timeout)
	defer cancel()
	rep := newReport(req, kind, p.opt.Insecure)
	// The question with a foreign origin, which finds servers that allow any origin, goes out at
	// the same time as the check's own first request, so that it costs no round trip of its own.
	var extras []cors.Warning
	var wg sync.WaitGroup
	if !p.opt.NoExtraChecks && req.Origin != cors.NullOrigin && !cors.IsSameOrigin(req.URL, req.Origin) && !cors.MixedContent(req.Origin, req.URL) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			extras = p.extraChecks(ctx, req)
		}()
	}
	start := time.Now()
	out := cors.Fetch(req, func(o cors.Outgoing) (*cors.Response, error) {
		ex := Exchange{Kind: o.Kind, Method: o.Method, URL: o.URL.String(), RequestHeaders: p.wireHeader(o)}
		t0 := time.Now()
		resp, err := p.send(ctx, o, ex.RequestHeaders)
		ex.Millis = msSince(t0)
		if err != nil {
			ex.Error = err.Error()
		} else {
			ex.Status = resp.Status
			ex.Headers = resp.Header
		}
		rep.Steps = append(rep.Steps, ex)
		return resp, err
	})
	rep.Millis = msSince(start)
	wg.Wait()
	fill(rep, req, out, extras, p.opt.Insecure)
	return rep
}

// Replay judges a request whose exchanges were recorded, not sent (a HAR file): answer returns
// what was recorded for each request the browser sends, or the error it met. The report is what
// Check would give had the servers answered so.
func Replay(req cors.Request, kind targets.Kind, answer cors.RoundTrip) *Report {
	rep := newReport(req, kind, false)
	out := cors.Fetch(req, func(o cors.Outgoing) (*cors.Response, error) {
		ex := Exchange{Kind: o.Kind, Method: o.Method, URL: o.URL.String(), RequestHeaders: o.Header}
		resp, err := answer(o)
		if err != nil {
			ex.Error = err.Error()
		} else {
			ex.Status, ex.Headers = resp.Status, resp.Header
		}
		rep.Steps = append(rep.Steps, ex)
		return resp, err
	})
	fill(rep, req, out, nil, false)
	return rep
}

func newReport(req cors.Request, kind targets.Kind, insecure bool) *Report {
	rep := &Report{
		URL: req.URL.String(), Origin: req.Origin, Method: req.Method, Credentials: req.Credentials,
		Kind: kind, Node: req.URL.Hostname(), Insecure: insecure,
		Steps: []Exchange{}, Warnings: []cors.Warning{}, Fixes: []fix.Fix{},
	}
	if req.Browser == cors.Firefox {
		rep.Browser = cors.Firefox
	}
	return rep
}

// fill turns the cors outcome into the report: verdict, reason, console line, network error,
// warnings and fixes. insecure says certificates were not checked.
func fill(rep *Report, req cors.Request, out cors.Outcome, extras []cors.Warning, insecure bool) {
	rep.Verdict = out.Verdict()
	rep.FinalURL = out.FinalURL
	for i := range rep.Steps {
		s := &rep.Steps[i]
		if s.Kind == cors.PreflightStep {
			rep.Preflight = s
		} else {
			rep.Actual = s
		}
	}
	var ws []cors.Warning
	for _, s := range out.Steps {
		if s.Response != nil {
			ws = append(ws, cors.ResponseWarnings(s.Response, req.Origin, s.Request.URL, s.Request.Kind == cors.PreflightStep)...)
		}
	}
	ws = append(ws, out.Warnings...)
	ws = append(ws, extras...)
	if insecure {
		ws = append(ws, cors.NewWarning(cors.WarnNotVerified, ""))
	}
	if ws = cors.Dedupe(ws); ws != nil {
		rep.Warnings = ws
	}
	problem := fix.Problem{Kind: rep.Kind, URL: req.URL, Origin: req.Origin}
	switch {
	case out.Failure != nil:
		rep.CorsError = out.Failure.Reason
		rep.FailedParameter = out.Failure.FailedParameter
		rep.Console = cors.ConsoleLine(*out.Failure, out.InitialURL, out.FinalURL, req.Origin)
		if req.Browser == cors.Firefox {
			rep.Console = cors.FirefoxConsoleLine(*out.Failure, out.FinalURL)
		}
		rep.Explanation = cors.Explain(*out.Failure, words.English)
		problem.Reason, problem.FailedParameter = out.Failure.ChromiumName(), out.Failure.FailedParameter
		if u, err := url.Parse(out.FinalURL); err == nil {
			problem.URL = u
			if last := out.Steps[len(out.Steps)-1]; last.Response != nil && !out.Failure.Reason.OnPreflight() {
				if loc, _ := last.Response.Location(u); loc != nil {
					problem.RedirectTo = loc.String()
				}
			}
		}
	case out.NetErr != nil:
		failed := req.URL
		if last := len(out.Steps) - 1; last >= 0 {
			failed = out.Steps[last].Request.URL
		}
		problem.URL = failed // the fix is for the host that failed, after redirects too
		ne := classify(out.NetErr)
		if last := len(out.Steps) - 1; last >= 0 && out.Steps[last].Request.Kind == cors.PreflightStep {
			ne.OnPreflight = true
		}
		rep.Network = &ne
		rep.Explanation = ne.Explain(words.English)
		problem.Network, problem.NetworkDetail = string(ne.Class), ne.Message
		if req.Browser == cors.Firefox {
			// Firefox names every request that got no answer the same way in its console.
			rep.Console = cors.FirefoxConsoleLine(cors.Failure{Reason: cors.CORSDidNotSucceed}, failed.String())
			if se := new(cors.FirefoxSecurityError); errors.As(out.NetErr, &se) {
				rep.Console = se.ConsoleLine()
			}
		}
		if ne.Class == MixedContent {
			rep.Console = cors.MixedContentConsoleLine(req.Origin, out.FinalURL)
			if req.Browser == cors.Firefox {
				rep.Console = cors.FirefoxMixedContentConsoleLine(out.FinalURL)
			}
			if u, err := url.Parse(out.FinalURL); err == nil {
				problem.URL = u
			}
			rep.Warnings = cors.Dedupe(append([]cors.Warning{cors.NewWarning(cors.WarnMixedContent, "")}, rep.Warnings...))
		}
	}
	rep.problem = problem
	if fs := fix.For(problem); fs != nil {
		rep.Fixes = fs
	}
}

// extraChecks asks the server the same question from a foreign origin, to find servers that
// allow any origin. It costs one request, sent alongside the check's own requests.
func (p *Prober) extraChecks(ctx context.Context, req cors.Request) []cors.Warning {
	o := cors.Outgoing{Kind: cors.PreflightStep, Method: "OPTIONS", URL: req.URL,
		Header: cors.PreflightHeader(req.Method, req.Header, ForeignOrigin)}
	if (req.Method == "GET" || req.Method == "HEAD") && !cors.NeedsPreflight(req.Method, req.Header) {
		o = cors.Outgoing{Kind: cors.ActualStep, Method: req.Method, URL: req.URL,
			Header: []cors.Header{{Name: "Origin", Value: ForeignOrigin}, {Name: "Sec-Fetch-Mode", Value: "cors"}}}
	}
	resp, err := p.send(ctx, o, p.wireHeader(o))
	if err != nil || !cors.Reflects(resp, ForeignOrigin) {
		return nil
	}
	return []cors.Warning{cors.NewWarning(cors.WarnOriginReflected, "Origin: "+ForeignOrigin+" was allowed")}
}

// wireHeader is every header the request carries: the browser's own and the page's, plus the
// ones Chromium always adds.
func (p *Prober) wireHeader(o cors.Outgoing) []cors.Header {
	out := append(make([]cors.Header, 0, len(o.Header)+3), o.Header...)
	if !slices.ContainsFunc(o.Header, func(h cors.Header) bool { return strings.EqualFold(h.Name, "Accept") }) {
		out = append(out, cors.Header{Name: "Accept", Value: "*/*"})
	}
	// Firefox lets a page set its own User-Agent.
	if !slices.ContainsFunc(o.Header, func(h cors.Header) bool { return strings.EqualFold(h.Name, "User-Agent") }) {
		out = append(out, cors.Header{Name: "User-Agent", Value: p.opt.UserAgent})
	}
	return append(out, cors.Header{Name: "Sec-Fetch-Dest", Value: "empty"})
}

// send performs one exchange with the wire headers, without following redirects and without
// cookies. On HTTP/1 the response head is read again as Chromium reads it.
func (p *Prober) send(ctx context.Context, o cors.Outgoing, wire []cors.Header) (*cors.Response, error) {
	var (
		mu   sync.Mutex
		conn *capturingConn
	)
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if c, ok := info.Conn.(*capturingConn); ok {
			c.mark()
			mu.Lock()
			conn = c
			mu.Unlock()
		}
	}}
	hr, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), o.Method, o.URL.String(), nil)
	if err != nil {
		return nil, err
	}
	// Names go out as the page wrote them (locale, not Locale), as Chromium sends them over
	// HTTP/1.1; fetch() has already joined repeated names.
	hr.Header = make(http.Header, len(wire))
	for _, h := range wire {
		hr.Header[h.Name] = append(hr.Header[h.Name], h.Value)
	}
	if o.Method == "POST" || o.Method == "PUT" || o.Method == "PATCH" {
		hr.Body = http.NoBody
		hr.ContentLength = 0
	}
	resp, err := p.transport.RoundTrip(hr)
	var chromium *cors.Response
	mu.Lock()
	if conn != nil {
		chromium, err = conn.chromiumView(resp, err, o.URL.Port() == "" || o.URL.Port() == defaultPort(o.URL.Scheme))
	}
	mu.Unlock()
	if resp != nil {
		defer resp.Body.Close()
		// Read a little of the body so the connection can be reused. The verdict never needs
		// the body, and a body cut short does not change what the browser decides.
		_, _ = io.CopyN(io.Discard, resp.Body, maxBodyBytes)
		if chromium == nil && err == nil {
			chromium = &cors.Response{Status: resp.StatusCode, Header: resp.Header}
		}
	}
	if chromium != nil {
		return chromium, nil
	}
	return nil, err
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

func msSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}

// Report is the diagnosis of one check; its JSON form is the `corscheck probe --json` contract.
type Report struct {
	URL         string           `json:"url"`
	Origin      string           `json:"origin"`
	Method      string           `json:"method"`
	Credentials cors.Credentials `json:"credentials"`
	Kind        targets.Kind     `json:"kind"`
	Node        string           `json:"node"`
	// Browser is set when the diagnosis answers in Firefox's terms (--browser firefox); it is
	// left out for Chromium's.
	Browser         cors.Browser   `json:"browser,omitempty"`
	Verdict         cors.Verdict   `json:"verdict"`
	CorsError       cors.Reason    `json:"corsError"`
	FailedParameter string         `json:"failedParameter"`
	Console         string         `json:"console"`
	Explanation     string         `json:"explanation,omitempty"`
	FinalURL        string         `json:"finalUrl,omitempty"`
	Network         *NetworkError  `json:"network,omitempty"`
	Preflight       *Exchange      `json:"preflight"` // the last preflight sent; null when none was
	Actual          *Exchange      `json:"actual"`    // the last request sent; null when none was
	Steps           []Exchange     `json:"steps"`
	Warnings        []cors.Warning `json:"warnings"`
	Fixes           []fix.Fix      `json:"fixes"`
	Millis          float64        `json:"ms"`
	Insecure        bool           `json:"insecure,omitempty"`
	// Set by the service, which diagnoses for browsers: the request headers whose values it
	// replaced with placeholders, and what it left out to keep the report small.
	Placeholders []string `json:"placeholders,omitempty"`
	Cut          []string `json:"cut,omitempty"`
	// Lang is the language of the explanation, the warnings and the fixes (see In); English
	// when empty.
	Lang words.Lang `json:"lang,omitempty"`

	problem fix.Problem // what the fixes were made from, to tell them again in another language
}

// In returns a copy of the report told in l: the explanation, the warnings and the fixes (and
// Text). The verdict, the reason names, the console line and the commands do not change. A
// report read back from JSON keeps its fixes as they are.
func (r *Report) In(l words.Lang) *Report {
	c := *r
	c.Lang = l
	switch {
	case c.Network != nil:
		c.Explanation = c.Network.Explain(l)
	case c.CorsError != "":
		c.Explanation = cors.Explain(cors.Failure{Reason: c.CorsError, FailedParameter: c.FailedParameter}, l)
	case c.Verdict == cors.Blocked:
		c.Explanation = words.Say(l, "reason.unnamed", nil)
	}
	c.Warnings = make([]cors.Warning, len(r.Warnings))
	for i, w := range r.Warnings {
		c.Warnings[i] = w.In(l)
	}
	if r.problem.Kind != "" || r.problem.URL != nil {
		p := r.problem
		p.Lang = l
		if fs := fix.For(p); fs != nil {
			c.Fixes = fs
		}
	}
	return &c
}

// Recorded returns the report with the verdict the browser recorded, for a replay that could
// not finish because the recording lacks an answer it needs (a HAR whose preflight came from the
// browser's cache). The reason is not named: blocked by CORS for a reason the recording does not
// hold, or unreachable with no answer (class NoAnswer, no browser error); the fix says how to
// find it out, and stays that fix when the report is told in another language.
func (r *Report) Recorded(v cors.Verdict) *Report {
	c := *r
	c.Verdict, c.CorsError, c.FailedParameter, c.Console, c.Network = v, "", "", "", nil
	p := fix.Problem{Kind: r.Kind, URL: r.problem.URL, Origin: r.Origin}
	if p.URL == nil {
		p.URL, _ = url.Parse(r.URL)
	}
	switch v {
	case cors.Blocked:
		p.Unnamed = true
	case cors.Unreachable:
		c.Network = &NetworkError{Class: NoAnswer, Message: "no answer was recorded"}
		p.Network = string(NoAnswer)
	}
	c.Explanation = ""
	c.SetProblem(p)
	l := c.Lang
	if l == "" {
		l = words.English
	}
	told := c.In(l)
	told.Lang = r.Lang
	return told
}

// SetProblem sets the fixes of a report made other than by a probe or a replay (explain's
// console lines) from the problem, and keeps the problem so that In tells them in another
// language.
func (r *Report) SetProblem(p fix.Problem) {
	r.problem = p
	if r.Fixes = fix.For(p); r.Fixes == nil {
		r.Fixes = []fix.Fix{}
	}
}

// Exchange is one request sent and what came back.
type Exchange struct {
	Kind           cors.StepKind `json:"kind"`
	Method         string        `json:"method"`
	URL            string        `json:"url"`
	RequestHeaders []cors.Header `json:"requestHeaders"`
	Status         int           `json:"status,omitempty"`
	Headers        http.Header   `json:"headers,omitempty"`
	Error          string        `json:"error,omitempty"`
	Millis         float64       `json:"ms"`
}

// Exit codes of `corscheck probe`.
const (
	ExitAllowed     = 0
	ExitBlocked     = 1
	ExitUsage       = 2
	ExitUnreachable = 3
)

// ExitCode maps the verdict to the CLI's exit code.
func (r *Report) ExitCode() int {
	switch r.Verdict {
	case cors.Blocked:
		return ExitBlocked
	case cors.Unreachable:
		return ExitUnreachable
	}
	return ExitAllowed
}

// Text renders the report for a terminal: the verdict first, then why, then the fix.
func (r *Report) Text() string {
	var b strings.Builder
	l := r.Lang
	if l == "" {
		l = words.English
	}
	line := func(key string, vars map[string]string) { b.WriteString(words.Say(l, key, vars) + "\n") }
	switch r.Verdict {
	case cors.Allowed:
		line("label.allowed", map[string]string{"node": r.Node, "method": r.Method, "url": r.URL, "origin": r.Origin})
	case cors.Blocked:
		line("label.blocked", map[string]string{"node": r.Node, "reason": string(r.CorsError), "explanation": r.Explanation})
	case cors.Unreachable:
		class := string(r.Network.Class)
		if r.Network.NetError != "" {
			class += " (" + r.Network.NetError + ")"
		}
		line("label.unreachable", map[string]string{"node": r.Node, "class": class, "explanation": r.Explanation})
	}
	for _, s := range r.Steps {
		if s.Error != "" {
			fmt.Fprintf(&b, "  %-9s %s %s -> %s\n", s.Kind, s.Method, s.URL, s.Error)
			continue
		}
		fmt.Fprintf(&b, "  %-9s %s %s -> %d%s\n", s.Kind, s.Method, s.URL, s.Status, CORSSummary(s.Headers))
	}
	if r.Console != "" {
		line("label.console", map[string]string{"line": r.Console})
	}
	for _, w := range r.Warnings {
		line("label.warning", map[string]string{"message": w.Message})
	}
	b.WriteString(fix.Text(r.Fixes, l))
	return b.String()
}

// CORSSummary lists the CORS headers of a response on one line.
func CORSSummary(h http.Header) string {
	var parts []string
	for _, n := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Location"} {
		for _, v := range h.Values(n) {
			parts = append(parts, strings.ToLower(n)+": "+v)
		}
	}
	if len(parts) == 0 {
		return ", no CORS headers"
	}
	return ", " + strings.Join(parts, "; ")
}
