package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/corsquickcheck/corscheck/server/targets"
)

// The gadget says which browser ran the check; the diagnosis answers in that browser's words: a
// node that lists two origins in one Access-Control-Allow-Origin line is "multiple values" for
// Chromium and a mismatch for Firefox.
func TestDiagnoseInTheBrowsersTerms(t *testing.T) {
	n := newNode(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", finesse+", https://other.example")
	})
	e := newEnv(t, envOptions{nodes: []string{"127.0.0.1"}, allowNets: []string{"127.0.0.1/32"},
		endpoints: []targets.Endpoint{{Name: "lab", Port: portOf(t, n.URL), Path: "/cuic/rest/status/"}}})
	for _, tt := range []struct{ browser, reason, console string }{
		{"", "MultipleAllowOriginValues", "Access to fetch at "},
		{"chromium", "MultipleAllowOriginValues", "Access to fetch at "},
		{"firefox", "CORSAllowOriginNotMatchingOrigin", "Cross-Origin Request Blocked: "},
	} {
		status, body := e.diagnose(map[string]any{"url": n.URL + "/cuic/rest/status/", "origin": finesse, "browser": tt.browser})
		var out DiagnoseOutput
		if err := json.Unmarshal(body, &out); err != nil || status != http.StatusOK {
			t.Fatalf("%q: %d %s", tt.browser, status, body)
		}
		if string(out.Report.CorsError) != tt.reason || len(out.Report.Console) < len(tt.console) || out.Report.Console[:len(tt.console)] != tt.console {
			t.Errorf("%q: %s, console %q", tt.browser, out.Report.CorsError, out.Report.Console)
		}
	}
	status, body := e.diagnose(map[string]any{"url": n.URL + "/cuic/rest/status/", "origin": finesse, "browser": "safari"})
	if status != http.StatusBadRequest {
		t.Errorf("browser safari: %d %s", status, body)
	}
}
