package simulator_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/labca"
	"github.com/corsquickcheck/corscheck/server/simulator"
)

// fakeGadget is a gadget folder: the XML with a script, and a module.
var fakeGadget = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/" + simulator.GadgetXML:
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<Module><ModulePrefs title="t"/><Content type="html"><![CDATA[<p id="spec">the content</p>]]></Content></Module>`)
	case "/gadget.js":
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, strings.Repeat("export const x = 1;\n", 50))
	default:
		http.NotFound(w, r)
	}
})

// fieldOrigin is Finesse's origin in the field, which the proxy form's spec URL names.
const fieldOrigin = "https://finessep.example:8445"

// startSimulator serves a simulator of fakeGadget over TLS on loopback, and returns a client that
// trusts its certificate and, like a browser, sends names under .localhost to loopback.
func startSimulator(t *testing.T) (*simulator.Simulator, *http.Client) {
	t.Helper()
	ca, err := labca.New(time.Now(), simulator.Hosts())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	sim := simulator.New(simulator.Options{Gadget: fakeGadget, Query: "cuic=a.example", Port: port, FinesseOrigin: fieldOrigin})
	srv.Config.Handler = sim
	srv.TLS = ca.ServerConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var d net.Dialer
	tr := &http.Transport{
		TLSClientConfig:    &tls.Config{RootCAs: ca.Pool()},
		DisableCompression: true, // to see what the server sends
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(client.CloseIdleConnections)
	return sim, client
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
	sim, c := startSimulator(t)
	u := sim.Origin() + "/3rdpartygadget/files/gadget.js"
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
	if resp, _ := get(t, c, sim.Origin()+"/3rdpartygadget/files/missing.js", "Accept-Encoding", "gzip"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing file: %d", resp.StatusCode)
	}
}

// TestSimulatorRendersEveryForm: the desktop page puts each form's spec URL in the iframe, and
// the simulated Finesse fetches each one itself, the internal ones included.
func TestSimulatorRendersEveryForm(t *testing.T) {
	sim, c := startSimulator(t)
	for _, form := range simulator.SpecForms() {
		resp, page := get(t, c, sim.URL(form, "nl_NL"))
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
		if !strings.HasSuffix(spec, "/"+simulator.GadgetXML+"?cuic=a.example") || ifr.Query().Get("up_locale") != "nl_NL" {
			t.Errorf("%s: iframe %s", form, ifr)
		}
		origin := sim.Origin()
		if form == simulator.FormProxy {
			origin = sim.ProxyOrigin()
		}
		resp, content := get(t, c, origin+ifr.String())
		if resp.StatusCode != http.StatusOK || !bytes.Contains(content, []byte(`<p id="spec">the content</p>`)) {
			t.Errorf("%s: /gadgets/ifr: %d %s", form, resp.StatusCode, content)
		}
	}
	// Forms that put the spec elsewhere than on the desktop's origin.
	for form, want := range map[simulator.SpecForm]string{
		simulator.FormInternal: "http://localhost:8082/", simulator.FormInternalFQDN: "http://" + simulator.Host + ":8082/",
		simulator.FormElsewhere: "https://" + simulator.GadgetHost + ":", simulator.FormProxy: fieldOrigin + "/",
	} {
		_, page := get(t, c, sim.URL(form, "en_US"))
		if !bytes.Contains(page, []byte(url.QueryEscape(want))) {
			t.Errorf("%s: the desktop page does not name %s", form, want)
		}
	}
}

// TestSimulatorDesktopChoices: an unknown form is refused; the proxy form is served on the
// proxy's name; the other host answers the desktop's origins with CORS.
func TestSimulatorDesktopChoices(t *testing.T) {
	sim, c := startSimulator(t)
	if resp, _ := get(t, c, sim.Origin()+"/desktop?form=nope"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("form=nope: %d", resp.StatusCode)
	}
	resp, _ := get(t, c, sim.Origin()+"/desktop?form=proxy&locale=ko_KR")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != sim.ProxyOrigin()+"/desktop?form=proxy&locale=ko_KR" {
		t.Errorf("form=proxy on Finesse's name: %d to %q", resp.StatusCode, loc)
	}
	if resp, body := get(t, c, sim.Origin()+"/gadgets/ifr?url="+url.QueryEscape("https://elsewhere.example/x.xml")); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a spec on a host the simulator does not play: %d %s", resp.StatusCode, body)
	}
	other := strings.Replace(sim.Origin(), simulator.Host, simulator.GadgetHost, 1) + "/gadget/gadget.js"
	for origin, want := range map[string]string{sim.Origin(): sim.Origin(), sim.ProxyOrigin(): sim.ProxyOrigin(), "https://evil.example": ""} {
		resp, _ := get(t, c, other, "Origin", origin)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != http.StatusOK || got != want {
			t.Errorf("%s from %s: %d, Access-Control-Allow-Origin %q, want %q", other, origin, resp.StatusCode, got, want)
		}
	}
}

// TestSimulatorDesktopLinks follows each language and Spec URL link of the desktop's top bar, as
// a click does, and finds the page it promises: that language, that form.
func TestSimulatorDesktopLinks(t *testing.T) {
	sim, c := startSimulator(t)
	page := sim.Origin() + "/desktop?locale=en_US"
	_, body := get(t, c, page)
	links := regexp.MustCompile(`<a href="([^"]*)"[^>]*>([^<]*)</a>`).FindAllStringSubmatch(string(body), -1)
	want := map[string]string{"Nederlands": "locale=nl_NL", "한국어": "locale=ko_KR", "absolute": "form=absolute", "internal": "form=internal"}
	for _, l := range links {
		check, ok := want[l[2]]
		if !ok {
			continue
		}
		delete(want, l[2])
		base, _ := url.Parse(page)
		ref, err := url.Parse(html.UnescapeString(l[1]))
		if err != nil {
			t.Fatalf("%s: %v", l[2], err)
		}
		u := base.ResolveReference(ref)
		k, v, _ := strings.Cut(check, "=")
		if got := u.Query().Get(k); got != v {
			t.Errorf("%s links to %s: %s is %q, want %q", l[2], u, k, got, v)
		}
	}
	if len(want) > 0 {
		t.Errorf("links missing from the desktop: %v\n%s", want, string(body))
	}
}
