package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/lab"
	"github.com/corsquickcheck/corscheck/server/polltest"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/shell"
	"github.com/corsquickcheck/corscheck/server/store"
)

const finesse = "https://finessep.example:8445"

// runCLI runs the whole program in-process and returns its exit code and output.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, append([]string{"corscheck"}, args...), func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// subscriber answers like the CUIC subscriber of the field case: every request that carries an
// Origin gets 403 and no CORS headers, as Tomcat's CorsFilter does for an origin it does not know.
func subscriber(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/cuic/rest/status/"
}

// port returns the port of a URL.
func port(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// labWithCA starts the lab and writes its CA where --ca-file can read it.
func labWithCA(t *testing.T) (*lab.Lab, string) {
	t.Helper()
	l, err := lab.Start(lab.Options{})
	if err != nil {
		t.Fatalf("lab.Start: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	caFile := filepath.Join(t.TempDir(), "lab-ca.pem")
	if err := l.CA().WriteCA(caFile); err != nil {
		t.Fatal(err)
	}
	return l, caFile
}

func labURL(t *testing.T, l *lab.Lab, name string) string {
	t.Helper()
	tg, ok := l.Target(name)
	if !ok {
		t.Fatalf("lab has no target %q", name)
	}
	return tg.URL
}

func TestProbe(t *testing.T) {
	sub := subscriber(t)
	l, caFile := labWithCA(t)
	pub, labSub := labURL(t, l, "cuicpub"), labURL(t, l, "cuicsub")
	ldB, dead := labURL(t, l, "livedata-b"), labURL(t, l, "cuic-dead")
	gadget := []string{"--credentials", "include", "-H", "Authorization: Basic YWdlbnQ6c2VjcmV0", "-H", "locale: en_US", "-H", "peripheralid: 5000"}
	acceptance := []string{
		"PreflightMissingAllowOriginHeader",
		"utils cuic cors allowed_origin add https://finessep.example:8445",
		"Intelligence Center Reporting Service",
	}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		code    int
		want    []string
		notWant []string
	}{
		{
			name: "subscriber answers 403",
			args: []string{"probe", "--kind", "cuic", "--origin", finesse, "--credentials", "include", "-H", "Authorization: Basic x", sub},
			code: 1, want: acceptance,
		},
		{
			name: "flags after the URL",
			args: []string{"probe", sub, "--kind", "cuic", "--origin", finesse, "--credentials", "include", "-H", "Authorization: Basic x"},
			code: 1, want: acceptance,
		},
		{
			name: "flags on both sides of the URL",
			args: []string{"probe", "--kind=cuic", sub, "--origin=" + finesse, "-H", "Authorization: Basic x"},
			code: 1, want: acceptance,
		},
		{
			name: "origin from CORSCHECK_ORIGIN",
			env:  map[string]string{"CORSCHECK_ORIGIN": finesse},
			args: []string{"probe", "--kind", "cuic", "-H", "Authorization: Basic x", sub},
			code: 1, want: acceptance,
		},
		{
			name: "--origin wins over CORSCHECK_ORIGIN",
			env:  map[string]string{"CORSCHECK_ORIGIN": "https://other.example"},
			args: []string{"probe", "--origin", finesse, "-H", "Authorization: Basic x", sub},
			code: 1, want: []string{"from origin 'https://finessep.example:8445'"}, notWant: []string{"other.example"},
		},
		{
			name: "publisher over TLS with --ca-file",
			args: append(append([]string{"probe", "--kind", "cuic", "--origin", finesse, "--ca-file", caFile}, gadget...), pub),
			code: 0, want: []string{"allowed", "access-control-allow-origin: " + finesse}, notWant: []string{"Fix:", "Warning:"},
		},
		{
			name: "lab subscriber over TLS",
			args: append(append([]string{"probe", "--kind", "cuic", "--origin", finesse, "--ca-file", caFile}, gadget...), labSub),
			code: 1, want: acceptance,
		},
		{
			name: "header missing from the allow list",
			args: append(append([]string{"probe", "--kind", "livedata", "--origin", finesse, "--ca-file", caFile}, gadget...), ldB),
			code: 1, want: []string{"HeaderDisallowedByPreflightResponse", "utils live-data cors allowed_headers add peripheralid"},
		},
		{
			name: "lab CA not trusted",
			args: append(append([]string{"probe", "--kind", "cuic", "--origin", finesse}, gadget...), pub),
			code: 3, want: []string{"unreachable", "tls-untrusted"}, notWant: []string{"blocked"},
		},
		{
			name: "--insecure",
			args: append(append([]string{"probe", "--kind", "cuic", "--origin", finesse, "--insecure"}, gadget...), pub),
			code: 0, want: []string{"allowed", "Warning: --insecure"},
		},
		{
			name: "connection refused",
			args: []string{"probe", "--kind", "cuic", "--origin", finesse, dead},
			code: 3, want: []string{"unreachable", "refused"}, notWant: []string{"blocked"},
		},
		{
			name: "in Korean: the words change, the commands and the reason do not",
			args: []string{"probe", "--kind", "cuic", "--origin", finesse, "--credentials", "include", "-H", "Authorization: Basic x", "--lang", "ko", sub},
			code: 1, want: []string{"CORS 차단: PreflightMissingAllowOriginHeader (프리플라이트(OPTIONS) 응답에 Access-Control-Allow-Origin 헤더가 없습니다",
				"해결 방법: 127.0.0.1에서 출처 https://finessep.example:8445을(를) 허용", "utils cuic cors allowed_origin add https://finessep.example:8445",
				"utils service restart Intelligence Center Reporting Service", "콘솔: Access to fetch at"},
			notWant: []string{"Fix:", ": blocked by CORS:"},
		},
		{
			name: "in Dutch from $LANG",
			env:  map[string]string{"LANG": "nl_NL.UTF-8"},
			args: []string{"probe", "--kind", "cuic", "--origin", finesse, "--credentials", "include", "-H", "Authorization: Basic x", sub},
			code: 1, want: []string{"geblokkeerd door CORS: PreflightMissingAllowOriginHeader", "Oplossing: sta de origin https://finessep.example:8445 toe op 127.0.0.1",
				"Voer uit op 127.0.0.1:", "utils cuic cors allowed_origin add https://finessep.example:8445"},
		},
		{
			name: "--resolve sends a name this machine cannot resolve to the node",
			args: []string{"probe", "--kind", "cuic", "--origin", "http://finessep.example:8082", "--credentials", "include", "-H", "Authorization: Basic x",
				"--resolve", "cuicsub.example.com:" + port(t, sub) + ":127.0.0.1", strings.Replace(sub, "127.0.0.1", "cuicsub.example.com", 1)},
			code: 1, want: []string{"cuicsub.example.com: blocked by CORS: PreflightMissingAllowOriginHeader", "allowed_origin add http://finessep.example:8082"},
		},
		{
			name: "--resolve with any port; an https page still may not call http://",
			args: []string{"probe", "--kind", "cuic", "--origin", finesse, "--credentials", "include", "-H", "Authorization: Basic x",
				"--resolve", "cuicsub.example.com:*:127.0.0.1", strings.Replace(sub, "127.0.0.1", "cuicsub.example.com", 1)},
			code: 3, want: []string{"unreachable: mixed-content", "Console: Mixed Content: The page at 'https://finessep.example:8445/'"},
		},
		{
			name: "forbidden header dropped",
			args: []string{"probe", "--origin", finesse, "--ca-file", caFile, "-H", "Cookie: JSESSIONID=1", pub},
			code: 0, want: []string{"Warning: fetch() silently drops this header, so it is not sent (Cookie)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if stderr != "" {
				t.Errorf("stderr: %s", stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(stdout, w) {
					t.Errorf("output has %q:\n%s", w, stdout)
				}
			}
		})
	}
}

// contract are the fields `corscheck probe --json` always prints (docs/probe.md).
var contract = []string{"url", "origin", "method", "credentials", "verdict", "corsError", "failedParameter", "console", "warnings", "fixes"}

func probeJSON(t *testing.T, wantCode int, args ...string) map[string]any {
	t.Helper()
	code, stdout, stderr := runCLI(t, nil, append([]string{"probe", "--json"}, args...)...)
	if code != wantCode {
		t.Fatalf("exit %d, want %d\n%s%s", code, wantCode, stdout, stderr)
	}
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(stdout))
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Errorf("stdout holds more than one JSON value:\n%s", stdout)
	}
	for _, k := range contract {
		if _, ok := obj[k]; !ok {
			t.Errorf("JSON lacks %q:\n%s", k, stdout)
		}
	}
	for _, k := range []string{"warnings", "fixes"} {
		if _, ok := obj[k].([]any); !ok {
			t.Errorf("%s = %v, want an array", k, obj[k])
		}
	}
	return obj
}

