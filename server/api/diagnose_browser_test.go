package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/corsquickcheck/corscheck/server/targets"
)

const (
	firefoxUA  = "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0"
	chromeUA   = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
	edgeUA     = chromeUA + " Edg/156.0.0.0"
	listedACAO = finesse + ", https://other.example"
)

// The gadget asks for a diagnosis from the agent's own browser; the diagnosis answers in that
// browser's words: a node that lists two origins in one Access-Control-Allow-Origin line is
// "multiple values" for Chromium and a mismatch for Firefox. A script names the browser in the
// query.
func TestDiagnoseInTheBrowsersTerms(t *testing.T) {
	n := newNode(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", listedACAO)
	})
	e := newEnv(t, envOptions{nodes: []string{"127.0.0.1"}, allowNets: []string{"127.0.0.1/32"},
		endpoints: []targets.Endpoint{{Name: "lab", Port: portOf(t, n.URL), Path: "/cuic/rest/status/"}}})
	body, _ := json.Marshal(map[string]any{"url": n.URL + "/cuic/rest/status/", "origin": finesse})
	for _, tt := range []struct {
		name, query, ua, reason, console string
		status                           int
	}{
		{"Chrome", "", chromeUA, "MultipleAllowOriginValues", "Access to fetch at ", 200},
		{"Edge", "", edgeUA, "MultipleAllowOriginValues", "Access to fetch at ", 200},
		{"Firefox", "", firefoxUA, "CORSAllowOriginNotMatchingOrigin", "Cross-Origin Request Blocked: ", 200},
		{"a script", "", "curl/8.0", "MultipleAllowOriginValues", "Access to fetch at ", 200},
		{"a script asking for Firefox", "?browser=firefox", "curl/8.0", "CORSAllowOriginNotMatchingOrigin", "Cross-Origin Request Blocked: ", 200},
		{"an unknown browser", "?browser=safari", "curl/8.0", "", "", 400},
	} {
		resp, raw := e.do("POST", "/api/v1/diagnose"+tt.query, "application/json", body, map[string]string{"Origin": finesse, "User-Agent": tt.ua})
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d %s", tt.name, resp.StatusCode, raw)
			continue
		}
		if tt.status != 200 {
			continue
		}
		var out DiagnoseOutput
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		if string(out.Report.CorsError) != tt.reason || !bytes.HasPrefix([]byte(out.Report.Console), []byte(tt.console)) {
			t.Errorf("%s: %s, console %q", tt.name, out.Report.CorsError, out.Report.Console)
		}
	}
}
