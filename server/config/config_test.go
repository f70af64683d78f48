package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(file, []byte(`{"listen":"127.0.0.1:1","dataDir":"from-file","origins":["https://file.example"],"retention":"1h"}`), 0o600)
	c, err := Load([]string{"--config", file, "--listen", "127.0.0.1:3"},
		env(map[string]string{"CORSCHECK_LISTEN": "127.0.0.1:2", "CORSCHECK_DATA_DIR": "from-env"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:3" || c.DataDir != "from-env" || c.Origins[0] != "https://file.example" || c.Retention != time.Hour {
		t.Fatalf("flags > env > file broken: %+v", c)
	}
	d, err := Load(nil, env(nil), io.Discard)
	if err != nil || d.Listen != ":8080" || d.DataDir != "data" || d.Retention != 90*24*time.Hour {
		t.Fatalf("defaults: %+v %v", d, err)
	}
}

func TestInvalidSettingsAreAllReported(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"bad listen", []string{"--listen", "8080"}, nil, []string{"listen"}},
		{"origin with path", []string{"--origins", "https://finesse.example:8445/desktop"}, nil, []string{"origin"}},
		{"db not postgres", []string{"--db", "mysql://x"}, nil, []string{"postgres://"}},
		{"short password", []string{"--admin-password", "short"}, nil, []string{"12 characters"}},
		{"bad retention", nil, map[string]string{"CORSCHECK_RETENTION": "forever"}, []string{"CORSCHECK_RETENTION", "duration"}},
		{"cert without key", []string{"--tls-cert", "x.pem"}, nil, []string{"go together"}},
		{"bad net", []string{"--allow-nets", "10.0.0.0/33"}, nil, []string{"allow-nets"}},
		{"bad trust-proxy", []string{"--trust-proxy=maybe"}, nil, []string{"trust-proxy"}},
		{"missing config file", []string{"--config", "/nonexistent.json"}, nil, []string{"config file"}},
		{"stray argument", []string{"extra"}, nil, []string{"unexpected argument"}},
		{"bidi control in the public URL", []string{"--public-url", "https://corscheck\u202e.example.com"}, nil, []string{"public-url"}},
		{"public URL not http(s)", []string{"--public-url", "ftp://corscheck.example.com"}, nil, []string{"public-url", "absolute http(s) URL"}},
		{"public URL port out of range", []string{"--public-url", "https://corscheck.example.com:99999"}, nil, []string{"public-url", "ports run from 1 to 65535"}},
		{"zero-width space in an origin", []string{"--origins", "https://finesse\u200bp.example:8445"}, nil, []string{"origin"}},
		{"two problems at once", []string{"--listen", "x", "--log-format", "xml"}, nil, []string{"listen", "log-format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, env(tt.env), io.Discard)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// Every duration setting, from a flag, the environment or the file, says when it is not one in
// the words of every duration flag of corscheck, naming where it was set.
func TestDurationErrorsNameWhereTheyWereSet(t *testing.T) {
	const form = `: not a duration; use a number with a unit, like 10s or 1m30s`
	file := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(file, []byte(`{"monitorTimeout":"10"}`), 0o600)
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--monitor-interval", "abc"}, nil, `--monitor-interval "abc"` + form},
		{[]string{"--retention=90days"}, nil, `--retention "90days"` + form},
		{nil, map[string]string{"CORSCHECK_MONITOR_JITTER": "5"}, `CORSCHECK_MONITOR_JITTER "5"` + form},
		{[]string{"--config", file}, nil, "config file " + file + `: monitorTimeout "10"` + form},
	} {
		if _, err := Load(tt.args, env(tt.env), io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q %v: error %v, want %s", tt.args, tt.env, err, tt.want)
		}
	}
}

func TestUnknownFileField(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(file, []byte(`{"listn":":1"}`), 0o600)
	if _, err := Load([]string{"--config", file}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "listn") {
		t.Fatalf("unknown field not named: %v", err)
	}
}

func TestBareBooleanFlag(t *testing.T) {
	c, err := Load([]string{"--trust-proxy", "--listen", "127.0.0.1:1"}, env(nil), io.Discard)
	if err != nil || !c.TrustProxy || c.Listen != "127.0.0.1:1" {
		t.Fatalf("bare --trust-proxy: %+v %v", c, err)
	}
}

func TestParseAndValidationErrorsTogether(t *testing.T) {
	_, err := Load([]string{"--retention", "5d", "--listen", "x"}, env(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "retention") || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("want both problems, got %v", err)
	}
}

// The configuration file is read with the strict decoder: the audit found it lax.
func TestConfigFileIsStrict(t *testing.T) {
	for _, tt := range []struct{ name, text, want string }{
		{"key in another case", `{"Listen":":1"}`, `Listen: unknown field`},
		{"Unicode-folded key", `{"truſtProxy":true}`, `truſtProxy: unknown field`},
		{"duplicate key", `{"listen":":1","listen":":2"}`, `listen: appears twice`},
		{"invalid UTF-8", "{\"publicUrl\":\"https://a\xff.example\"}", `publicUrl: is not valid UTF-8`},
		{"trailing data", `{"listen":":1"} {"listen":":2"}`, `more text after`},
		{"wrong type", `{"origins":"https://a.example"}`, `origins: must be an array, not a string`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.json")
			os.WriteFile(file, []byte(tt.text), 0o600)
			_, err := Load([]string{"--config", file}, env(nil), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), file) {
				t.Fatalf("error %v, want one naming the file and %q", err, tt.want)
			}
		})
	}
}