func TestProbeJSON(t *testing.T) {
	l, caFile := labWithCA(t)
	pub := labURL(t, l, "cuicpub")

	t.Run("allowed", func(t *testing.T) {
		obj := probeJSON(t, 0, "--kind", "cuic", "--origin", finesse, "--credentials", "include", "--ca-file", caFile,
			"-H", "Authorization: Basic x", pub)
		want := map[string]any{"url": pub, "origin": finesse, "method": "GET", "credentials": "include", "verdict": "allowed", "corsError": ""}
		for k, v := range want {
			if obj[k] != v {
				t.Errorf("%s = %v, want %v", k, obj[k], v)
			}
		}
		for _, k := range []string{"preflight", "actual"} {
			ex, ok := obj[k].(map[string]any)
			if !ok {
				t.Fatalf("%s = %v, want an object", k, obj[k])
			}
			if ex["status"] != 200.0 {
				t.Errorf("%s status = %v, want 200", k, ex["status"])
			}
		}
		if _, ok := obj["network"]; ok {
			t.Errorf("network present for a reachable target: %v", obj["network"])
		}
	})

	t.Run("blocked", func(t *testing.T) {
		obj := probeJSON(t, 1, "--kind", "cuic", "--origin", finesse, "--credentials", "include", "-H", "Authorization: Basic x", subscriber(t))
		if obj["verdict"] != "blocked" || obj["corsError"] != "PreflightMissingAllowOriginHeader" {
			t.Errorf("verdict %v %v", obj["verdict"], obj["corsError"])
		}
		if c, _ := obj["console"].(string); !strings.Contains(c, "has been blocked by CORS policy") {
			t.Errorf("console = %q", c)
		}
		if pf, _ := obj["preflight"].(map[string]any); pf == nil || pf["status"] != 403.0 {
			t.Errorf("preflight = %v, want status 403", obj["preflight"])
		}
		if fixes, _ := obj["fixes"].([]any); len(fixes) == 0 {
			t.Error("no fixes for a blocked request")
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		obj := probeJSON(t, 3, "--origin", finesse, "-H", "X-Test: 1", labURL(t, l, "cuic-dead"))
		ne, ok := obj["network"].(map[string]any)
		if !ok || ne["class"] != "refused" {
			t.Errorf("network = %v, want class refused", obj["network"])
		}
		if obj["verdict"] != "unreachable" || obj["corsError"] != "" {
			t.Errorf("verdict %v %v", obj["verdict"], obj["corsError"])
		}
	})

	t.Run("headers combined and forbidden ones dropped", func(t *testing.T) {
		obj := probeJSON(t, 0, "--origin", finesse, "--ca-file", caFile, "--method", "get",
			"-H", "Locale: en_US", "-H", "locale: nl_NL", "-H", "Sec-Fetch-Site: none", pub)
		if obj["method"] != "GET" {
			t.Errorf("method = %v, want GET (normalized)", obj["method"])
		}
		ws, _ := obj["warnings"].([]any)
		if len(ws) != 1 || ws[0].(map[string]any)["code"] != "forbidden-header-dropped" {
			t.Errorf("warnings = %v, want one forbidden-header-dropped", ws)
		}
		actual, _ := obj["actual"].(map[string]any)
		raw, _ := json.Marshal(actual["requestHeaders"])
		if h := strings.ToLower(string(raw)); !strings.Contains(h, `"en_us, nl_nl"`) || strings.Contains(h, "sec-fetch-site") {
			t.Errorf("actual request headers = %s, want Locale combined and Sec-Fetch-Site dropped", raw)
		}
	})
}

func TestProbeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Valid but unreachable: if a case wrongly passes validation it exits 3 quickly, not 2.
	const u = "https://127.0.0.1:1/cuic/rest/status/"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // in the error line
	}{
		{"no URL", nil, []string{"--origin", finesse}, "missing URL"},
		{"two URLs", nil, []string{"--origin", finesse, u, u}, "want one URL"},
		{"no origin", nil, []string{u}, "--origin is required"},
		{"bad origin", nil, []string{"--origin", "finessep.example", u}, "origin"},
		{"bad origin from env", map[string]string{"CORSCHECK_ORIGIN": "ftp://finesse"}, []string{u}, "origin"},
		{"relative URL", nil, []string{"--origin", finesse, "/cuic/rest/status/"}, "absolute http"},
		{"ftp URL", nil, []string{"--origin", finesse, "ftp://cuic.example/"}, "absolute http"},
		{"URL with credentials", nil, []string{"--origin", finesse, "https://u:p@cuic.example/"}, "user name"},
		{"URL port out of range", nil, []string{"--origin", finesse, "https://cuic.example:99999/"}, "port"},
		{"unparsable URL", nil, []string{"--origin", finesse, "https://cuic example/"}, "URL"},
		{"forbidden method", nil, []string{"--origin", finesse, "--method", "TRACE", u}, "TRACE"},
		{"invalid method", nil, []string{"--origin", finesse, "--method", "GE T", u}, "method"},
		{"header without colon", nil, []string{"--origin", finesse, "-H", "Authorization", u}, "Name: value"},
		{"header name with space", nil, []string{"--origin", finesse, "-H", "Bad Name: x", u}, "token"},
		{"header value with CR", nil, []string{"--origin", finesse, "-H", "X-A: a\rb", u}, "CR"},
		{"bad credentials", nil, []string{"--origin", finesse, "--credentials", "always", u}, "credentials"},
		{"bad kind", nil, []string{"--origin", finesse, "--kind", "cucm", u}, "kind"},
		{"duration without unit", nil, []string{"--origin", finesse, "--timeout", "10", u}, "timeout"},
		{"negative timeout", nil, []string{"--origin", finesse, "--timeout", "-1s", u}, "timeout"},
		{"missing CA file", nil, []string{"--origin", finesse, "--ca-file", filepath.Join(dir, "nope.pem"), u}, "--ca-file"},
		{"CA file without PEM", nil, []string{"--origin", finesse, "--ca-file", notPEM, u}, "no PEM"},
		{"unknown language", nil, []string{"--origin", finesse, "--lang", "fr", u}, "--lang: language \"fr\" must be en, nl or ko"},
		{"resolve without address", nil, []string{"--origin", finesse, "--resolve", "cuic.example:443", u}, "HOST:PORT:ADDR"},
		{"resolve to a name", nil, []string{"--origin", finesse, "--resolve", "cuic.example:443:cuic2.example", u}, "not an IP address"},
		{"resolve port out of range", nil, []string{"--origin", finesse, "--resolve", "cuic.example:70000:127.0.0.1", u}, "1-65535 or *"},
		{"resolve empty host", nil, []string{"--origin", finesse, "--resolve", ":443:127.0.0.1", u}, "host is empty"},
		{"unknown flag", nil, []string{"--origin", finesse, "--bogus", u}, "bogus"},
		{"unknown flag after URL", nil, []string{u, "--origin", finesse, "--bogus"}, "bogus"},
		{"flag without value", nil, []string{u, "--origin"}, "origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.env, append([]string{"probe"}, tt.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout not empty:\n%s", stdout)
			}
			if !strings.HasPrefix(stderr, "corscheck probe: ") || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr is not one line starting with 'corscheck probe: ': %q", stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", stderr, tt.want)
			}
		})
	}
}

