// Package gadget builds the Finesse gadget's folder from the browser code in this directory: the
// gadget XML with the service URL and the start-up script (start.js) filled in, the JS modules
// bundled and minified with a chunk per message catalog (loaded only for the user's language),
// and the CSS minified; all in Go with esbuild's API, so no Node is needed to build. The same
// folder is what `corscheck gadget build` writes for upload to Finesse's 3rdpartygadget/files/
// and what `corscheck serve` serves for externally hosted use.
package gadget

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base32"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/evanw/esbuild/pkg/api"
)

//go:embed *.js *.css messages/*.js
var sources embed.FS

// XMLName is the gadget's file name; a layout refers to it.
const XMLName = "TestCORSgadget.xml"

// ServicePlaceholder in the XML is replaced by the service URL (empty: no service).
const ServicePlaceholder = "__CORSCHECK_SERVICE__"

// StartPlaceholder in the XML is replaced by the start-up script: start.js, bundled and minified.
const StartPlaceholder = "__CORSCHECK_START__"

// LayoutPlaceholder in the XML's comment is replaced by the <gadget> element of a layout that
// loads the gadget from where it is uploaded (LayoutSnippet).
const LayoutPlaceholder = "__CORSCHECK_LAYOUT__"

// Folder is a built gadget: file name (slash-separated, relative) → content.
type Folder map[string][]byte

// versionDeclaration is how check.js declares the version the gadget reports: "devel" in the
// sources, which the build replaces with the version it is given.
const versionDeclaration = "export const GADGET_VERSION = 'devel';"

// MaxVersion is the longest version a gadget may report: the service keeps at most 32 bytes of
// a result's gadgetVersion (server/api). The size budget is measured with a version this long.
const MaxVersion = 32

