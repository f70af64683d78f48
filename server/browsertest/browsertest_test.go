package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corsquickcheck/corscheck/server/lab"
)

// TestBrowserStaysOnThisMachine runs Chromium for about 30 s on a page of the lab, as a long
// browser test would, and checks that nothing reached the sink: the launcher's flags keep every
// background service of Chromium on loopback. The lab still works through the launcher: the
// gadget-shaped request gets its usual verdicts, and a test name mapped with LabNames resolves.
func TestBrowserStaysOnThisMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a browser for 30 s")
	}
	l := blankLab(t)
	named := httptest.NewServer(blank)
	defer named.Close()
	b := Start(t, TrustCA(l.CA().CertPEM()), LabNames("*.test"))

	page := l.SimulatorOrigin() + "/3rdpartygadget/files/blank.html"
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for round := 0; time.Now().Before(deadline); round++ {
		for name, want := range map[string]string{"cuicpub": "ok 200", "cuicsub": "error TypeError: Failed to fetch"} {
			tg, _ := l.Target(name)
			got := fetchFromPage(t, b, tg.URL+"?round="+fmt.Sprint(round))
			if got != want {
				t.Fatalf("round %d: fetch %s from %s: %q, want %q", round, tg.URL, page, got, want)
			}
		}
		time.Sleep(2 * time.Second)
	}
	// A name mapped with LabNames reaches the loopback server without the proxy.
	mapped := strings.Replace(named.URL, "127.0.0.1", "page.test", 1)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(mapped)); err != nil {
		t.Fatalf("navigate %s: %v", mapped, err)
	}
	if title, err := chromedp.Run(b.Ctx, chromedp.Title()); err != nil || title != "blank" {
		t.Fatalf("%s: title %q, %v", mapped, title, err)
	}
	if asked := b.Sink.Asked(); len(asked) > 0 {
		t.Fatalf("the sink received %d requests: %q", len(asked), asked)
	}
	t.Logf("sink silent; %d connections of Chromium's own services ended at the loopback dead end", b.Sink.Diverted())
}

// TestSinkCatchesTheOutside proves the sink is not silent by accident: a page that asks for a
// host outside the lab reaches the sink, not the network.
func TestSinkCatchesTheOutside(t *testing.T) {
	b := Start(t, allowLeaks)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	got := fetchFromPage(t, b, "https://outside.example/x")
	if !strings.HasPrefix(got, "error") {
		t.Fatalf("fetch of an outside host: %q, want an error", got)
	}
	if asked := b.Sink.Asked(); !slices.Contains(asked, "CONNECT outside.example:443") {
		t.Fatalf("the sink did not see the outside request: %q", asked)
	}
}

// blank is a page with nothing on it.
var blank = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	fmt.Fprint(w, "<!doctype html><title>blank</title>")
})

// blankLab starts the lab with a blank page as the gadget, stopped when the test ends.
func blankLab(t *testing.T) *lab.Lab {
	t.Helper()
	l, err := lab.Start(lab.Options{Gadget: blank})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// allowLeaks turns off the end-of-test check, for the test that leaks on purpose.
func allowLeaks(s *settings) { s.sinkCheck = false }

func fetchFromPage(t *testing.T, b *Browser, u string) string {
	t.Helper()
	js := fmt.Sprintf(`fetch(%q, {mode: "cors", credentials: "include", cache: "no-store",
		headers: {Authorization: "Basic YWdlbnQ6c2VjcmV0", locale: "en_US", peripheralid: "5000"}})
		.then(r => "ok " + r.status, e => "error " + e)`, u)
	got, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s: %v", u, err)
	}
	return got
}