// Every duration flag of every subcommand says, when its value is not a duration, which flag it
// is and what a duration looks like, in one line.
func TestDurationFlagsSayWhatADurationIs(t *testing.T) {
	const form = `: not a duration; use a number with a unit, like 10s or 1m30s`
	for _, args := range [][]string{
		{"probe", "--origin", finesse, "https://cuic.example/", "--timeout", "abc"},
		{"demo", "--monitor-interval", "abc"},
		{"demo", "--flip-after", "abc"},
		{"serve", "--retention", "abc"},
		{"serve", "--monitor-interval", "abc"},
		{"serve", "--monitor-jitter", "abc"},
		{"serve", "--monitor-timeout", "abc"},
	} {
		code, stdout, stderr := runCLI(t, nil, args...)
		want := "corscheck " + args[0] + ": " + args[len(args)-2] + ` "abc"` + form + "\n"
		if code != 2 || stdout != "" || stderr != want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", args, code, stdout, stderr, want)
		}
	}
}

// commandNames are the commands the top-level help lists.
func commandNames(t *testing.T) []string {
	t.Helper()
	_, list, _ := strings.Cut(usage, "Commands:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	var names []string
	for _, line := range strings.Split(list, "\n") {
		names = append(names, strings.Fields(line)[0])
	}
	if len(names) < 5 {
		t.Fatalf("found only the commands %q in the usage", names)
	}
	return names
}

// Every command's help lists its flags one way: --flag VALUE, two dashes and the value in
// capitals, never Go's -flag value.
func TestEveryHelpShowsFlagsWithTwoDashes(t *testing.T) {
	singleDash := regexp.MustCompile(`(?m)^\s+-[^-\s].*$`)
	flagLine := regexp.MustCompile(`(?m)^  --[a-z-]+(?: [A-Z][A-Z:=,]*)?(?:  |$)`)
	for _, name := range commandNames(t) {
		if name == "version" || name == "help" {
			continue // no flags
		}
		code, stdout, stderr := runCLI(t, nil, name, "--help")
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "usage: corscheck "+name) {
			t.Errorf("%s --help: exit %d, stderr %q, stdout %q", name, code, stderr, stdout)
			continue
		}
		if m := singleDash.FindAllString(stdout, -1); m != nil {
			t.Errorf("%s --help shows flags with one dash: %q", name, m)
		}
		if !flagLine.MatchString(stdout) {
			t.Errorf("%s --help lists no flag as --flag VALUE:\n%s", name, stdout)
		}
	}
}

