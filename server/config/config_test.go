package config

import (
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
