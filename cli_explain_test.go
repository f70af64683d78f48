package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The explain command's contract: text grouped by node ending in a summary, a JSON array of
// probe-shaped objects with entry and startedDateTime, and the exit codes.
func TestExplainCommand(t *testing.T) {
	har := filepath.Join("server", "explain", "testdata", "field-chrome.har")
	code, out, errOut := runCLI(t, nil, "explain", har)
	if code != 1 || errOut != "" {
		t.Fatalf("exit %d (want 1), stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "4 cross-origin requests on 4 nodes: 2 blocked, 1 unreachable, 1 allowed." {
		t.Errorf("last line %q", last)
	}

	code, out, _ = runCLI(t, nil, "explain", "--json", har)
	var findings []map[string]any
	if err := json.Unmarshal([]byte(out), &findings); err != nil || code != 1 || len(findings) != 4 {
		t.Fatalf("exit %d, %v, %d findings:\n%s", code, err, len(findings), out)
	}
	for _, k := range []string{"url", "origin", "method", "credentials", "verdict", "corsError", "failedParameter", "console", "steps", "warnings", "fixes", "entry", "startedDateTime", "node", "kind"} {
		if _, ok := findings[1][k]; !ok {
			t.Errorf("JSON lacks %q: %v", k, findings[1])
		}
	}
	if findings[1]["corsError"] != "PreflightMissingAllowOriginHeader" || findings[1]["entry"] != 3.0 {
		t.Errorf("the subscriber: %v %v", findings[1]["corsError"], findings[1]["entry"])
	}
	if strings.Contains(out, "c2VjcmV0LWFnZW50OmhvdW5keW9n") {
		t.Error("the Authorization value was printed")
	}

	// In Dutch: the explanations and fixes, not the reason names or the commands.
	code, out, _ = runCLI(t, nil, "explain", "--lang", "nl", har)
	if code != 1 || !strings.Contains(out, "heeft geen Access-Control-Allow-Origin-header") || !strings.Contains(out, "Oplossing: sta de origin") ||
		!strings.Contains(out, "utils cuic cors allowed_origin add") || !strings.Contains(out, "PreflightMissingAllowOriginHeader") {
		t.Errorf("explain in Dutch, exit %d:\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, nil, "explain", "--lang", "xx", har); code != 2 || !strings.Contains(errOut, "--lang") {
		t.Errorf("an unknown language: exit %d, %q", code, errOut)
	}
}

func TestExplainExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	allowed := write("ok.txt", "nothing failed here\n")
	unreachable := write("down.txt", "GET https://cuicdead.example:8444/cuic/rest/status/ net::ERR_NAME_NOT_RESOLVED\n")
	notHAR := write("other.json", `{"name": "not a har"}`)
	har, err := os.ReadFile(filepath.Join("server", "explain", "testdata", "field-chrome.har"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(har)
	zw.Close()
	var u16 []byte
	for _, r := range "\ufeffnoise\r\nGET https://cuicdead.example:8444/cuic/rest/status/ net::ERR_NAME_NOT_RESOLVED\r\n" {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	for _, tt := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"explain", allowed}, 0, ""},
		{[]string{"explain", unreachable}, 3, ""},
		{[]string{"explain", notHAR}, 2, "not a HAR file"},
		{[]string{"explain", write("empty.txt", "")}, 2, "nothing to explain"},
		{[]string{"explain", write("blank.txt", "\n \n")}, 2, "nothing to explain"},
		{[]string{"explain", write("bin.txt", "\x7fELF\x02\x01\x01\x00\x00\x00")}, 2, "binary data"},
		{[]string{"explain", write("odd.txt", "\xff\xfe{\"log\"\x00\x80\x81 x")}, 2, "UTF-16"},
		{[]string{"explain", write("arr.json", "[1,2]")}, 2, "not a HAR file"},
		{[]string{"explain", write("bom.har", "\xef\xbb\xbf"+string(har))}, 1, ""},
		{[]string{"explain", write("gz.har", gz.String())}, 1, ""},
		{[]string{"explain", write("u16.txt", string(u16))}, 3, ""},
		{[]string{"explain", write("noent.har", `{"log":{"entries":[]}}`)}, 0, ""},
		{[]string{"explain", filepath.Join(dir, "missing.har")}, 2, "no such file"},
		{[]string{"explain"}, 2, "want one FILE"},
		{[]string{"explain", "--kind", "cuik", allowed}, 2, `kind "cuik"`},
		{[]string{"explain", "--browser", "safari", allowed}, 2, `browser "safari"`},
	} {
		code, _, errOut := runCLI(t, nil, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.err) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tt.args[1:], code, errOut, tt.code, tt.err)
		}
	}
}

// "-" reads standard input: console text pasted into a pipe.
func TestExplainStandardInput(t *testing.T) {
	in := strings.NewReader("noise\nAccess to fetch at 'https://cuicsub.example:8444/cuic/rest/status/' from origin 'https://finessep.example:8445' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.\n")
	var out, errOut strings.Builder
	code := runExplain(t.Context(), []string{"--json", "-"}, func(string) string { return "" }, in, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), `"corsError": "MissingAllowOriginHeader"`) || !strings.Contains(out.String(), `"line": 2`) {
		t.Fatalf("exit %d, stderr %q:\n%s", code, errOut.String(), out.String())
	}
}

// No secret of the recording is printed, in text or JSON, in any language: URLs holding quotes
// and brackets beside their tokens (secret-url.har), and the cached-preflight case whose fix
// names the URL (nopre.har). Every secret in these files is spelled SECRET….
func TestExplainSecrets(t *testing.T) {
	for _, name := range []string{"secret-url.har", "nopre.har"} {
		har := filepath.Join("server", "explain", "testdata", name)
		for _, args := range [][]string{{har}, {"--json", har}, {"--lang", "nl", har}, {"--lang", "ko", "--json", har}} {
			code, out, errOut := runCLI(t, nil, append([]string{"explain"}, args...)...)
			if code != 1 || !strings.Contains(out, "REDACTED") {
				t.Errorf("%v: exit %d, stderr %q:\n%s", args, code, errOut, out)
			}
			if strings.Contains(out+errOut, "SECRET") {
				t.Errorf("%v: a secret was printed:\n%s%s", args, out, errOut)
			}
			// The cached-preflight case: blocked, its reason unnamed, and the fix says how to
			// find the reason (not a fix for another verdict).
			if name == "nopre.har" && len(args) == 1 && (!strings.Contains(out, "Fix: find out which CORS answer of ld.example") || strings.Contains(out, "HTTPS")) {
				t.Errorf("the fix does not follow the verdict:\n%s", out)
			}
		}
	}
}

// A HAR cut short (head -c 2500): the complete entries are explained, the blocked one among them,
// and the exit status says the input could not be read whole.
func TestExplainTruncated(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("server", "explain", "testdata", "field-chrome.har"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "trunc.har")
	if err := os.WriteFile(cut, b[:2500], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{cut}, {"--json", cut}} {
		code, out, errOut := runCLI(t, nil, append([]string{"explain"}, args...)...)
		if code != 2 || !strings.Contains(out, "cuicsub.example") || !strings.Contains(errOut, "entry 4: the file ends early") {
			t.Errorf("%v: exit %d, stderr %q:\n%s", args, code, errOut, out)
		}
	}
}