// Every secret can come from a file (CORSCHECK_…_FILE or --…-file), as containers and
// systemd's credentials hand them over.
func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o600)
		return p
	}
	password := write("password", "a password from a file\n")
	dsn := write("db", "postgres://corscheck:s3cret@db.example/corscheck\r\n")
	token := write("token", "a metrics token of some length")
	c, err := Load(nil, env(map[string]string{"CORSCHECK_ADMIN_PASSWORD_FILE": password, "CORSCHECK_DB_FILE": dsn,
		"CORSCHECK_METRICS_TOKEN_FILE": token}), io.Discard)
	if err != nil || c.AdminPassword != "a password from a file" || c.DB != "postgres://corscheck:s3cret@db.example/corscheck" ||
		c.MetricsToken != "a metrics token of some length" {
		t.Fatalf("from the environment: %+v %v", c, err)
	}
	c, err = Load([]string{"--admin-password-file", password, "--metrics-token-file", token}, env(nil), io.Discard)
	if err != nil || c.AdminPassword != "a password from a file" || c.MetricsToken != "a metrics token of some length" {
		t.Fatalf("from flags: %+v %v", c, err)
	}
	// A flag wins over the environment, a file or not.
	c, err = Load([]string{"--admin-password", "a password on the command line"},
		env(map[string]string{"CORSCHECK_ADMIN_PASSWORD_FILE": password}), io.Discard)
	if err != nil || c.AdminPassword != "a password on the command line" {
		t.Fatalf("flag over env file: %+v %v", c, err)
	}
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"value and file in the environment", nil, map[string]string{"CORSCHECK_ADMIN_PASSWORD": "another password",
			"CORSCHECK_ADMIN_PASSWORD_FILE": password}, "CORSCHECK_ADMIN_PASSWORD and CORSCHECK_ADMIN_PASSWORD_FILE are both set"},
		{"value and file as flags", []string{"--db", "postgres://x", "--db-file", dsn}, nil, "--db and --db-file are both set"},
		{"missing file", nil, map[string]string{"CORSCHECK_ADMIN_PASSWORD_FILE": filepath.Join(dir, "nope")}, "CORSCHECK_ADMIN_PASSWORD_FILE"},
		{"empty file", []string{"--metrics-token-file", write("empty", "\n")}, nil, "is empty"},
		{"short password in a file", []string{"--admin-password-file", write("short", "short")}, nil, "12 characters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, env(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if strings.Contains(fmt.Sprint(err), "s3cret") || strings.Contains(fmt.Sprint(err), "a password from a file") {
				t.Fatalf("the error shows a secret: %v", err)
			}
		})
	}
}