// validVersion is what a version may hold: it goes into gadget.js as a string and to the
// service as printable text.
var validVersion = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+_-]*$`)

// embedded makes esbuild read the gadget's sources from the binary, not the disk, with version
// in check.js's versionDeclaration.
func embedded(version string) api.Plugin {
	return api.Plugin{Name: "embedded", Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: `.*`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			p := a.Path
			if a.Importer != "" {
				p = path.Join(path.Dir(a.Importer), a.Path)
			}
			return api.OnResolveResult{Path: path.Clean("/" + p), Namespace: "gadget"}, nil
		})
		b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "gadget"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			src, err := sources.ReadFile(strings.TrimPrefix(a.Path, "/"))
			if err != nil {
				return api.OnLoadResult{}, err
			}
			text := string(src)
			if a.Path == "/check.js" {
				if strings.Count(text, versionDeclaration) != 1 {
					return api.OnLoadResult{}, fmt.Errorf("check.js must declare %s once", versionDeclaration)
				}
				// The version holds only characters that need no escaping in a JS string.
				text = strings.Replace(text, versionDeclaration, "export const GADGET_VERSION = '"+version+"';", 1)
			}
			loader := api.LoaderJS
			if path.Ext(a.Path) == ".css" {
				loader = api.LoaderCSS
			}
			return api.OnLoadResult{Contents: &text, Loader: loader}, nil
		})
	}}
}

// jsTarget is the JavaScript the gadget is written in and shipped as: ES2022 (Object.hasOwn,
// class fields), which the browsers of Finesse desktops have had since 2021 (Chrome and Edge 93,
// Firefox 92, Safari 15.4). The build lowers no syntax below it and adds no polyfill, so the
// code must use nothing newer (TestGadgetUsesNothingNewerThanItsTarget).
const jsTarget = api.ES2022

// Options are what a build puts into the gadget.
type Options struct {
	// Service is the URL of the corscheck service the gadget reports to; "" for a gadget
	// without a service.
	Service string
	// Version is the version the gadget reports with its results and in its Copy report:
	// corscheck's own, at most MaxVersion letters, digits and . + _ -.
	Version string
	// Folder is the folder under 3rdpartygadget/files/ the gadget is uploaded to ("" for files/
	// itself), and Nodes the layout's default nodes as a query ("cuic=a.example,b.example"):
	// the XML's comment shows LayoutSnippet(Folder, Nodes), the layout line gadget build prints.
	Folder, Nodes string
	// Hosted, when set, is the spec's absolute URL where corscheck serve hosts the gadget
	// (PUBLIC-URL/gadget/TestCORSgadget.xml): the XML's comment then shows the layout line that
	// loads it from there instead.
	Hosted string
}

// validFolder is a folder name that works in the gadget's URL and in the XML's comment, where
// "--" may not stand.
var validFolder = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// Build makes the folder from the gadget XML (the top-level TestCORSgadget.xml).
func Build(gadgetXML []byte, opt Options) (Folder, error) {
	if len(opt.Version) > MaxVersion || !validVersion.MatchString(opt.Version) {
		return nil, fmt.Errorf("version %q must be 1 to %d letters, digits, '.', '+', '_' or '-' (the service keeps %d bytes of it)",
			opt.Version, MaxVersion, MaxVersion)
	}
	if opt.Folder != "" && (!validFolder.MatchString(opt.Folder) || strings.Contains(opt.Folder, "--")) {
		return nil, fmt.Errorf("folder name %q: use letters, digits, '.', '_' and single '-' (it goes into the gadget's URL)", opt.Folder)
	}
	serviceURL := opt.Service
	if serviceURL != "" {
		u, err := targets.ParseURL(serviceURL)
		if err == nil && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "") {
			err = errors.New("must have no query or fragment")
		}
		if err != nil {
			return nil, fmt.Errorf("service URL %q %v", serviceURL, err)
		}
		serviceURL = strings.TrimSuffix(u.String(), "/")
	}
	for _, p := range []string{ServicePlaceholder, StartPlaceholder, LayoutPlaceholder} {
		if !bytes.Contains(gadgetXML, []byte(p)) {
			return nil, fmt.Errorf("%s has no %s placeholder", XMLName, p)
		}
	}
	title, err := checkXML(gadgetXML)
	if err != nil {
		return nil, err
	}
	out := Folder{}
	js := api.Build(api.BuildOptions{
		EntryPoints: []string{"gadget.js", "gadget.css"}, Bundle: true, Splitting: true,
		Format: api.FormatESModule, Target: jsTarget, Charset: api.CharsetUTF8,
		MinifyWhitespace: true, MinifyIdentifiers: true, MinifySyntax: true,
		Outdir: "/", ChunkNames: "messages/[name]-[hash]", Write: false, LegalComments: api.LegalCommentsNone,
		Plugins: []api.Plugin{embedded(opt.Version)},
	})
	if len(js.Errors) > 0 {
		return nil, fmt.Errorf("bundle gadget: %s", js.Errors[0].Text)
	}
	for _, f := range js.OutputFiles {
		out[strings.TrimPrefix(filepath.ToSlash(f.Path), "/")] = f.Contents
	}
	start, err := out.startScript(title, opt.Version)
	if err != nil {
		return nil, err
	}
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(serviceURL))
	// An XML comment may not hold "--", which a node's IDN name can (xn--…): the comment then
	// shows the layout without the nodes.
	layout := LayoutSnippet(opt.Folder, opt.Nodes)
	if opt.Hosted != "" {
		var u bytes.Buffer
		xml.EscapeText(&u, []byte(opt.Hosted))
		layout = "<gadget>" + u.String() + "</gadget>"
	}
	if strings.Contains(layout, "--") {
		layout = LayoutSnippet(opt.Folder, "")
	}
	out[XMLName] = []byte(strings.NewReplacer(ServicePlaceholder, esc.String(), StartPlaceholder, string(start),
		LayoutPlaceholder, layout).Replace(string(gadgetXML)))
	if _, err := checkXML(out[XMLName]); err != nil {
		return nil, err
	}
	return out, nil
}

// StampedURL is the URL of a file of the folder relative to the folder, stamped with a hash of
// its content (name?v=HASH), so that a browser never takes an earlier version from its cache:
// the XML names gadget.js and gadget.css so.
func (f Folder) StampedURL(name string) string {
	sum := sha256.Sum256(f[name])
	return name + "?v=" + base32.StdEncoding.EncodeToString(sum[:])[:8]
}

// startFailed finds a catalog's startFailed message: one quoted string without escapes.
var startFailed = regexp.MustCompile(`(?m)^\s*startFailed: (?:'([^'\\\n]*)'|"([^"\\\n]*)"),?\s*$`)

