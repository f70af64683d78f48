package gadget

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// maxBytes is the product requirement: the gadget's own JS and CSS stay under 20 KB minified,
// counting what a browser loads: gadget.js, gadget.css and one message catalog (the largest).
const maxBytes = 20000

const testService = "https://corscheck.example:8443"

// testVersion is as long as a version may be (MaxVersion), so that the size budget holds for any
// version: what corscheck makes of the pseudo-version v1.2.3-rc.1.0.20260213210345-0123456789ab+dirty.
const testVersion = "v1.2.3-rc.1.0.0123456789ab+dirty"

func build(t *testing.T, service string) Folder {
	t.Helper()
	return buildWith(t, Options{Service: service, Version: testVersion})
}

func buildWith(t *testing.T, opt Options) Folder {
	t.Helper()
	spec, err := os.ReadFile("../" + XMLName)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Build(spec, opt)
	if err != nil {
		t.Fatalf("Build(%+v): %v", opt, err)
	}
	return f
}

func TestBuildStaysUnder20KB(t *testing.T) {
	if len(testVersion) != MaxVersion {
		t.Fatalf("testVersion has %d bytes, not the %d a version may have", len(testVersion), MaxVersion)
	}
	f := build(t, testService)
	js, css := len(f["gadget.js"]), len(f["gadget.css"])
	if js == 0 || css == 0 {
		t.Fatalf("the folder lacks gadget.js or gadget.css: %v", f.Names())
	}
	largest, largestName := 0, ""
	for _, lang := range []string{"en", "nl", "ko"} {
		name := ""
		for _, n := range f.Names() {
			if strings.HasPrefix(n, "messages/"+lang+"-") && strings.HasSuffix(n, ".js") {
				name = n
			}
		}
		if name == "" {
			t.Fatalf("no message catalog chunk for %s: %v", lang, f.Names())
		}
		t.Logf("%s: %d bytes", name, len(f[name]))
		if len(f[name]) > largest {
			largest, largestName = len(f[name]), name
		}
	}
	total := js + css + largest
	if f.LoadedBytes() != total {
		t.Errorf("LoadedBytes() = %d, want %d", f.LoadedBytes(), total)
	}
	t.Logf("gadget.js %d + gadget.css %d + %s %d = %d bytes (at most %d)", js, css, largestName, largest, total, maxBytes)
	if total > maxBytes {
		t.Errorf("gadget.js, gadget.css and the largest catalog are %d bytes minified, over the %d the gadget may have", total, maxBytes)
	}
}

func TestBuildFillsInTheService(t *testing.T) {
	for _, service := range []string{testService, testService + "/"} {
		spec := build(t, service)[XMLName]
		if spec == nil {
			t.Fatalf("Build(%q): the folder has no %s", service, XMLName)
		}
		if bytes.Contains(spec, []byte(ServicePlaceholder)) {
			t.Errorf("Build(%q): %s still holds %s", service, XMLName, ServicePlaceholder)
		}
		if want := `data-service="` + testService + `"`; !bytes.Contains(spec, []byte(want)) {
			t.Errorf("Build(%q): %s lacks %s", service, XMLName, want)
		}
	}
	// Without a service the placeholder becomes empty: browser verdicts only.
	if spec := build(t, "")[XMLName]; bytes.Contains(spec, []byte(ServicePlaceholder)) || !bytes.Contains(spec, []byte(`data-service=""`)) {
		t.Errorf("Build without a service: data-service is not empty")
	}
}

func TestBuildRejectsABadServiceURL(t *testing.T) {
	spec, err := os.ReadFile("../" + XMLName)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"corscheck.example:8443", "ftp://corscheck.example", "https://", "https://corscheck.example/?x=1",
		"https://corscheck.example/#top", "javascript:alert(1)", "https://corscheck.example/\x7f",
		"https://corscheck.example/?", "https://u:p@corscheck.example/", "https://corscheck.example:99999/",
		"https://corscheck.example/\u202e",
	} {
		if _, err := Build(spec, Options{Service: bad, Version: testVersion}); err == nil {
			t.Errorf("Build accepted the service URL %q", bad)
		}
	}
	if _, err := Build([]byte(`<Module><ModulePrefs/></Module>`), Options{Service: testService, Version: testVersion}); err == nil {
		t.Error("Build accepted a gadget XML without the service placeholder")
	}
}