// Every command the usage lists has help: corscheck help X prints what X --help prints.
func TestHelpOfEveryCommand(t *testing.T) {
	for _, name := range commandNames(t) {
		code, stdout, stderr := runCLI(t, nil, "help", name)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "usage: corscheck ") {
			t.Errorf("help %s: exit %d, stderr %q, stdout %q", name, code, stderr, stdout)
			continue
		}
		if name != "help" && !strings.HasPrefix(stdout, "usage: corscheck "+name) {
			t.Errorf("help %s prints another command's help:\n%s", name, stdout)
		}
		code, direct, stderr := runCLI(t, nil, name, "--help")
		if code != 0 || stderr != "" || direct != stdout {
			t.Errorf("%s --help: exit %d, stderr %q, and its help differs from help %s:\n%s", name, code, stderr, name, direct)
		}
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring; "" means stdout must be empty
		stderr string // substring; "" means stderr must be empty
	}{
		{"no arguments", nil, 2, "", "usage: corscheck"},
		{"unknown command", []string{"serve-it"}, 2, "", `unknown command "serve-it"`},
		{"help", []string{"help"}, 0, "usage: corscheck", ""},
		{"--help", []string{"--help"}, 0, "usage: corscheck", ""},
		{"help probe", []string{"help", "probe"}, 0, "corscheck probe [--origin ORIGIN]", ""},
		{"help unknown", []string{"help", "nope"}, 2, "", `unknown command "nope"`},
		{"probe -h", []string{"probe", "-h"}, 0, "Exit status: 0 allowed, 1 blocked by CORS, 3 unreachable, 2 usage error.", ""},
		{"demo --help", []string{"demo", "--help"}, 0, "corscheck demo [--once]", ""},
		{"demo with an argument", []string{"demo", "extra"}, 2, "", "corscheck demo: unexpected argument"},
		{"demo unknown flag", []string{"demo", "--forever"}, 2, "", "corscheck demo: "},
		{"version", []string{"version"}, 0, "corscheck ", ""},
		{"--version", []string{"--version"}, 0, "corscheck ", ""},
		{"version with an argument", []string{"version", "now"}, 2, "", `corscheck version: unexpected argument "now"`},
		{"gadget without its subcommand", []string{"gadget"}, 2, "",
			"corscheck gadget: missing subcommand; the subcommands are: build (corscheck help gadget)\n"},
		{"gadget with an unknown subcommand", []string{"gadget", "make"}, 2, "",
			`corscheck gadget: unknown subcommand "make"; the subcommands are: build (corscheck help gadget)`},
		{"help gadget", []string{"help", "gadget"}, 0, "usage: corscheck gadget build", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			check := func(stream, got, want string) {
				t.Helper()
				if want == "" && got != "" || !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", stream, got, want)
				}
			}
			check("stdout", stdout, tt.stdout)
			check("stderr", stderr, tt.stderr)
		})
	}
}

