package api

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

func adminBasic() map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+adminPassword))}
}

// POST /api/v1/explain answers what `corscheck explain --json` prints, to admins only, with
// every secret of the recording redacted.
func TestExplainEndpoint(t *testing.T) {
	har, err := os.ReadFile("../explain/testdata/field-chrome.har")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{explainLimit: int64(len(har))})
	if resp, _ := e.do("POST", "/api/v1/explain", "application/json", har, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d", resp.StatusCode)
	}
	resp, body := e.do("POST", "/api/v1/explain", "application/json", har, adminBasic())
	var findings []map[string]any
	if err := json.Unmarshal(body, &findings); err != nil || resp.StatusCode != http.StatusOK || len(findings) != 4 {
		t.Fatalf("%d, %v: %s", resp.StatusCode, err, body)
	}
	if findings[1]["corsError"] != "PreflightMissingAllowOriginHeader" || findings[1]["entry"] != 3.0 || findings[1]["startedDateTime"] == nil {
		t.Errorf("the subscriber: %v", findings[1])
	}
	for _, secret := range []string{"c2VjcmV0LWFnZW50OmhvdW5keW9n", "tok-123456", "cookie-value-789"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("secret %q in the answer", secret)
		}
	}

	console := "Access to fetch at 'https://ld.example:12005/' from origin 'https://finessep.example:8445' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.\n"
	resp, body = e.do("POST", "/api/v1/explain?kind=livedata", "text/plain; charset=utf-8", []byte(console), adminBasic())
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"corsError":"MissingAllowOriginHeader"`) || !strings.Contains(string(body), `"kind":"livedata"`) {
		t.Errorf("console text: %d %s", resp.StatusCode, body)
	}

	for _, tt := range []struct {
		name, path, ct string
		body           []byte
		status         int
	}{
		{"over the limit", "/api/v1/explain", "application/json", append(har, ' '), http.StatusRequestEntityTooLarge},
		{"empty", "/api/v1/explain", "application/json", nil, http.StatusBadRequest},
		{"empty text", "/api/v1/explain", "text/plain", []byte("\n\n"), http.StatusBadRequest},
		{"binary", "/api/v1/explain", "application/octet-stream", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), http.StatusBadRequest},
		{"a gzipped HAR", "/api/v1/explain", "application/json", gzipped(har), http.StatusOK},
		{"a gzip bomb", "/api/v1/explain", "application/json", gzipped(append(har, bytes.Repeat([]byte(" "), 10*len(har))...)), http.StatusRequestEntityTooLarge},
		{"a BOM", "/api/v1/explain", "application/json", append([]byte("\xef\xbb\xbf"), bytes.Replace(har, []byte(`"version":"1.2"`), []byte(`"version":""`), 1)...), http.StatusOK},
		{"not a HAR", "/api/v1/explain", "application/json", []byte(`{"name":"x"}`), http.StatusBadRequest},
		{"bad kind", "/api/v1/explain?kind=cuik", "application/json", har, http.StatusBadRequest},
		{"an image", "/api/v1/explain", "image/png", har, http.StatusUnsupportedMediaType},
	} {
		if resp, body := e.do("POST", tt.path, tt.ct, tt.body, adminBasic()); resp.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d: %s", tt.name, resp.StatusCode, tt.status, body)
		}
	}

	// Cut short inside entry 4: the complete entries before it are explained (entry 3, blocked,
	// among them), and the answer is an error that says the recording was read only in part.
	resp, body = e.do("POST", "/api/v1/explain", "application/json", har[:2500], adminBasic())
	var partial struct {
		Error    string           `json:"error"`
		Problems []string         `json:"problems"`
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal(body, &partial); err != nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(partial.Error, "read only in part") ||
		len(partial.Problems) != 1 || !strings.Contains(partial.Problems[0], "entry 4: the file ends early") {
		t.Fatalf("truncated: %d %v %s", resp.StatusCode, err, body)
	}
	if len(partial.Findings) != 2 || partial.Findings[1]["entry"] != 3.0 || partial.Findings[1]["verdict"] != "blocked" {
		t.Errorf("truncated: the entries before the cut: %v", partial.Findings)
	}
}

// URLs holding quotes and brackets beside their tokens: nothing secret in the answer.
func TestExplainEndpointSecrets(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, name := range []string{"secret-url.har", "nopre.har"} {
		har, err := os.ReadFile("../explain/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := e.do("POST", "/api/v1/explain", "application/json", har, adminBasic())
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "REDACTED") || strings.Contains(string(body), "SECRET") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
}

func gzipped(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}