// The gadget reports the version it is built with, in its results and its Copy report: the
// built gadget.js holds it once, in place of the sources' "devel".
func TestBuildCarriesTheVersion(t *testing.T) {
	for _, v := range []string{"v1.2.3", "3a43d0f-dirty", testVersion} {
		js := buildWith(t, Options{Version: v})["gadget.js"]
		if n := bytes.Count(js, []byte(`"`+v+`"`)); n != 1 {
			t.Errorf("%s: gadget.js holds %q %d times, want once", v, v, n)
		}
		if bytes.Contains(js, []byte(`"devel"`)) {
			t.Errorf("%s: gadget.js still holds the sources' version \"devel\"", v)
		}
	}
	if js := buildWith(t, Options{Version: "devel"})["gadget.js"]; bytes.Count(js, []byte(`"devel"`)) != 1 {
		t.Errorf("devel: gadget.js does not hold it once")
	}
}

// A version goes into gadget.js as a string and to the service, which keeps MaxVersion bytes of
// it: anything else is refused.
func TestBuildRefusesABadVersion(t *testing.T) {
	spec, err := os.ReadFile("../" + XMLName)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", testVersion + "x", "v1 2", "v1'", `v1"`, "v1\\", "</script>", "v1\n", "-v1",
		"1.0\u2060", "v1.0é"} {
		if _, err := Build(spec, Options{Service: testService, Version: bad}); err == nil || !strings.Contains(err.Error(), "version") {
			t.Errorf("Build accepted the version %q (%v)", bad, err)
		}
	}
}

// The XML's comment shows the layout line for where the folder is uploaded: the one gadget build
// prints.
func TestBuildShowsTheLayoutInTheXMLComment(t *testing.T) {
	comment := func(spec []byte) string {
		_, c, _ := strings.Cut(string(spec), "<!--")
		c, _, _ = strings.Cut(c, "-->")
		return c
	}
	for _, tt := range []struct {
		folder, nodes, want string
	}{
		{"corscheck-gadget", "cuic=cuicpub.example.com,cuicsub.example.com&livedata=ld.example.com",
			"<gadget>/3rdpartygadget/files/corscheck-gadget/TestCORSgadget.xml?cuic=cuicpub.example.com,cuicsub.example.com&amp;livedata=ld.example.com</gadget>"},
		{"cc_1.2", "", "<gadget>/3rdpartygadget/files/cc_1.2/TestCORSgadget.xml</gadget>"},
		{"", "", "<gadget>/3rdpartygadget/files/TestCORSgadget.xml</gadget>"},
		// A comment may not hold "--": an IDN node's name leaves the nodes out of it.
		{"g", "cuic=xn--bcher-kva.example", "<gadget>/3rdpartygadget/files/g/TestCORSgadget.xml</gadget>"},
	} {
		spec := buildWith(t, Options{Version: testVersion, Folder: tt.folder, Nodes: tt.nodes})[XMLName]
		if c := comment(spec); !strings.Contains(c, "\n    "+tt.want+"\n") {
			t.Errorf("folder %q, nodes %q: the comment lacks the line %s:\n%s", tt.folder, tt.nodes, tt.want, c)
		}
		if bytes.Contains(spec, []byte(LayoutPlaceholder)) {
			t.Errorf("folder %q: %s still holds %s", tt.folder, XMLName, LayoutPlaceholder)
		}
		if !strings.Contains(tt.nodes, "--") {
			if got := LayoutSnippet(tt.folder, tt.nodes); got != tt.want {
				t.Errorf("LayoutSnippet(%q, %q) = %s, the comment shows %s", tt.folder, tt.nodes, got, tt.want)
			}
		}
	}
	spec, err := os.ReadFile("../" + XMLName)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"my gadget", "my--gadget", ".", "..", ".hidden", "a/b", "gadgét", "-x", "a?b"} {
		if _, err := Build(spec, Options{Version: testVersion, Folder: bad}); err == nil || !strings.Contains(err.Error(), "folder") {
			t.Errorf("Build accepted the folder name %q (%v)", bad, err)
		}
	}
}