// summaryLine matches a line of the demo's summary: name, verdict, reason.
var summaryLine = regexp.MustCompile(`(?m)^  (\S+) +(allowed|blocked|unreachable) *(\S*)$`)

func TestDemoOnce(t *testing.T) {
	code, stdout, stderr := runCLI(t, nil, "demo", "--once", "--listen", "127.0.0.1:0")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	got := map[string]string{}
	for _, m := range summaryLine.FindAllStringSubmatch(stdout, -1) {
		got[m[1]] = strings.TrimSpace(m[2] + " " + m[3])
	}
	want := map[string]string{
		"cuicpub":    "allowed",
		"cuicsub":    "blocked PreflightMissingAllowOriginHeader",
		"livedata-a": "blocked PreflightInvalidAllowCredentials",
		"livedata-b": "blocked HeaderDisallowedByPreflightResponse",
		"cuic-dead":  "unreachable refused",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %q", name, got[name], w)
		}
		if !strings.Contains(stdout, "== "+name+" (") {
			t.Errorf("no section for %s", name)
		}
	}
	if len(got) != len(want) {
		t.Errorf("summary has %d targets, want %d:\n%s", len(got), len(want), stdout)
	}
	for _, w := range []string{"utils cuic cors allowed_origin add " + finesse, "--ca-file", "Lab CA certificate"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if strings.Contains(stdout, "Serving the service") {
		t.Error("--once says it keeps serving")
	}
}

