package probe

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/browsertest"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/polltest"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// The Firefox conformance suite: the Chromium suite's cases, fetched by real Firefox ESR (driven
// over WebDriver BiDi) and probed with --browser firefox. Firefox names its reason only in the
// console, so the browser's verdict is the promise and its reason is the console line, read back
// with cors.ParseFirefoxConsole; the probe must agree on the verdict, the reason, the failed
// parameter and the console line.

// firefoxSkips are cases the Firefox suite does not compare, and why.
var firefoxSkips = map[string]string{
	// The probe checks certificates as Chromium does; Firefox (NSS) judges these otherwise.
	"cert-key-usage-encipherment": "Firefox accepts a certificate whose key usage lacks digitalSignature; Chromium and the probe refuse it",
	"cert-any-eku":                "Firefox refuses a leaf certificate with the anyExtendedKeyUsage purpose; Chromium and the probe accept it",
	"cert-leaf-is-ca":             "Firefox refuses a CA certificate as the server's; Chromium and the probe accept it",
	"cert-trailing-dot":           "Firefox refuses a host name with a trailing dot against this certificate; Chromium and the probe accept it",
	// The probe resolves a Location as Chromium's URL parser does.
	"f-location-tab":          "Firefox keeps a tab inside a Location (as %09) where Chromium's URL parser removes it",
	"f-location-pipe-blocked": "Firefox prints the redirected URL with | percent-encoded",
}

// firefoxRawHead tells cases whose server writes a response head byte for byte. The probe reads
// heads as Chromium does; Firefox reads many of them differently (observed in ESR 153: it drops a
// header with a space or tab before the colon, keeps a lone CR inside a value, takes a 101 as the
// final answer, accepts heads over 256 KB and two Content-Disposition lines, refuses a
// four-digit status, and counts Access-Control-Allow-Origin lines by their spelling), so they are
// not compared for Firefox.
func firefoxRawHead(c conformanceCase) bool {
	raw := func(r route) bool {
		return (r.pre.raw != "" && r.pre.raw != "hangup") || (r.act.raw != "" && r.act.raw != "hangup")
	}
	if raw(c.route) {
		return true
	}
	for _, r := range c.more {
		if raw(r) {
			return true
		}
	}
	return false
}

