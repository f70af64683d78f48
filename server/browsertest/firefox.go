package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FirefoxPath finds Firefox: $FIREFOX, then Debian's firefox-esr, then firefox on the PATH.
func FirefoxPath() (string, bool) {
	if p := os.Getenv("FIREFOX"); p != "" {
		return p, true
	}
	for _, name := range []string{"/usr/bin/firefox-esr", "firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// ExportHAR makes Firefox write a HAR of every page load into dir, with its own export code
// (the network monitor's auto-export), once the page has been quiet for 5 s: requests a test
// makes in quicker succession are in it; leaving the page earlier loses it. Firefox only; it
// starts Firefox with --devtools.
func ExportHAR(dir string) Option {
	return func(s *settings) { s.harDir = dir }
}

// Firefox is a running test Firefox, driven over WebDriver BiDi.
type Firefox struct {
	BiDi *BiDi
	// Context is the browsing context (tab) commands go to.
	Context string
	Sink    *Sink
	Version string

	mu      sync.Mutex
	console []ConsoleEntry
}

// ConsoleEntry is one message of the page's console, as BiDi's log.entryAdded reports it.
type ConsoleEntry struct {
	Level string
	Text  string
}

// StartFirefox starts headless Firefox with a fresh profile and returns it connected over
// WebDriver BiDi, with its first tab selected and console messages collected. It stops when the
// test ends, and the test fails if Firefox tried to reach anything beyond this machine.
//
// Firefox resolves only exact names (LabNames("page.test"), not "*.test") to 127.0.0.1, and
// MapAddress does not apply to it.
func StartFirefox(t testing.TB, opts ...Option) *Firefox {
	t.Helper()
	skipShort(t)
	bin, ok := FirefoxPath()
	if !ok {
		Unavailable(t, "Firefox not found (install Debian's firefox-esr)")
	}
	s := settings{sinkCheck: true}
	for _, o := range opts {
		o(&s)
	}
	home := t.TempDir()
	profile := filepath.Join(home, "profile")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		t.Fatal(err)
	}
	sink, err := NewSink()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if asked := sink.Asked(); s.sinkCheck && len(asked) > 0 {
			t.Errorf("Firefox tried to leave this machine (%d requests reached the sink): %s", len(asked), strings.Join(asked, "; "))
		}
		sink.Close()
	})
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(firefoxPrefs(sink, s)), 0o600); err != nil {
		t.Fatal(err)
	}
	if len(s.caPEM) > 0 {
		if err := trustInNSSDir(home, "sql:"+profile, s.caPEM); err != nil {
			Unavailable(t, err.Error())
		}
	}
	args := []string{"--headless", "--no-remote", "--profile", profile, "--remote-debugging-port", "0"}
	if s.harDir != "" {
		args = append(args, "--devtools")
	}
	args = append(args, "about:blank")
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_HEADLESS=1",
		// Release builds honour services.settings.server (remote settings) only with this set.
		"MOZ_REMOTE_SETTINGS_DEVTOOLS=1")
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Firefox (%s): %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	ws, err := waitBiDiPort(profile, exited)
	if err != nil {
		t.Fatalf("start Firefox (%s): %v\n%s", bin, err, stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := dialBiDi(ctx, ws+"/session")
	if err != nil {
		t.Fatalf("connect to Firefox's WebDriver BiDi at %s: %v", ws, err)
	}
	t.Cleanup(func() { b.Close() })
	f := &Firefox{BiDi: b, Sink: sink}
	b.Listen(f.onEvent)
	res, err := b.Call(ctx, "session.new", map[string]any{"capabilities": map[string]any{
		"alwaysMatch": map[string]any{"acceptInsecureCerts": false}}})
	if err != nil {
		t.Fatalf("Firefox: session.new: %v", err)
	}
	var session struct {
		Capabilities struct {
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	json.Unmarshal(res, &session)
	f.Version = session.Capabilities.BrowserVersion
	if _, err := b.Call(ctx, "session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}); err != nil {
		t.Fatalf("Firefox: session.subscribe: %v", err)
	}
	res, err = b.Call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0})
	if err != nil {
		t.Fatalf("Firefox: browsingContext.getTree: %v", err)
	}
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := json.Unmarshal(res, &tree); err != nil || len(tree.Contexts) == 0 {
		t.Fatalf("Firefox: no browsing context: %s", res)
	}
	f.Context = tree.Contexts[0].Context
	return f
}

// waitBiDiPort waits for Firefox to write the address of its WebDriver BiDi server into the
// profile.
func waitBiDiPort(profile string, exited <-chan struct{}) (string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return "", errors.New("Firefox exited")
		default:
		}
		b, err := os.ReadFile(filepath.Join(profile, "WebDriverBiDiServer.json"))
		if err == nil {
			var srv struct {
				Host string `json:"ws_host"`
				Port int    `json:"ws_port"`
			}
			if json.Unmarshal(b, &srv) == nil && srv.Port > 0 {
				return "ws://" + srv.Host + ":" + strconv.Itoa(srv.Port), nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", errors.New("WebDriver BiDi did not start within 60 s")
}

func (f *Firefox) onEvent(method string, params json.RawMessage) {
	if method != "log.entryAdded" {
		return
	}
	var e struct {
		Level string `json:"level"`
		Text  string `json:"text"`
	}
	if json.Unmarshal(params, &e) == nil {
		f.mu.Lock()
		f.console = append(f.console, ConsoleEntry{Level: e.Level, Text: e.Text})
		f.mu.Unlock()
	}
}

// Console returns the console messages logged so far, oldest first.
func (f *Firefox) Console() []ConsoleEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ConsoleEntry(nil), f.console...)
}