// TestDemoHistory runs the demo on a data directory twice: the first run seeds a week of
// synthetic history whose failures are the lab's real ones, the second adds nothing.
func TestDemoHistory(t *testing.T) {
	dir := t.TempDir()
	before := time.Now()
	code, stdout, stderr := runCLI(t, nil, "demo", "--once", "--listen", "127.0.0.1:0", "--data-dir", dir)
	after := time.Now()
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	m := regexp.MustCompile(`(?m)^Seeded (\d+) results of demo history \(a week, synthetic\)$`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no line about the seeded history:\n%s", stdout)
	}
	rs := demoResults(t, dir)
	if m[1] != strconv.Itoa(len(rs)) || len(rs) == 0 {
		t.Fatalf("said %s results, stored %d", m[1], len(rs))
	}

	// The subscriber failed from the "upgrade" two days before the run on; the others fail as
	// the lab does. Every failure's diagnosis carries the prober's real report.
	upgradeFrom, upgradeTo := before.Add(-upgradeAgo), after.Add(-upgradeAgo)
	st := demoStore(t, dir)
	defer st.Close()
	seen := map[string]int{}
	for _, r := range rs {
		if r.GadgetVersion != historyVersion || !strings.HasPrefix(r.AgentID, "demo-agent-") {
			t.Fatalf("result not labelled as demo history: %+v", r)
		}
		if r.ReceivedAt.Before(before.Add(-historySpan)) || r.ReceivedAt.After(after) {
			t.Fatalf("result received at %s, outside the week before the run", r.ReceivedAt)
		}
		name, _, _ := strings.Cut(r.Node, ".")
		want := map[string]string{"cuicpub": "allowed", "livedata-a": "blocked PreflightInvalidAllowCredentials",
			"livedata-b": "blocked HeaderDisallowedByPreflightResponse", "127": "unreachable refused"}[name]
		switch {
		case name == "cuicsub" && r.ReceivedAt.Before(upgradeFrom):
			want = "allowed"
		case name == "cuicsub" && r.ReceivedAt.After(upgradeTo):
			want = "blocked PreflightMissingAllowOriginHeader"
		case name == "cuicsub":
			continue // during the run's own time, either
		}
		seen[name+" "+want]++
		got := r.Verdict
		if r.Verdict != "allowed" {
			ds, err := st.Diagnoses(t.Context(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != 1 {
				t.Fatalf("%s %s at %s: %d diagnoses, want 1", r.Node, r.Verdict, r.ReceivedAt, len(ds))
			}
			var rep probe.Report
			if err := json.Unmarshal(ds[0].Report, &rep); err != nil {
				t.Fatalf("diagnosis of %s: report %q: %v", r.Node, ds[0].Report, err)
			}
			why := string(rep.CorsError)
			if rep.Network != nil {
				why = string(rep.Network.Class)
			}
			if rep.Origin != r.PageOrigin || rep.URL != r.URL || len(rep.Steps) == 0 || store.ReasonOf(&ds[0]) != why {
				t.Fatalf("diagnosis of %s from %s: report of %s from %s, reason %s", r.Node, r.PageOrigin, rep.URL, rep.Origin, why)
			}
			got += " " + why
		}
		if got != want {
			t.Fatalf("%s from %s at %s: %q, want %q", r.Node, r.PageOrigin, r.ReceivedAt, got, want)
		}
	}
	for _, k := range []string{"cuicpub allowed", "cuicsub allowed", "cuicsub blocked PreflightMissingAllowOriginHeader",
		"livedata-a blocked PreflightInvalidAllowCredentials", "127 unreachable refused"} {
		if seen[k] == 0 {
			t.Errorf("no result of %q in the history: %v", k, seen)
		}
	}

	st.Close()

	code, stdout, stderr = runCLI(t, nil, "demo", "--once", "--listen", "127.0.0.1:0", "--data-dir", dir)
	if code != 0 || stderr != "" {
		t.Fatalf("second run: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stdout, "Seeded") {
		t.Error("the second run seeded history again")
	}
	if n := len(demoResults(t, dir)); n != len(rs) {
		t.Errorf("%d results after the second run, want %d", n, len(rs))
	}
}

func TestDemoNoHistory(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, nil, "demo", "--once", "--no-history", "--listen", "127.0.0.1:0", "--data-dir", dir)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stdout, "Seeded") {
		t.Error("--no-history seeded history")
	}
	for _, r := range demoResults(t, dir) {
		if r.GadgetVersion == historyVersion {
			t.Fatalf("--no-history stored demo history: %+v", r)
		}
	}
}

// TestDemoListenTaken: without --listen a taken default address gives way to a free port, and
// the demo says so; an address the user chose is an error when it is taken.
func TestDemoListenTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()

	var out bytes.Buffer
	e, err := startDemo(t.Context(), demoOptions{listen: addr, dataDir: t.TempDir()}, &out, io.Discard)
	if err != nil {
		t.Fatalf("default address taken: %v", err)
	}
	base := e.base
	e.Close()
	if base == "http://"+addr || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("the service is at %s, want a free port on 127.0.0.1 other than %s", base, addr)
	}
	if want := addr + " is taken: the service listens on " + strings.TrimPrefix(base, "http://"); !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}

	code, _, stderr := runCLI(t, nil, "demo", "--once", "--no-history", "--listen", addr)
	if code != 1 || !strings.Contains(stderr, "address already in use") || !strings.Contains(stderr, "--listen") {
		t.Errorf("a chosen address that is taken: exit %d, stderr %q", code, stderr)
	}
}

