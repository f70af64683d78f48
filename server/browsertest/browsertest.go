// Package browsertest is the one place that starts a real browser for tests, benchmarks and
// screenshots, as httptest starts servers. On a developer machine without the browser the test
// is skipped; in CI (CI=true) it fails instead, so browser checks can never be skipped silently
// there. Under go test -short (the fast loop) every browser test is skipped.
//
// A browser started here stays on this machine. Chromium is pointed at a proxy that is a loopback
// sink (it answers 403 and records what it was asked); only loopback and the lab's names bypass
// it, and its host resolver maps the lab's names to 127.0.0.1 and leaves every other name
// unresolvable. When the test ends, the sink must have received nothing, or the test fails.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// ExecPath finds Chromium: $CHROMIUM, then Debian's /usr/bin/chromium, then the PATH.
func ExecPath() (string, bool) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// settings collects the Options of one browser.
type settings struct {
	names     []string // host patterns mapped to 127.0.0.1, e.g. "*.test"
	addresses []string // "host:port addr:port" mappings, tried before names
	caPEM     [][]byte // certificate authorities the browser trusts
	sinkCheck bool
	harDir    string // Firefox: where its network monitor writes a HAR per page load
}

// Option configures a test browser.
type Option func(*settings)

// LabNames lets the browser reach these names (exact names or patterns such as "*.test"): they
// resolve to 127.0.0.1 and bypass the sink. Names under .localhost always do.
func LabNames(patterns ...string) Option {
	return func(s *settings) { s.names = append(s.names, patterns...) }
}

// MapAddress sends one host and port to a loopback address and port, keeping the name in the
// URL (for a page whose origin has the default port, https://page.test, served on another port).
// The host must also be covered by LabNames.
func MapAddress(hostPort, loopbackAddr string) Option {
	return func(s *settings) { s.addresses = append(s.addresses, hostPort+" "+loopbackAddr) }
}

// TrustCA makes the browser trust a certificate authority (PEM) the way a user's machine does:
// in an NSS database under the browser's own HOME. Unlike ignoring certificate errors, the
// browser still checks names, dates and key usage.
func TrustCA(pem []byte) Option {
	return func(s *settings) { s.caPEM = append(s.caPEM, pem) }
}

// Browser is a running test browser.
type Browser struct {
	// Ctx drives the browser's first tab with chromedp.
	Ctx  context.Context
	Sink *Sink
}

// New starts Chromium and returns a chromedp context for one tab in it. The browser stops when
// the test ends, and the test fails if the browser tried to reach anything beyond this machine.
func New(t testing.TB, opts ...Option) context.Context {
	t.Helper()
	return Start(t, opts...).Ctx
}

// Start is New, and also gives the sink.
func Start(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	skipShort(t)
	bin, ok := ExecPath()
	if !ok {
		Unavailable(t, "Chromium not found (install Debian's chromium)")
	}
	s := settings{sinkCheck: true}
	for _, o := range opts {
		o(&s)
	}
	home := t.TempDir()
	if len(s.caPEM) > 0 {
		if err := trustInNSS(home, s.caPEM); err != nil {
			Unavailable(t, err.Error())
		}
	}
	sink, err := NewSink()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Runs after the browser has stopped (cleanups run last-in first-out).
		if asked := sink.Asked(); s.sinkCheck && len(asked) > 0 {
			t.Errorf("the browser tried to leave this machine (%d requests reached the sink): %s", len(asked), strings.Join(asked, "; "))
		}
		sink.Close()
	})
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(bin, home, sink, s)...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", bin, err)
	}
	return &Browser{Ctx: ctx, Sink: sink}
}

// skipShort skips a browser test under go test -short, the fast loop without browsers.
func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no browsers")
	}
}

// Unavailable ends a test that needs a tool this machine lacks: a skip on a developer machine, a
// failure in CI.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; browser tests must run in CI", why)
	}
	t.Skip(why)
}

// chromiumOptions is the whole command line of a test Chromium.
func chromiumOptions(bin, home string, sink *Sink, s settings) []chromedp.ExecAllocatorOption {
	bypass := append([]string{"localhost", "*.localhost", "127.0.0.0/8", "[::1]"}, s.names...)
	// Mapping rules are tried in order; EXCLUDE rules win over all of them.
	rules := []string{}
	for _, a := range s.addresses {
		rules = append(rules, "MAP "+a)
	}
	for _, n := range s.names {
		rules = append(rules, "MAP "+n+" 127.0.0.1")
	}
	rules = append(rules, "MAP * ~NOTFOUND", "EXCLUDE localhost", "EXCLUDE *.localhost", "EXCLUDE 127.*", "EXCLUDE ::1")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(home, "profile")),
		chromedp.Env("HOME="+home),
		chromedp.ProxyServer(sink.ProxyURL()),
		chromedp.Flag("proxy-bypass-list", strings.Join(bypass, ";")),
		chromedp.Flag("host-resolver-rules", strings.Join(rules, ", ")),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-features", strings.Join(disabledFeatures, ",")),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		// Chromium lists the Google accounts of every profile and asks the component updater for
		// on-demand components whatever the flags above say; both go to the dead end instead.
		chromedp.Flag("gaia-url", sink.DeadEndURL()),
		chromedp.Flag("component-updater", "url-source="+sink.DeadEndURL()),
	)
	return opts
}

// disabledFeatures are Chromium features that talk to Google on their own.
var disabledFeatures = []string{
	"Translate", "BlinkGenPropertyTrees", // chromedp's defaults, which this flag replaces
	"OptimizationHints", "OptimizationHintsFetching", "OptimizationGuideModelDownloading", "OptimizationTargetPrediction",
	"MediaRouter", "DialMediaRouteProvider", "NetworkTimeServiceQuerying", "AutofillServerCommunication",
	"CertificateTransparencyComponentUpdater",
}

// trustInNSS creates the NSS database Chromium reads on Linux ($HOME/.pki/nssdb) and adds each
// authority as trusted for servers.
func trustInNSS(home string, cas [][]byte) error {
	db := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(db, 0o700); err != nil {
		return err
	}
	return trustInNSSDir(home, "sql:"+db, cas)
}

// trustInNSSDir creates the NSS database db ("sql:DIR"; Firefox keeps it in its profile) and adds
// each authority as trusted for servers; the PEM files go to scratch.
func trustInNSSDir(scratch, db string, cas [][]byte) error {
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		return fmt.Errorf("certutil not found (install Debian's libnss3-tools): %w", err)
	}
	if out, err := exec.Command(certutil, "-N", "-d", db, "--empty-password").CombinedOutput(); err != nil {
		return fmt.Errorf("certutil -N: %v: %s", err, out)
	}
	for i, pem := range cas {
		f := filepath.Join(scratch, fmt.Sprintf("ca%d.pem", i))
		if err := os.WriteFile(f, pem, 0o600); err != nil {
			return err
		}
		if out, err := exec.Command(certutil, "-A", "-d", db, "-n", fmt.Sprintf("test CA %d", i), "-t", "C,,", "-i", f).CombinedOutput(); err != nil {
			return fmt.Errorf("certutil -A: %v: %s", err, out)
		}
	}
	return nil
}