// A secret file ending in two line breaks kept one: the secret silently held a newline. Every
// CR and LF at the end goes.
func TestSecretFileLineBreaks(t *testing.T) {
	dir := t.TempDir()
	for i, text := range []string{"a password of some length\n\n", "a password of some length\r\n\r\n",
		"a password of some length\n\r\n\r", "a password of some length"} {
		p := filepath.Join(dir, fmt.Sprint(i))
		os.WriteFile(p, []byte(text), 0o600)
		c, err := Load([]string{"--admin-password-file", p}, env(nil), io.Discard)
		if err != nil || c.AdminPassword != "a password of some length" {
			t.Errorf("file %q: password %q, %v", text, c.AdminPassword, err)
		}
	}
	p := filepath.Join(dir, "breaks only")
	os.WriteFile(p, []byte("\r\n\n"), 0o600)
	if _, err := Load([]string{"--admin-password-file", p}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("a file of line breaks: %v", err)
	}
}

func TestMetricsSettings(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--metrics-token", "short"}, "--metrics-token (CORSCHECK_METRICS_TOKEN) must be at least 16"},
		{[]string{"--metrics-listen", "9090"}, "metrics-listen"},
		{[]string{"--metrics-listen", ":8080"}, "must differ from listen"},
	} {
		if _, err := Load(tt.args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
	c, err := Load([]string{"--metrics-listen", "127.0.0.1:9090", "--metrics-token", "sixteen chars ok"}, env(nil), io.Discard)
	if err != nil || c.MetricsListen != "127.0.0.1:9090" || c.MetricsToken != "sixteen chars ok" {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestMonitorSettings(t *testing.T) {
	d, err := Load(nil, env(nil), io.Discard)
	if err != nil || d.MonitorInterval != 5*time.Minute || d.IncidentAfter != 2 || d.MonitorConcurrency != 16 ||
		d.MonitorTimeout != 10*time.Second || len(d.AlertTo) != 0 {
		t.Fatalf("defaults: %+v %v", d, err)
	}
	file := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(file, []byte(`{"monitorInterval":"1m","monitorJitter":"5s","monitorTimeout":"3s","monitorConcurrency":4,
		"incidentAfter":3,"alertTo":["slack+https://hooks.slack.com/services/T/B/x"],"alertAllowNets":["10.0.0.25/32"]}`), 0o600)
	c, err := Load([]string{"--config", file, "--monitor-interval", "0"}, env(map[string]string{
		"CORSCHECK_ALERT_TO": "https://hooks.example.com/a,smtp://mail.example.com?from=a@example.com&to=b@example.com"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MonitorInterval != 0 || c.MonitorJitter != 5*time.Second || c.MonitorTimeout != 3*time.Second ||
		c.MonitorConcurrency != 4 || c.IncidentAfter != 3 || len(c.AlertTo) != 2 || c.AlertAllowNets[0] != "10.0.0.25/32" {
		t.Fatalf("settings: %+v", c)
	}
	// A receiver's URL is a secret: it may come from a file.
	secret := filepath.Join(t.TempDir(), "alert-to")
	os.WriteFile(secret, []byte("teams+https://example.logic.azure.com/workflows/x?sig=s3cr3t\n"), 0o600)
	if c, err := Load([]string{"--alert-to-file", secret}, env(nil), io.Discard); err != nil || len(c.AlertTo) != 1 {
		t.Fatalf("--alert-to-file: %+v %v", c.AlertTo, err)
	}

	_, err = Load([]string{"--monitor-interval", "500ms", "--monitor-timeout", "2m", "--monitor-concurrency", "0",
		"--incident-after", "many", "--alert-to", "ftp://files.example.com/s3cr3t,https://x.example.com/ok",
		"--alert-allow-nets", "10.0.0.0/33"}, env(map[string]string{"CORSCHECK_MONITOR_JITTER": "soon"}), io.Discard)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"--monitor-interval (CORSCHECK_MONITOR_INTERVAL) must be 0 (off) or at least 1s", "--monitor-timeout (CORSCHECK_MONITOR_TIMEOUT) must be between",
		"--monitor-concurrency (CORSCHECK_MONITOR_CONCURRENCY) must be between", `incident-after "many" is not a whole number`,
		`CORSCHECK_MONITOR_JITTER "soon": not a duration; use a number with a unit, like 10s or 1m30s`, `--alert-to[0] (CORSCHECK_ALERT_TO): alert receiver files.example.com: scheme "ftp"`,
		"alert-allow-nets"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("the error shows a receiver's secret: %v", err)
	}
}

// The re-test got 10 characters of a secret quoted: {"adminPassword":"\ud800abcdefghijkl"} gave
// `adminPassword: invalid surrogate pair \`\ud800abcdef\` in string`. An error about a secret
// names the file and the key, never the value.
func TestConfigFileErrorsNeverQuoteASecret(t *testing.T) {
	for _, key := range []string{"adminPassword", "db", "metricsToken", "alertTo"} {
		for _, value := range []string{`"\ud800abcdefghijkl"`, `"abcdef\qghijkl"`, "\"abcdef\nghijkl\"", `abcdefghijkl`,
			`"abcdef\u00zzghijkl"`, `"abcdef\\` + "\x01" + `ghijkl"`} {
			file := filepath.Join(t.TempDir(), "c.json")
			os.WriteFile(file, []byte(`{"`+key+`":`+value+`}`), 0o600)
			_, err := Load([]string{"--config", file}, env(nil), io.Discard)
			if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), key+": ") {
				t.Fatalf("%s %s: error %v, want one naming the file and the key", key, value, err)
			}
			for _, part := range []string{"abc", "ghi", "'a'", "00zz"} {
				if strings.Contains(err.Error(), part) {
					t.Errorf("%s %s: the error quotes the secret: %v", key, value, err)
				}
			}
		}
	}
}

func TestDiagnoseConcurrencySetting(t *testing.T) {
	if c, err := Load(nil, env(nil), io.Discard); err != nil || c.DiagnoseConcurrency != 8 {
		t.Fatalf("default: %d %v", c.DiagnoseConcurrency, err)
	}
	if c, err := Load(nil, env(map[string]string{"CORSCHECK_DIAGNOSE_CONCURRENCY": "3"}), io.Discard); err != nil || c.DiagnoseConcurrency != 3 {
		t.Fatalf("from the environment: %d %v", c.DiagnoseConcurrency, err)
	}
	for _, tt := range []struct{ value, want string }{
		{"0", "--diagnose-concurrency (CORSCHECK_DIAGNOSE_CONCURRENCY) must be from 1 to 1000"},
		{"1001", "--diagnose-concurrency (CORSCHECK_DIAGNOSE_CONCURRENCY) must be from 1 to 1000"},
		{"many", `diagnose-concurrency "many" is not a whole number`},
	} {
		if _, err := Load([]string{"--diagnose-concurrency", tt.value}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.value, err, tt.want)
		}
	}
}

// TestHelpShowsDefaults: serve --help gives each setting's default, taken from Defaults(), so
// the help cannot drift from what the service does.
func TestHelpShowsDefaults(t *testing.T) {
	var help strings.Builder
	if _, err := Load([]string{"--help"}, func(string) string { return "" }, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	text := strings.Join(strings.Fields(help.String()), " ")
	for _, want := range []string{
		"(env CORSCHECK_LISTEN) (default :8080)", "(env CORSCHECK_MONITOR_INTERVAL) (default 5m)",
		"(env CORSCHECK_RETENTION) (default 2160h)", "(env CORSCHECK_RESULTS_RATE) (default 50)",
		"(env CORSCHECK_LOG_FORMAT) (default text)", "(env CORSCHECK_DIAGNOSE_CONCURRENCY) (default 8)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("help lacks %q:\n%s", want, help.String())
		}
	}
	if strings.Contains(text, "CORSCHECK_DB) (default") || strings.Contains(text, "CORSCHECK_ADMIN_PASSWORD) (default") {
		t.Errorf("help gives a default to a setting that has none:\n%s", help.String())
	}
}