// demoStore opens the store the demo left in dir; the caller closes it.
func demoStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// demoResults lists every result in the store in dir.
func demoResults(t *testing.T, dir string) []store.Result {
	t.Helper()
	st := demoStore(t, dir)
	defer st.Close()
	all, err := store.All(t.Context(), st, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// syncBuffer is a bytes.Buffer that a running command writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDemoServes runs the demo until cancelled and pastes the command it prints, as a user would.
func TestDemoServes(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"./bin/corscheck", "demo", "--listen", "127.0.0.1:0", "--monitor-interval", "1s", "--flip-after", "2s"},
			func(string) string { return "" }, &out, &errOut)
	}()

	// Serving, the scheduled checks start with the subscriber fixed; it loses its CORS list two
	// seconds later, and the alert of the incident that opens reaches the demo's receiver.
	wait := func(what, text string) {
		t.Helper()
		exited := false
		code := 0
		if !polltest.Until(60*time.Second, func() bool {
			if strings.Contains(out.String(), text) {
				return true
			}
			select {
			case code = <-done:
				exited = true
			default:
			}
			return exited
		}) {
			t.Fatalf("demo: no %s after 60 s:\n%s", what, out.String())
		}
		if exited {
			t.Fatalf("demo exited %d before %s:\n%s%s", code, what, out.String(), errOut.String())
		}
	}
	wait("serving", "Serving the service")
	wait("flip", "the subscriber (cuicsub) just lost its CORS list")
	wait("alert", "incident.opened: incident")
	wait("the subscriber's alert", ": cuicsub.localhost: blocked (was allowed) for "+lab.FinesseOrigin)
	line := ""
	for l := range strings.Lines(out.String()) {
		if s := strings.TrimSpace(l); strings.Contains(s, "corscheck probe ") {
			line = s
		}
	}
	// As make run calls it: the printed command calls the program by the same path.
	args := shellWords(t, line)
	if len(args) < 2 || args[0] != "./bin/corscheck" || args[1] != "probe" {
		t.Fatalf("the printed probe command %q does not start with ./bin/corscheck probe", line)
	}
	code, stdout, stderr := runCLI(t, nil, args[1:]...)
	if code != 1 || !strings.Contains(stdout, "PreflightMissingAllowOriginHeader") {
		t.Errorf("pasted %q: exit %d\n%s%s", line, code, stdout, stderr)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("demo exit %d after interrupt, want 0: %s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo did not stop after its context was cancelled")
	}
}

