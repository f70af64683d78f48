// Package gadget builds the Finesse gadget's folder from the browser code in this directory: the
// gadget XML with the service URL filled in, the JS modules bundled and minified with a chunk per
// message catalog (loaded only for the user's language), and the CSS minified; all in Go with
// esbuild's API, so no Node is needed to build. The same folder is what `corscheck gadget build` writes for upload to
// Finesse's 3rdpartygadget/files/ and what `corscheck serve` serves for externally hosted use.
package gadget

import (
	"bytes"
	"embed"
	"encoding/xml"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/evanw/esbuild/pkg/api"
)

//go:embed *.js *.css messages/*.js
var sources embed.FS

// XMLName is the gadget's file name; a layout refers to it.
const XMLName = "TestCORSgadget.xml"

// ServicePlaceholder in the XML is replaced by the service URL (empty: no service).
const ServicePlaceholder = "__CORSCHECK_SERVICE__"

// Folder is a built gadget: file name (slash-separated, relative) → content.
type Folder map[string][]byte

// embedded makes esbuild read the gadget's sources from the binary, not the disk.
var embedded = api.Plugin{Name: "embedded", Setup: func(b api.PluginBuild) {
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
		loader := api.LoaderJS
		if path.Ext(a.Path) == ".css" {
			loader = api.LoaderCSS
		}
		return api.OnLoadResult{Contents: &text, Loader: loader}, nil
	})
}}

// Build makes the folder from the gadget XML (the top-level TestCORSgadget.xml) and the service
// URL the gadget reports to ("" for a gadget without a service).
func Build(gadgetXML []byte, serviceURL string) (Folder, error) {
	if serviceURL != "" {
		u, err := url.Parse(serviceURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("service URL %q must be an absolute http(s) URL without query", serviceURL)
		}
		serviceURL = strings.TrimSuffix(u.String(), "/")
	}
	if !bytes.Contains(gadgetXML, []byte(ServicePlaceholder)) {
		return nil, fmt.Errorf("%s has no %s placeholder for the service URL", XMLName, ServicePlaceholder)
	}
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(serviceURL))
	out := Folder{XMLName: bytes.ReplaceAll(gadgetXML, []byte(ServicePlaceholder), esc.Bytes())}
	if err := checkXML(out[XMLName]); err != nil {
		return nil, err
	}
	js := api.Build(api.BuildOptions{
		EntryPoints: []string{"gadget.js", "gadget.css"}, Bundle: true, Splitting: true,
		Format: api.FormatESModule, Target: api.ES2020, Charset: api.CharsetUTF8,
		MinifyWhitespace: true, MinifyIdentifiers: true, MinifySyntax: true,
		Outdir: "/", ChunkNames: "messages/[name]-[hash]", Write: false, LegalComments: api.LegalCommentsNone,
		Plugins: []api.Plugin{embedded},
	})
	if len(js.Errors) > 0 {
		return nil, fmt.Errorf("bundle gadget: %s", js.Errors[0].Text)
	}
	for _, f := range js.OutputFiles {
		out[strings.TrimPrefix(filepath.ToSlash(f.Path), "/")] = f.Contents
	}
	return out, nil
}

// checkXML makes sure the spec parses and requires what Finesse requires of a gadget.
func checkXML(b []byte) error {
	var m struct {
		Prefs struct {
			Requires []struct {
				Feature string `xml:"feature,attr"`
			} `xml:"Require"`
		} `xml:"ModulePrefs"`
	}
	if err := xml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %w", XMLName, err)
	}
	var have []string
	for _, r := range m.Prefs.Requires {
		have = append(have, r.Feature)
	}
	for _, f := range []string{"pubsub-2", "setprefs"} {
		if !slices.Contains(have, f) {
			return fmt.Errorf("%s must require feature %s (Finesse needs it)", XMLName, f)
		}
	}
	return nil
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

// Write writes the folder under dir: files 644 and folders 755 whatever the umask (Finesse
// answers 404 for files below 644), and removes message chunks of an earlier build, whose names
// carry another content hash.
func (f Folder) Write(dir string) error {
	old, _ := filepath.Glob(filepath.Join(dir, "messages", "*.js"))
	for _, p := range old {
		if _, keep := f[filepath.ToSlash(filepath.Join("messages", filepath.Base(p)))]; !keep {
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