func TestWriteModesAndStaleChunks(t *testing.T) {
	f := build(t, testService)
	dir := t.TempDir()
	stale := filepath.Join(dir, "messages", "en-OLDHASH2.js")
	mine := filepath.Join(dir, "messages", "en-mine.js") // not a chunk's name: not the build's to remove
	os.MkdirAll(filepath.Dir(stale), 0o700)
	os.WriteFile(stale, []byte("old"), 0o600)
	os.WriteFile(mine, []byte("mine"), 0o600)
	old := syscall.Umask(0o077)
	err := f.Write(dir)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a message chunk of an earlier build is still there")
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file that is no chunk of a build was removed: %v", err)
	}
	for _, name := range f.Names() {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v (%v), want 0644 for Finesse", name, st.Mode().Perm(), err)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "messages")); st.Mode().Perm() != 0o755 {
		t.Errorf("messages/: mode %v, want 0755", st.Mode().Perm())
	}
}

// TestBuildStampsTheGadgetFiles: the XML's start-up script names gadget.js and gadget.css with a
// hash of their content, so a browser that has an earlier version cached fetches the new one.
func TestBuildStampsTheGadgetFiles(t *testing.T) {
	f := build(t, testService)
	spec := string(f[XMLName])
	if strings.Contains(spec, StartPlaceholder) {
		t.Fatalf("%s still holds %s", XMLName, StartPlaceholder)
	}
	for _, name := range []string{"gadget.js", "gadget.css"} {
		stamped := f.StampedURL(name)
		if !regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `\?v=[A-Z2-7]{8}$`).MatchString(stamped) {
			t.Errorf("StampedURL(%q) = %q", name, stamped)
		}
		if !strings.Contains(spec, `"`+stamped+`"`) {
			t.Errorf("%s does not name %s", XMLName, stamped)
		}
		changed := Folder{name: append(bytes.Clone(f[name]), ' ')}
		if changed.StampedURL(name) == stamped {
			t.Errorf("%s: another content, the same stamp %s", name, stamped)
		}
	}
	// The catalogs must not import gadget.js back: under its stamped URL and its plain one, the
	// browser would run two copies.
	for _, name := range f.Names() {
		if strings.HasPrefix(name, "messages/") && bytes.Contains(f[name], []byte("gadget.js")) {
			t.Errorf("%s imports gadget.js", name)
		}
	}
}

// TestBuildPutsTheStartMessagesInTheXML: the start-up script says in every language that the
// gadget could not start; the catalogs hold those messages.
func TestBuildPutsTheStartMessagesInTheXML(t *testing.T) {
	spec := build(t, testService)[XMLName]
	for _, lang := range []string{"en", "nl", "ko"} {
		src, err := sources.ReadFile("messages/" + lang + ".js")
		if err != nil {
			t.Fatal(err)
		}
		m := startFailed.FindSubmatch(src)
		if m == nil {
			t.Fatalf("messages/%s.js: no startFailed", lang)
		}
		want, _ := json.Marshal(string(m[1]) + string(m[2]))
		if !bytes.Contains(spec, []byte(lang+`:`+string(want))) {
			t.Errorf("%s lacks the %s message %s", XMLName, lang, want)
		}
	}
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{`  startFailed: 'could not start:',`, true},
		{`  startFailed: "n'a pas démarré :",`, true},
		{`  startFailed: 'it didn\'t start',`, false},
		{`  startFailed: 'no end,`, false},
		{`  // startFailed: 'commented out',`, false},
	} {
		if got := startFailed.MatchString(tc.line); got != tc.ok {
			t.Errorf("%s: matched %v, want %v", tc.line, got, tc.ok)
		}
	}
}