// shellWords splits a command line the way a POSIX shell splits plain words and single quotes,
// which is all the demo prints.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) < 2 {
		t.Fatalf("not a command: %q", line)
	}
	return words
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://127.0.0.1:8444/cuic/rest/status/", "https://127.0.0.1:8444/cuic/rest/status/"},
		{"locale: en_US", "'locale: en_US'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := shell.Quote(tt.in); got != tt.want {
			t.Errorf("shell.Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// The corscheck binary carries no test machinery: no testing or httptest package and none of
// the project's test helpers (browsertest, pgtest), which a production import of a package that
// also serves tests would drag in.
func TestBinaryLeavesOutTestHelpers(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") || pkg == "net/http/httptest" ||
			(strings.HasPrefix(pkg, "github.com/corsquickcheck/") && strings.HasSuffix(pkg, "test")) {
			t.Errorf("the binary imports %s", pkg)
		}
	}
}

// Packages depend one way: the domain below the advice, the advice below the diagnosis, the
// diagnosis below the service's settings and guards. Each edge here was once taken by
// accident (the target kind lived in fix; config reached the probe through egress for one
// error value).
func TestDependenciesPointOneWay(t *testing.T) {
	const mod = "github.com/corsquickcheck/corscheck/server/"
	never := map[string][]string{
		"cors":    {"probe", "fix", "targets", "store"},
		"targets": {"fix", "probe", "store"},
		"fix":     {"probe", "store"},
		"probe":   {"store", "egress", "config"},
		"egress":  {"probe"},
		"config":  {"probe", "api", "admin"},
	}
	for pkg, banned := range never {
		out, err := exec.Command("go", "list", "-deps", "./server/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps ./server/%s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, b := range banned {
			if slices.Contains(deps, mod+b) {
				t.Errorf("server/%s depends on server/%s", pkg, b)
			}
		}
	}
}