// Navigate loads a URL in the tab and waits until it has loaded.
func (f *Firefox) Navigate(ctx context.Context, url string) error {
	_, err := f.BiDi.Call(ctx, "browsingContext.navigate", map[string]any{"context": f.Context, "url": url, "wait": "complete"})
	return err
}

// Evaluate runs a script expression in the tab, awaits it when it is a promise, and returns its
// value as a string.
func (f *Firefox) Evaluate(ctx context.Context, expr string) (string, error) {
	res, err := f.BiDi.Call(ctx, "script.evaluate", map[string]any{
		"expression": expr, "awaitPromise": true, "target": map[string]any{"context": f.Context}})
	if err != nil {
		return "", err
	}
	var r struct {
		Type   string `json:"type"`
		Result struct {
			Type  string
			Value any
		} `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return "", err
	}
	if r.Type == "exception" {
		return "", fmt.Errorf("script threw: %s", r.ExceptionDetails.Text)
	}
	if s, ok := r.Result.Value.(string); ok {
		return s, nil
	}
	return fmt.Sprint(r.Result.Value), nil
}

// firefoxPrefs is the user.js of a test profile: every background service off, and every
// connection that is not to loopback or a lab name sent to the sink.
func firefoxPrefs(sink *Sink, s settings) string {
	host, port, _ := strings.Cut(strings.TrimPrefix(sink.ProxyURL(), "http://"), ":")
	dead := strings.TrimSuffix(sink.DeadEndURL(), "/")
	var exact, bypass []string
	for _, n := range s.names {
		if suffix, ok := strings.CutPrefix(n, "*"); ok {
			bypass = append(bypass, suffix)
			continue
		}
		exact = append(exact, n)
		bypass = append(bypass, n)
	}
	prefs := [][2]any{
		// Everything goes through the sink, except loopback and the lab's names.
		{"network.proxy.type", 1},
		{"network.proxy.http", host}, {"network.proxy.http_port", port},
		{"network.proxy.ssl", host}, {"network.proxy.ssl_port", port},
		{"network.proxy.share_proxy_settings", true},
		{"network.proxy.no_proxies_on", strings.Join(append([]string{"localhost", ".localhost", "127.0.0.1", "[::1]"}, bypass...), ", ")},
		{"network.proxy.allow_hijacking_localhost", false},
		{"network.dns.localDomains", strings.Join(exact, ",")},
		{"network.trr.mode", 5},
		{"network.dns.disablePrefetch", true},
		{"network.prefetch-next", false},
		{"network.http.speculative-parallel-limit", 0},
		{"network.predictor.enabled", false},
		{"network.http.http3.enable", false},
		{"network.captive-portal-service.enabled", false},
		{"network.connectivity-service.enabled", false},
		{"captivedetect.canonicalURL", dead + "/captive"},
		// Telemetry and data reporting.
		{"toolkit.telemetry.enabled", false}, {"toolkit.telemetry.unified", false},
		{"toolkit.telemetry.server", dead}, {"toolkit.telemetry.archive.enabled", false},
		{"datareporting.healthreport.uploadEnabled", false},
		{"datareporting.policy.dataSubmissionEnabled", false},
		{"datareporting.usage.uploadEnabled", false},
		{"browser.ping-centre.telemetry", false},
		{"browser.newtabpage.activity-stream.feeds.telemetry", false},
		{"browser.newtabpage.activity-stream.telemetry", false},
		{"app.normandy.enabled", false}, {"app.normandy.api_url", dead},
		{"app.shield.optoutstudies.enabled", false},
		{"browser.crashReports.unsubmittedCheck.enabled", false},
		// Updates of the browser, its add-ons, search engines and system add-ons.
		{"app.update.disabledForTesting", true}, {"app.update.auto", false}, {"app.update.url", dead},
		{"extensions.update.enabled", false}, {"extensions.getAddons.cache.enabled", false},
		{"extensions.systemAddon.update.enabled", false}, {"extensions.systemAddon.update.url", dead},
		{"extensions.blocklist.enabled", false},
		{"browser.search.update", false}, {"browser.region.update.enabled", false},
		{"browser.region.network.url", ""}, {"geo.provider.network.url", ""},
		{"media.gmp-manager.url", dead}, {"media.gmp-manager.chromium-update-url", dead},
		{"media.gmp-manager.updateEnabled", false}, {"media.gmp-provider.enabled", false},
		{"media.gmp-gmpopenh264.enabled", false}, {"media.gmp-widevinecdm.enabled", false},
		{"network.connectivity-service.IPv4.url", dead}, {"network.connectivity-service.IPv6.url", dead},
		{"toolkit.telemetry.dap.leader.url", dead}, {"toolkit.telemetry.dap.helper.url", dead},
		{"dap.ohttp.relayURL", dead}, {"toolkit.coverage.endpoint.base", dead},
		{"extensions.getAddons.discovery.api_url", dead}, {"extensions.update.url", dead},
		{"extensions.update.background.url", dead},
		{"browser.safebrowsing.provider.google5.updateURL", ""},
		// Remote settings, certificate revocation lists and OCSP.
		{"services.settings.server", dead},
		{"security.remote_settings.crlite_filters.enabled", false},
		{"security.remote_settings.intermediates.enabled", false},
		{"security.OCSP.enabled", 0},
		{"security.certerrors.mitm.priming.enabled", false},
		// Safe browsing.
		{"browser.safebrowsing.malware.enabled", false}, {"browser.safebrowsing.phishing.enabled", false},
		{"browser.safebrowsing.downloads.enabled", false}, {"browser.safebrowsing.downloads.remote.enabled", false},
		{"browser.safebrowsing.blockedURIs.enabled", false},
		{"browser.safebrowsing.update.enabled", false},
		{"browser.safebrowsing.provider.mozilla.updateURL", ""}, {"browser.safebrowsing.provider.google4.updateURL", ""},
		{"browser.safebrowsing.provider.google.updateURL", ""},
		// Other services that call home.
		{"dom.push.connection.enabled", false}, {"dom.push.serverURL", ""},
		{"identity.fxaccounts.enabled", false},
		{"browser.topsites.contile.enabled", false},
		{"browser.newtabpage.enabled", false}, {"browser.startup.page", 0}, {"browser.startup.homepage", "about:blank"},
		{"browser.discovery.enabled", false},
		{"browser.translations.enable", false},
		{"browser.contentblocking.database.enabled", false},
		{"privacy.trackingprotection.enabled", false}, {"privacy.trackingprotection.pbmode.enabled", false},
		{"browser.urlbar.suggest.quicksuggest.sponsored", false}, {"browser.urlbar.quicksuggest.enabled", false},
		{"browser.aboutwelcome.enabled", false},
		{"network.cookie.sameSite.laxByDefault", false},
		{"browser.shell.checkDefaultBrowser", false},
		{"browser.tabs.remote.separatedMozillaDomains", ""},
		{"devtools.console.stdout.content", false},
	}
	if s.harDir != "" {
		prefs = append(prefs,
			[2]any{"devtools.netmonitor.har.enableAutoExportToFile", true},
			[2]any{"devtools.netmonitor.har.defaultLogDir", s.harDir},
			[2]any{"devtools.netmonitor.har.defaultFileName", "page-%H%M%S"},
			[2]any{"devtools.netmonitor.har.includeResponseBodies", true},
			[2]any{"devtools.toolbox.host", "window"},
			[2]any{"devtools.netmonitor.persistlog", true},
			// The export is written once the page has made no request for this long.
			[2]any{"devtools.netmonitor.har.pageLoadedTimeout", 5000},
		)
	}
	var b strings.Builder
	for _, p := range prefs {
		v, _ := json.Marshal(p[1])
		if s, ok := p[1].(string); ok && isNumber(s) {
			v = []byte(s) // proxy ports are numbers
		}
		fmt.Fprintf(&b, "user_pref(%q, %s);\n", p[0], v)
	}
	return b.String()
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// lockedBuffer collects a process's output from two pipes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