// firefoxDiffers is what Firefox decided where it does not simply use its own name for
// Chromium's verdict (see firefoxWant): the places where the two browsers disagree. Observed in
// Firefox ESR 153.
var firefoxDiffers = map[string]string{
	// A single Access-Control-Allow-Origin line with a list is a mismatch, not "multiple".
	"simple-acao-list":  "blocked CORSAllowOriginNotMatchingOrigin",
	"simple-acao-words": "blocked CORSAllowOriginNotMatchingOrigin",
	// Firefox safelists no client hints and lets pages set User-Agent: all need a preflight.
	"hdr-dpr":           "blocked CORSMissingAllowOrigin",
	"hdr-save-data":     "blocked CORSMissingAllowOrigin",
	"hdr-width":         "blocked CORSMissingAllowOrigin",
	"header-user-agent": "blocked CORSMissingAllowHeaderFromPreflight",
	// A redirected preflight is checked for CORS headers before the redirect is refused.
	"pre-307-no-cors":             "blocked CORSMissingAllowOrigin",
	"pre-308-no-cors":             "blocked CORSMissingAllowOrigin",
	"pre-302-credentials-no-acac": "blocked CORSMissingAllowCredentials",
	// Redirects to other schemes: some fail the request, some are CORSRequestNotHttp.
	"redir-javascript":       "unreachable",
	"redir-ws":               "unreachable",
	"redir-wss":              "unreachable",
	"redir-about-blank":      "blocked CORSRequestNotHttp",
	"redir-filesystem":       "blocked CORSRequestNotHttp",
	"redir-chrome-extension": "blocked CORSRequestNotHttp",
	"redir-chrome":           "unreachable",
	// Chromium safelists client hints and long Range numbers otherwise than Firefox.
	"r-intervention":          "blocked CORSMissingAllowOrigin",
	"r-rtt":                   "blocked CORSMissingAllowOrigin",
	"r-downlink":              "blocked CORSMissingAllowOrigin",
	"r-ect":                   "blocked CORSMissingAllowOrigin",
	"r-device-memory":         "blocked CORSMissingAllowOrigin",
	"r-viewport-width":        "blocked CORSMissingAllowOrigin",
	"r-total2-1024":           "blocked CORSMissingAllowOrigin",
	"r-ct-comma-params":       "blocked CORSMissingAllowOrigin",
	"r-range-int64-max":       "allowed",
	"r-rangec-start-max":      "allowed",
	"r-rangec-start-overflow": "allowed",
	// A list in one Access-Control-Allow-Origin line is a mismatch.
	"o-origin-comma-nospace":  "blocked CORSAllowOriginNotMatchingOrigin",
	"o-origin-trailing-comma": "blocked CORSAllowOriginNotMatchingOrigin",
	// A redirected preflight: the CORS check first; a redirect to data: fails the request.
	"o-pre-302-location-ftp":  "blocked CORSMissingAllowOrigin",
	"o-pre-302-location-data": "unreachable",
	"f-302-post-json-to-get":  "blocked CORSMissingAllowOrigin",
	"f-303-put-json-to-get":   "blocked CORSMissingAllowOrigin",
	// A redirect to a URL with credentials, or with an empty Location, fails the request.
	"redir-userinfo":             "unreachable",
	"redir-empty-password":       "unreachable",
	"redir-password-only":        "unreachable",
	"redir-userinfo-same-server": "unreachable",
	"redir-location-empty":       "unreachable",
	// Once a request needed a preflight, every redirect hop is preflighted again.
	"redir-drops-authorization": "blocked CORSMissingAllowOrigin",
	"redir-303-put-becomes-get": "blocked CORSMissingAllowOrigin",
	// After a cross-origin redirect, no preflight passes with Access-Control-Allow-Origin: null.
	"redir-302-put-stays-put":       "blocked CORSAllowOriginNotMatchingOrigin",
	"redir-308-put-preflight-fails": "blocked CORSAllowOriginNotMatchingOrigin",
	"taint-preflight-null":          "blocked CORSAllowOriginNotMatchingOrigin",
}

// firefoxWant is what Firefox is expected to decide: firefoxDiffers where the browsers differ,
// otherwise Chromium's verdict in Firefox's words.
func firefoxWant(c conformanceCase) string {
	if w, ok := firefoxDiffers[c.name]; ok {
		return w
	}
	verdict, reason, _ := strings.Cut(c.want, " ")
	switch verdict {
	case "blocked":
		return "blocked " + string(firefoxKeyOf(cors.Reason(reason)))
	case "unreachable":
		return "unreachable"
	}
	return c.want
}

// firefoxKeyOf is the Firefox reason for a Chromium reason.
func firefoxKeyOf(r cors.Reason) cors.Reason {
	if r.Base() == cors.InvalidAllowOriginValue {
		return cors.CORSAllowOriginNotMatchingOrigin // Firefox does not parse the value
	}
	for _, k := range cors.FirefoxReasons {
		if (cors.Failure{Reason: k}).ChromiumName() == r.Base() || (cors.Failure{Reason: k, OnPreflight: true}).ChromiumName() == r {
			return k
		}
	}
	return r
}

// firefoxResult is what Firefox decided for one fetch.
type firefoxResult struct {
	verdict cors.Verdict
	reason  cors.Reason
	param   string
	console string
	lines   []string
}

func (r firefoxResult) String() string {
	if r.verdict == cors.Blocked {
		return "blocked " + string(r.reason)
	}
	return string(r.verdict)
}

