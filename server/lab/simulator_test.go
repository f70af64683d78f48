package lab_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/lab"
)

// fakeGadget is a gadget folder: the XML with a script, and a module.
var fakeGadget = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/" + lab.GadgetXML:
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<Module><ModulePrefs title="t"/><Content type="html"><![CDATA[<p id="spec">the content</p>]]></Content></Module>`)
	case "/gadget.js":
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, strings.Repeat("export const x = 1;\n", 50))
	default:
		http.NotFound(w, r)
	}
})

func startSimulator(t *testing.T) (*lab.Lab, *http.Client) {
	t.Helper()
	l, err := lab.Start(lab.Options{Gadget: fakeGadget, GadgetQuery: "cuic=a.example"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	tr := labTransport(l)
	tr.DisableCompression = true // to see what the server sends
	client := &http.Client{Timeout: 5 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(client.CloseIdleConnections)
	return l, client
}

func get(t *testing.T, c *http.Client, u string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestSimulatorCompressesLikeFinesse: the gadget's files come gzip-compressed to a client that
// accepts it, as Finesse sends its 3rdpartygadget files, and plain to one that does not.
func TestSimulatorCompressesLikeFinesse(t *testing.T) {
	l, c := startSimulator(t)
	u := l.SimulatorOrigin() + "/3rdpartygadget/files/gadget.js"
	resp, body := get(t, c, u, "Accept-Encoding", "gzip, deflate, br")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("%s: %d, Content-Encoding %q", u, resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/javascript" {
		t.Errorf("Content-Type %q: a module needs the type of the file, not of its gzip copy", ct)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.HasPrefix(plain, []byte("export const x")) || len(body) >= len(plain) {
		t.Errorf("gzip body of %d bytes decodes to %d bytes %q (%v)", len(body), len(plain), plain[:min(20, len(plain))], err)
	}
	resp, body = get(t, c, u)
	if resp.Header.Get("Content-Encoding") != "" || !bytes.HasPrefix(body, []byte("export const x")) {
		t.Errorf("without Accept-Encoding: Content-Encoding %q, body %q", resp.Header.Get("Content-Encoding"), body[:min(20, len(body))])
	}
	if resp, _ := get(t, c, l.SimulatorOrigin()+"/3rdpartygadget/files/missing.js", "Accept-Encoding", "gzip"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing file: %d", resp.StatusCode)
	}
}

// TestSimulatorRendersEveryForm: the desktop page puts each form's spec URL in the iframe, and
// the simulated Finesse fetches each one itself, the internal ones included.
func TestSimulatorRendersEveryForm(t *testing.T) {
	l, c := startSimulator(t)
	for _, form := range lab.SpecForms() {
		resp, page := get(t, c, l.FormURL(form, "nl_NL"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", form, resp.StatusCode, page)
		}
		src := bytes.Split(bytes.SplitN(page, []byte(`<iframe id="gadget" title="CORS Quick Check" src="`), 2)[1], []byte(`"`))[0]
		ifr, err := url.Parse(strings.ReplaceAll(string(src), "&amp;", "&"))
		if err != nil {
			t.Fatal(err)
		}
		spec := ifr.Query().Get("url")
		t.Logf("%s: url=%s", form, spec)
		if !strings.HasSuffix(spec, "/"+lab.GadgetXML+"?cuic=a.example") || ifr.Query().Get("up_locale") != "nl_NL" {
			t.Errorf("%s: iframe %s", form, ifr)
		}
		origin := l.SimulatorOrigin()
		if form == lab.FormProxy {
			origin = l.ProxyOrigin()
		}
		resp, content := get(t, c, origin+ifr.String())
		if resp.StatusCode != http.StatusOK || !bytes.Contains(content, []byte(`<p id="spec">the content</p>`)) {
			t.Errorf("%s: /gadgets/ifr: %d %s", form, resp.StatusCode, content)
		}
	}
	// Forms that put the spec elsewhere than on the desktop's origin.
	for form, want := range map[lab.SpecForm]string{
		lab.FormInternal: "http://localhost:8082/", lab.FormInternalFQDN: "http://" + lab.SimulatorHost + ":8082/",
		lab.FormElsewhere: "https://" + lab.GadgetHost + ":", lab.FormProxy: lab.FinesseOrigin + "/",
	} {
		_, page := get(t, c, l.FormURL(form, "en_US"))
		if !bytes.Contains(page, []byte(url.QueryEscape(want))) {
			t.Errorf("%s: the desktop page does not name %s", form, want)
		}
	}
}

// TestSimulatorDesktopChoices: an unknown form is refused; the proxy form is served on the
// proxy's name; the other host answers the desktop's origins with CORS.
func TestSimulatorDesktopChoices(t *testing.T) {
	l, c := startSimulator(t)
	if resp, _ := get(t, c, l.SimulatorOrigin()+"/desktop?form=nope"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("form=nope: %d", resp.StatusCode)
	}
	resp, _ := get(t, c, l.SimulatorOrigin()+"/desktop?form=proxy&locale=ko_KR")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != l.ProxyOrigin()+"/desktop?form=proxy&locale=ko_KR" {
		t.Errorf("form=proxy on Finesse's name: %d to %q", resp.StatusCode, loc)
	}
	if resp, body := get(t, c, l.SimulatorOrigin()+"/gadgets/ifr?url="+url.QueryEscape("https://elsewhere.example/x.xml")); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a spec on a host the simulator does not play: %d %s", resp.StatusCode, body)
	}
	other := strings.Replace(l.SimulatorOrigin(), lab.SimulatorHost, lab.GadgetHost, 1) + "/gadget/gadget.js"
	for origin, want := range map[string]string{l.SimulatorOrigin(): l.SimulatorOrigin(), l.ProxyOrigin(): l.ProxyOrigin(), "https://evil.example": ""} {
		resp, _ := get(t, c, other, "Origin", origin)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != http.StatusOK || got != want {
			t.Errorf("%s from %s: %d, Access-Control-Allow-Origin %q, want %q", other, origin, resp.StatusCode, got, want)
		}
	}
}