// startScript bundles start.js into the script that starts the gadget, for the XML's content,
// with the stamped URLs of gadget.js and gadget.css, the gadget's title and each catalog's
// startFailed message (the catalogs themselves lie next to gadget.js, which is what may have
// failed to load).
func (f Folder) startScript(title, version string) ([]byte, error) {
	messages := map[string]string{}
	catalogs, err := fs.Glob(sources, "messages/*.js")
	if err != nil {
		return nil, err
	}
	for _, name := range catalogs {
		src, err := sources.ReadFile(name)
		if err != nil {
			return nil, err
		}
		m := startFailed.FindSubmatch(src)
		if m == nil {
			return nil, fmt.Errorf("%s has no startFailed message in quotes without escapes", name)
		}
		messages[strings.TrimSuffix(path.Base(name), ".js")] = string(m[1]) + string(m[2])
	}
	// json.Marshal escapes <, > and &, so the values cannot end the script or the CDATA section.
	cfg, err := json.Marshal(map[string]any{
		"js": f.StampedURL("gadget.js"), "css": f.StampedURL("gadget.css"), "title": title, "messages": messages,
	})
	if err != nil {
		return nil, err
	}
	b := api.Build(api.BuildOptions{
		Stdin: &api.StdinOptions{Contents: "import { start } from './start.js';\nstart(window, document, " + string(cfg) + ");\n",
			Sourcefile: "start-entry.js", ResolveDir: "/"},
		Bundle: true, Format: api.FormatIIFE, Target: jsTarget, Charset: api.CharsetUTF8,
		MinifyWhitespace: true, MinifyIdentifiers: true, MinifySyntax: true, Write: false,
		LegalComments: api.LegalCommentsNone, Plugins: []api.Plugin{embedded(version)},
	})
	if len(b.Errors) > 0 {
		return nil, fmt.Errorf("bundle start.js: %s", b.Errors[0].Text)
	}
	if len(b.OutputFiles) != 1 {
		return nil, fmt.Errorf("bundle start.js: %d files, want 1", len(b.OutputFiles))
	}
	script := bytes.TrimSpace(b.OutputFiles[0].Contents)
	// The script sits in a <script> element inside the XML's CDATA section, where Shindig
	// replaces __UP_name__ and __MSG_name__.
	for _, bad := range []string{"]]>", "</script", "__UP_", "__MSG_"} {
		if bytes.Contains(bytes.ToLower(script), []byte(strings.ToLower(bad))) {
			return nil, fmt.Errorf("bundle start.js: the script contains %q", bad)
		}
	}
	return script, nil
}

// checkXML makes sure the spec parses and requires what Finesse requires of a gadget, and
// returns the gadget's title.
func checkXML(b []byte) (title string, err error) {
	var m struct {
		Prefs struct {
			Title    string `xml:"title,attr"`
			Requires []struct {
				Feature string `xml:"feature,attr"`
			} `xml:"Require"`
		} `xml:"ModulePrefs"`
	}
	if err := xml.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("%s: %w", XMLName, err)
	}
	var have []string
	for _, r := range m.Prefs.Requires {
		have = append(have, r.Feature)
	}
	for _, f := range []string{"pubsub-2", "setprefs"} {
		if !slices.Contains(have, f) {
			return "", fmt.Errorf("%s must require feature %s (Finesse needs it)", XMLName, f)
		}
	}
	return m.Prefs.Title, nil
}

// LoadedBytes is what one browser loads of the gadget's own JS and CSS, minified: gadget.js,
// gadget.css and one message catalog (the largest). The product's budget is 20 KB.
func (f Folder) LoadedBytes() int {
	largest := 0
	for name, b := range f {
		if strings.HasPrefix(name, "messages/") {
			largest = max(largest, len(b))
		}
	}
	return len(f["gadget.js"]) + len(f["gadget.css"]) + largest
}

// Names lists the files in a stable order.
func (f Folder) Names() []string {
	var names []string
	for n := range f {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// oldChunk matches the name of a message chunk a build writes (ChunkNames messages/[name]-[hash]:
// a language, then esbuild's 8-character hash), so that a rebuild removes an earlier build's
// chunks and nothing else.
var oldChunk = regexp.MustCompile(`^[a-z]{2,3}-[A-Z0-9]{8}\.js$`)

// Write writes the folder under dir: files 644 and folders 755 whatever the umask (Finesse
// answers 404 for files below 644), and removes message chunks of an earlier build, whose names
// carry another content hash.
func (f Folder) Write(dir string) error {
	old, _ := filepath.Glob(filepath.Join(dir, "messages", "*.js"))
	for _, p := range old {
		if _, keep := f[filepath.ToSlash(filepath.Join("messages", filepath.Base(p)))]; !keep && oldChunk.MatchString(filepath.Base(p)) {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	for _, name := range f.Names() {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Chmod(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f[name], 0o644); err != nil {
			return err
		}
		if err := os.Chmod(p, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ServeHTTP serves the folder, for the simulator and for externally hosted gadgets.
func (f Folder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	b, ok := f[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".xml":
		ct = "application/xml; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// LayoutSnippet is the <gadget> element to add to a Finesse desktop layout for the gadget
// uploaded in folder (under 3rdpartygadget/files/; "" for the top); query holds default nodes
// (e.g. "cuic=cuicpub.example.com,cuicsub.example.com").
func LayoutSnippet(folder, query string) string {
	u := "/3rdpartygadget/files/" + XMLName
	if folder = strings.Trim(folder, "/"); folder != "" {
		u = "/3rdpartygadget/files/" + folder + "/" + XMLName
	}
	if query != "" {
		u += "?" + query
	}
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(u))
	return "<gadget>" + esc.String() + "</gadget>"
}