func runInFirefox(ctx context.Context, ff *browsertest.Firefox, c conformanceCase, u string) (firefoxResult, error) {
	js := fetchScript(c, u)
	before := len(ff.Console())
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := ff.Evaluate(tctx, js)
	if err != nil {
		return firefoxResult{}, err
	}
	if strings.HasPrefix(res, "ok ") {
		return firefoxResult{verdict: cors.Allowed}, nil
	}
	// The console lines trail the promise; the reason comes before "did not succeed".
	// The console lines trail the promise. A reason comes first; "did not succeed" always comes
	// last, so the lines are complete once it is there.
	mine := "/c/" + c.name
	var lines []string
	polltest.Until(3*time.Second, func() bool {
		lines = lines[:0]
		done := false
		for _, e := range ff.Console()[before:] {
			if strings.Contains(e.Text, mine) || !strings.Contains(e.Text, "/c/") {
				lines = append(lines, e.Text)
				_, _, ok := cors.ParseFirefoxConsole(e.Text)
				done = done || ok
			}
		}
		return done
	})
	r := firefoxResult{verdict: cors.Unreachable, lines: lines}
	for _, l := range lines {
		f, _, ok := cors.ParseFirefoxConsole(l)
		if !ok || f.Reason == cors.CORSDidNotSucceed {
			continue
		}
		r.verdict, r.reason, r.param, r.console = cors.Blocked, f.Reason, f.FailedParameter, l
		return r, nil
	}
	if len(lines) > 0 {
		r.console = lines[0]
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "Security Error:") || strings.HasPrefix(l, "Blocked loading mixed") {
			r.console = l // Firefox's own words for why it sent nothing
		}
	}
	return r, nil
}

func TestFirefoxConformance(t *testing.T) {
	cases := conformanceCases()
	env := newConformanceEnv(t, cases)
	ff := browsertest.StartFirefox(t, browsertest.TrustCA(env.pki.rootPEM), browsertest.LabNames(env.names...))
	t.Logf("Firefox %s", ff.Version)
	p := env.prober()
	defer p.Close()
	slices.SortStableFunc(cases, func(a, b conformanceCase) int { return strings.Compare(a.page, b.page) })
	ctx := context.Background()
	agree, ran, page := 0, 0, "none"
	for _, c := range cases {
		if why, skip := firefoxSkips[c.name]; skip || c.page == "https443" || firefoxRawHead(c) {
			switch {
			case firefoxRawHead(c):
				why = "a malformed response head, which the probe reads as Chromium does"
			case c.page == "https443":
				why = "the page is on https://page443.test (port 443), and Firefox cannot map a port to the test server's"
			}
			t.Logf("%s: not run in Firefox: %s", c.name, why)
			continue
		}
		if c.page != page {
			page = c.page
			if err := ff.Navigate(ctx, env.pageURL(c)); err != nil {
				t.Fatalf("open %s: %v", env.pageURL(c), err)
			}
		}
		ran++
		t.Run(c.name, func(t *testing.T) {
			u := env.url(c, "firefox")
			got, err := runInFirefox(ctx, ff, c, u)
			if err != nil {
				t.Fatalf("firefox: %v", err)
			}
			if want := firefoxWant(c); got.String() != want {
				t.Errorf("Firefox no longer decides as when the case was written:\n got:  %s %q\n want: %s\n console: %q", got, got.param, want, got.lines)
			}
			req := probeRequest(t, c, env.url(c, "probe"), env.origin(c))
			req.Browser = cors.Firefox
			req.Header, _ = cors.Firefox.CombineHeaders(headerList(t, c))
			rep := p.Check(context.Background(), req, targets.Custom)
			wantConsole := strings.ReplaceAll(got.console, "run=firefox", "run=probe")
			if rep.Verdict != got.verdict || rep.CorsError != got.reason || rep.FailedParameter != got.param ||
				(got.console != "" && rep.Console != wantConsole) {
				t.Errorf("probe and Firefox disagree\n firefox: %s %q\n   console: %s\n probe:   %s %s %q\n   console: %s\n%s",
					got, got.param, wantConsole, rep.Verdict, rep.CorsError, rep.FailedParameter, rep.Console, rep.Text())
				return
			}
			t.Logf("agree: %s %q %q", got, got.param, got.lines)
			agree++
		})
	}
	t.Logf("probe agrees with Firefox %s on %d of %d server behaviours", ff.Version, agree, ran)
}
