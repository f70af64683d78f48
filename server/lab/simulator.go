package lab

import (
	"bytes"
	"embed"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// The Finesse desktop simulator serves what a Finesse desktop serves to a third-party gadget:
// the desktop page with the gadget in a same-origin iframe, the gadget rendered from its XML as
// Finesse's Shindig container renders it (/gadgets/ifr), the gadget's files under
// /3rdpartygadget/files/, and a shim with the small part of gadgets.* and finesse.* the gadget
// uses. It runs on its own origin, https://finesse.localhost:PORT, which the lab nodes allow.

//go:embed simulator/*
var simulatorFiles embed.FS

var desktopPage = template.Must(template.ParseFS(simulatorFiles, "simulator/desktop.html"))

// Desktop user of the simulator.
const (
	SimulatorAgentID   = "1001"
	SimulatorExtension = "5001"
	SimulatorRole      = "Agent"
	// GadgetXML is the gadget's file name in Finesse's 3rdpartygadget folder.
	GadgetXML = "TestCORSgadget.xml"
)

// locales the simulator offers, as Finesse names them.
var locales = []struct{ Code, Name string }{{"en_US", "English"}, {"nl_NL", "Nederlands"}, {"ko_KR", "한국어"}}

type simulator struct {
	gadget http.Handler // serves the gadget's folder: TestCORSgadget.xml, its JS and CSS
	query  string       // the gadget URL's query, as a layout would give it
}

func (s *simulator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/desktop", http.StatusFound)
	})
	mux.HandleFunc("GET /desktop", s.desktop)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /gadgets/ifr", s.ifr)
	script := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			http.ServeFileFS(w, r, simulatorFiles, "simulator/"+name)
		}
	}
	mux.HandleFunc("GET /simulator/shim.js", script("shim.js"))
	// Where Finesse serves finesse.js and the jQuery it needs.
	mux.HandleFunc("GET /desktop/assets/js/finesse.min.js", script("finesse.min.js"))
	mux.HandleFunc("GET /desktop/assets/js/jquery.min.js", script("jquery.min.js"))
	mux.Handle("GET /3rdpartygadget/files/", http.StripPrefix("/3rdpartygadget/files", s.gadget))
	return mux
}

func locale(r *http.Request) string {
	l := r.URL.Query().Get("locale")
	for _, x := range locales {
		if x.Code == l {
			return l
		}
	}
	return "en_US"
}

func (s *simulator) desktop(w http.ResponseWriter, r *http.Request) {
	loc := locale(r)
	gadgetURL := "/3rdpartygadget/files/" + GadgetXML
	if s.query != "" {
		gadgetURL += "?" + s.query
	}
	ifr := "/gadgets/ifr?" + url.Values{"url": {gadgetURL}, "locale": {loc}}.Encode()
	type loc2 struct {
		Code, Name string
		Current    bool
	}
	var ls []loc2
	for _, x := range locales {
		ls = append(ls, loc2{x.Code, x.Name, x.Code == loc})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := desktopPage.Execute(w, map[string]any{
		"Lang": strings.Split(loc, "_")[0], "AgentID": SimulatorAgentID, "Extension": SimulatorExtension,
		"Locales": ls, "Title": "CORS Quick Check", "IframeURL": template.URL(ifr),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// gadgetModule is the part of an OpenSocial gadget spec the simulator reads.
type gadgetModule struct {
	Prefs struct {
		Title    string `xml:"title,attr"`
		Requires []struct {
			Feature string `xml:"feature,attr"`
		} `xml:"Require"`
	} `xml:"ModulePrefs"`
	Content []struct {
		Type string `xml:"type,attr"`
		View string `xml:"view,attr"`
		Body string `xml:",chardata"`
	} `xml:"Content"`
}

// ifr renders the gadget as Shindig does: the XML's HTML content in a page of its own, with the
// container's JavaScript before it and relative URLs resolved against the XML's folder.
func (s *simulator) ifr(w http.ResponseWriter, r *http.Request) {
	u, err := url.Parse(r.URL.Query().Get("url"))
	if err != nil || u.IsAbs() || !strings.HasPrefix(u.Path, "/3rdpartygadget/files/") {
		http.Error(w, "url must be a gadget under /3rdpartygadget/files/", http.StatusBadRequest)
		return
	}
	rec := httptest.NewRecorder()
	s.gadget.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, strings.TrimPrefix(u.Path, "/3rdpartygadget/files"), nil))
	if rec.Code != http.StatusOK {
		http.Error(w, fmt.Sprintf("gadget XML %s: %d", u.Path, rec.Code), http.StatusBadGateway)
		return
	}
	var m gadgetModule
	if err := xml.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		http.Error(w, "gadget XML: "+err.Error(), http.StatusBadGateway)
		return
	}
	var content string
	for _, c := range m.Content {
		if c.Type == "html" && (c.View == "" || strings.Contains(c.View, "default")) {
			content = c.Body
		}
	}
	if content == "" {
		http.Error(w, "gadget XML has no html Content", http.StatusBadGateway)
		return
	}
	// Shindig replaces __UP_name__ with the user preference's value.
	host, port, _ := net.SplitHostPort(r.Host)
	content = strings.NewReplacer("__UP_scheme__", "https", "__UP_host__", host, "__UP_hostPort__", port,
		"__UP_locale__", locale(r)).Replace(content)
	cfg, _ := json.Marshal(map[string]string{"locale": locale(r), "agentId": SimulatorAgentID,
		"extension": SimulatorExtension, "role": SimulatorRole})
	var b bytes.Buffer
	b.WriteString("<!doctype html><html><head><meta charset=\"utf-8\">")
	fmt.Fprintf(&b, "<base href=\"%s\">", template.HTMLEscapeString(path.Dir(u.Path)+"/"))
	// json.Marshal escapes <, > and &, so the JSON cannot end the script element.
	fmt.Fprintf(&b, "<script type=\"application/json\" id=\"simulator-config\">%s</script>", cfg)
	b.WriteString("<script src=\"/simulator/shim.js\"></script></head><body>")
	b.WriteString(content)
	b.WriteString("</body></html>")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// SimulatorOrigin returns the origin of the desktop simulator (empty when it is not running).
func (l *Lab) SimulatorOrigin() string { return l.simOrigin }

// DesktopURL returns the simulator's desktop page in a locale (en_US, nl_NL, ko_KR).
func (l *Lab) DesktopURL(locale string) string {
	return l.simOrigin + "/desktop?locale=" + url.QueryEscape(locale)
}

// simulatorListener reserves the simulator's port before the nodes start, so that they can
// allow its origin.
func simulatorListener() (net.Listener, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	return ln, "https://" + net.JoinHostPort(SimulatorHost, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)), nil
}
