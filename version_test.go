package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/corsquickcheck/corscheck/gadget"
	"github.com/corsquickcheck/corscheck/server/api"
)

// corscheck version, corscheck --version and the gadget corscheck builds report one version: the
// build's stamp.
func TestVersionIsOneEverywhere(t *testing.T) {
	const stamp = "v1.2.3-4-gabcdef0-dirty" // as make build stamps it from git describe
	old := buildVersion
	buildVersion = stamp
	t.Cleanup(func() { buildVersion = old })
	if version() != stamp {
		t.Fatalf("version() = %q, want the stamp %q", version(), stamp)
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, stderr := runCLI(t, nil, args...)
		if want := "corscheck " + stamp + " " + runtime.Version() + "\n"; code != 0 || stdout != want || stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %q", args, code, stdout, stderr, want)
		}
	}
	out := filepath.Join(t.TempDir(), "corscheck-gadget")
	if code, _, stderr := runCLI(t, nil, "gadget", "build", "--out", out); code != 0 {
		t.Fatalf("gadget build: exit %d: %s", code, stderr)
	}
	js, err := os.ReadFile(filepath.Join(out, "gadget.js"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(js, []byte(`"`+version()+`"`)); n != 1 {
		t.Errorf("the built gadget.js holds %q %d times, want once", version(), n)
	}
	if bytes.Contains(js, []byte(`"devel"`)) {
		t.Errorf("the built gadget.js still holds the sources' version")
	}
}

func TestVersionOf(t *testing.T) {
	for _, tt := range []struct{ stamp, module, want string }{
		{"v1.2.3-4-gabcdef0-dirty", "(devel)", "v1.2.3-4-gabcdef0-dirty"},
		{"3a43d0f", "v1.4.0", "3a43d0f"},
		{"", "v1.4.0", "v1.4.0"},
		{"", "(devel)", "devel"},
		{"", "", "devel"},
		// go build and go install record pseudo-versions; their time goes, their commit stays.
		{"", "v0.0.0-20260213210345-44df1a37e875", "v0.0.0-44df1a37e875"},
		{"", "v0.0.0-20260213210345-44df1a37e875+dirty", "v0.0.0-44df1a37e875+dirty"},
		{"", "v1.2.4-0.20260213210345-44df1a37e875+dirty", "v1.2.4-0.44df1a37e875+dirty"},
		{"", "v1.2.3-rc.1.0.20260213210345-0123456789ab+dirty", "v1.2.3-rc.1.0.0123456789ab+dirty"},
	} {
		got := versionOf(tt.stamp, tt.module)
		if got != tt.want {
			t.Errorf("versionOf(%q, %q) = %q, want %q", tt.stamp, tt.module, got, tt.want)
		}
		if _, err := gadget.Build(gadgetXML, gadget.Options{Version: got}); err != nil {
			t.Errorf("the gadget cannot carry %q: %v", got, err)
		}
	}
}

// The longest version a gadget may carry is one the service keeps: results that carry it are
// not refused.
func TestTheServiceKeepsTheGadgetsVersion(t *testing.T) {
	for _, tt := range []struct {
		version string
		ok      bool
	}{
		{strings.Repeat("v", gadget.MaxVersion), true},
		{"v1.2.3-rc.1.0.0123456789ab+dirty", true},
		{strings.Repeat("v", gadget.MaxVersion+1), false},
	} {
		problems := api.ResultInput{GadgetVersion: tt.version}.Valid()
		if _, refused := problems["gadgetVersion"]; refused == tt.ok {
			t.Errorf("gadgetVersion %q: the service's answer %q, want accepted %v", tt.version, problems["gadgetVersion"], tt.ok)
		}
	}
}
