package browsertest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFirefoxStaysOnThisMachine runs Firefox for about 30 s on a page of the lab, as a long browser
// test would, and checks that nothing reached the sink: the profile's user.js keeps every
// background service of Firefox (telemetry, updates, remote settings, captive-portal and
// safe-browsing checks) on loopback. The lab still works: the gadget-shaped request gets its
// usual verdicts.
func TestFirefoxStaysOnThisMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a browser for 30 s")
	}
	l := blankLab(t)
	f := StartFirefox(t, TrustCA(l.CA().CertPEM()))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	page := l.SimulatorOrigin() + "/3rdpartygadget/files/blank.html"
	if err := f.Navigate(ctx, page); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for round := 0; time.Now().Before(deadline); round++ {
		for name, want := range map[string]string{"cuicpub": "ok 200", "cuicsub": "error TypeError: NetworkError when attempting to fetch resource."} {
			tg, _ := l.Target(name)
			got := fetchFromFirefox(t, f, tg.URL+"?round="+fmt.Sprint(round))
			if got != want {
				t.Fatalf("round %d: fetch %s from %s: %q, want %q", round, tg.URL, page, got, want)
			}
		}
		time.Sleep(2 * time.Second)
	}
	if asked := f.Sink.Asked(); len(asked) > 0 {
		t.Fatalf("the sink received %d requests: %q", len(asked), asked)
	}
	t.Logf("sink silent after 30 s of Firefox %s; %d connections ended at the loopback dead end", f.Version, f.Sink.Diverted())
}

// TestFirefoxSinkCatchesTheOutside proves the sink is not silent by accident: a page that asks
// Firefox for a host outside the lab reaches the sink, not the network.
func TestFirefoxSinkCatchesTheOutside(t *testing.T) {
	f := StartFirefox(t, allowLeaks)
	got := fetchFromFirefox(t, f, "https://outside.example/x")
	if !strings.HasPrefix(got, "error") {
		t.Fatalf("fetch of an outside host: %q, want an error", got)
	}
	if asked := f.Sink.Asked(); !slices.Contains(asked, "CONNECT outside.example:443") {
		t.Fatalf("the sink did not see the outside request: %q", asked)
	}
}

func fetchFromFirefox(t *testing.T, f *Firefox, u string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	js := fmt.Sprintf(`fetch(%q, {mode: "cors", credentials: "include", cache: "no-store",
		headers: {Authorization: "Basic YWdlbnQ6c2VjcmV0", locale: "en_US", peripheralid: "5000"}})
		.then(r => "ok " + r.status, e => "error " + e)`, u)
	got, err := f.Evaluate(ctx, js)
	if err != nil {
		t.Fatalf("fetch %s: %v", u, err)
	}
	return got
}
