package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// files reads every file under dir: relative name → content.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// The layout line gadget build prints, and the one in the XML's comment, name the folder the
// gadget is uploaded in, whatever --out looks like.
func TestGadgetBuildLayoutNamesTheFolder(t *testing.T) {
	parent := t.TempDir()
	for _, out := range []string{filepath.Join(parent, "corscheck-gadget"), filepath.Join(parent, "cc-2") + "/",
		filepath.Join(parent, "cc-3", ".")} {
		code, stdout, stderr := runCLI(t, nil, "gadget", "build", "--out", out, "--nodes", "cuic=cuicpub.example.com,cuicsub.example.com")
		if code != 0 || stderr != "" {
			t.Fatalf("--out %s: exit %d, stderr %q", out, code, stderr)
		}
		name := filepath.Base(filepath.Clean(out))
		line := "<gadget>/3rdpartygadget/files/" + name + "/TestCORSgadget.xml?cuic=cuicpub.example.com,cuicsub.example.com</gadget>"
		if !strings.Contains(stdout, "\n  "+line+"\n") {
			t.Errorf("--out %s: the output lacks the layout line %s:\n%s", out, line, stdout)
		}
		// sftp's put -r uploads into a remote folder named after the path's last part.
		if put := regexp.MustCompile(`sftp> put -r (\S+)\n`).FindStringSubmatch(stdout); put == nil || filepath.Base(put[1]) != name {
			t.Errorf("--out %s: the upload line does not end in the folder's name %s:\n%s", out, name, stdout)
		}
		spec, err := os.ReadFile(filepath.Join(out, "TestCORSgadget.xml"))
		if err != nil {
			t.Fatal(err)
		}
		comment, _, _ := strings.Cut(string(spec), "-->")
		if !strings.Contains(comment, "\n    "+line+"\n") {
			t.Errorf("--out %s: the XML's comment lacks the layout line %s:\n%s", out, line, comment)
		}
	}
}

// gadget build writes into a new or empty folder only, unless --force: it then replaces the
// gadget's files and leaves the others.
func TestGadgetBuildRefusesAFolderThatIsNotEmpty(t *testing.T) {
	out := filepath.Join(t.TempDir(), "corscheck-gadget")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	// An empty folder is fine.
	if code, _, stderr := runCLI(t, nil, "gadget", "build", "--out", out, "--service", "https://one.example"); code != 0 {
		t.Fatalf("into an empty folder: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"notes.txt", "messages/mine.js", "messages/en-MINE.js"} {
		if err := os.WriteFile(filepath.Join(out, f), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := files(t, out)
	code, stdout, stderr := runCLI(t, nil, "gadget", "build", "--out", out, "--service", "https://two.example")
	want := "corscheck gadget build: the folder " + out + " is not empty; give --force to replace the gadget's files in it, " +
		"or choose an empty or new folder with --out\n"
	if code != 2 || stdout != "" || stderr != want {
		t.Errorf("into a built folder: exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, want)
	}
	if after := files(t, out); len(after) != len(before) || after["TestCORSgadget.xml"] != before["TestCORSgadget.xml"] {
		t.Errorf("the refused build changed the folder")
	}

	code, _, stderr = runCLI(t, nil, "gadget", "build", "--out", out, "--service", "https://two.example", "--force")
	if code != 0 || stderr != "" {
		t.Fatalf("--force: exit %d, stderr %q", code, stderr)
	}
	after := files(t, out)
	if !strings.Contains(after["TestCORSgadget.xml"], `data-service="https://two.example"`) {
		t.Errorf("--force did not replace TestCORSgadget.xml")
	}
	for _, f := range []string{"notes.txt", "messages/mine.js", "messages/en-MINE.js"} {
		if after[f] != "mine" {
			t.Errorf("--force removed or changed %s, which is not the gadget's", f)
		}
	}
}

// A plain http:// service is built, with a warning: the Finesse desktop is https, and the
// agent's browser blocks the gadget's calls to it as mixed content. Loopback is exempt, as in
// browsers.
func TestGadgetBuildWarnsOfAnHTTPService(t *testing.T) {
	for _, tt := range []struct {
		service string
		warns   bool
	}{
		{"http://corscheck.example.com:8080", true},
		{"http://10.0.0.5", true},
		{"https://corscheck.example.com:8443", false},
		{"http://127.0.0.1:18080", false},
		{"http://localhost:8080", false},
	} {
		out := filepath.Join(t.TempDir(), "g")
		code, _, stderr := runCLI(t, nil, "gadget", "build", "--out", out, "--service", tt.service)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", tt.service, code, stderr)
		}
		if _, err := os.Stat(filepath.Join(out, "gadget.js")); err != nil {
			t.Errorf("%s: the build wrote no gadget: %v", tt.service, err)
		}
		warned := strings.HasPrefix(stderr, "corscheck gadget build: warning: --service "+tt.service+" is plain http") &&
			strings.Contains(stderr, "mixed content") && strings.Contains(stderr, "https://")
		if warned != tt.warns || (!tt.warns && stderr != "") {
			t.Errorf("%s: stderr %q, want a mixed content warning: %v", tt.service, stderr, tt.warns)
		}
	}
}
