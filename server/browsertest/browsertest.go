// Package browsertest starts a real headless Chromium for tests, as httptest starts servers. On a
// developer machine without Chromium the test is skipped; in CI (CI=true) it fails instead, so
// browser checks can never be skipped silently there.
package browsertest

import (
	"context"
	"os"
	"os/exec"
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

// New starts a browser and returns a chromedp context for one tab in it. The browser stops when
// the test ends. extra adds flags (e.g. chromedp.Flag("ignore-certificate-errors-spki-list", h)).
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	bin, ok := ExecPath()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium not found (install Debian's chromium); browser tests must run in CI")
		}
		t.Skip("Chromium not found; install Debian's chromium to run browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", bin, err)
	}
	return ctx
}
