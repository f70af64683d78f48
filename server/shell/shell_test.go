package shell

import (
	"os/exec"
	"testing"
)

// TestQuote hands quoted words to a real shell and gets each back as one word, unchanged.
func TestQuote(t *testing.T) {
	for _, s := range []string{"https://svc.example:8443", "", "a b", "it's", "$(touch /tmp/pwned)", "x;y", "`id`", "a\nb", "${IFS}", "'"} {
		out, err := exec.Command("sh", "-c", "printf %s "+Quote(s)).Output()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("Quote(%q) = %s: the shell read %q", s, Quote(s), out)
		}
	}
	if got := Quote("https://svc.example:8443/x"); got != "https://svc.example:8443/x" {
		t.Errorf("a plain URL was quoted: %s", got)
	}
}
