package lab

import (
	"bytes"
	"compress/gzip"
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
	"slices"
	"strconv"
	"strings"
)

// The Finesse desktop simulator serves what a Finesse desktop serves to a third-party gadget:
// the desktop page with the gadget in a same-origin iframe, the gadget rendered from its XML as
// Finesse's Shindig container renders it (/gadgets/ifr), the gadget's files under
// /3rdpartygadget/files/ (compressed, as Finesse sends them), and a shim with the small part of
// gadgets.* and finesse.* the gadget uses. It runs on its own origin,
// https://finesse.localhost:PORT, which the lab nodes allow; on the same port it also answers as
// a VPN-less reverse proxy in front of that desktop (ProxyHost) and as another web server that
// hosts the gadget (GadgetHost), for the spec URL forms (SpecForm).

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

// Names the simulator answers for besides SimulatorHost, on its port.
const (
	// ProxyHost plays the VPN-less reverse proxy: agents reach the desktop by this name, while
	// Finesse still names itself in the spec URL.
	ProxyHost = "vpnless.localhost"
	// GadgetHost plays another web server hosting the gadget (the corscheck service at /gadget/,
	// or a customer's own), which answers the desktop's origins with CORS, as module scripts need.
	GadgetHost = "gadgets.localhost"
)

// SpecForm is one form of the spec URL: the layout's gadget URL as Finesse resolved it, which
// Shindig passes to the gadget in the iframe's url parameter (/gadgets/ifr?url=...). The desktop
// page renders the gadget in one form: /desktop?form=NAME.
type SpecForm string

// The spec URL forms the simulator renders; the gadget must start in each.
const (
	FormRelative     SpecForm = "relative"      // /3rdpartygadget/files/TestCORSgadget.xml, the default
	FormAbsolute     SpecForm = "absolute"      // https on the desktop's own origin
	FormInternal     SpecForm = "internal"      // Finesse's internal address, http://localhost:8082/…
	FormInternalFQDN SpecForm = "internal-fqdn" // the same on Finesse's own name: http://finesse.localhost:8082/…
	FormElsewhere    SpecForm = "elsewhere"     // another host: https://gadgets.localhost:PORT/gadget/…
	FormMirror       SpecForm = "mirror"        // another host under /3rdpartygadget/files/mirror/, a folder the desktop lacks
	FormProxy        SpecForm = "proxy"         // the desktop behind the VPN-less proxy, the spec on https://finessep.example:8445
)

// SpecForms lists the forms, the default first.
func SpecForms() []SpecForm {
	return []SpecForm{FormRelative, FormAbsolute, FormInternal, FormInternalFQDN, FormElsewhere, FormMirror, FormProxy}
}

// specURL is the spec URL of a form; port is the simulator's.
func specURL(form SpecForm, port string) string {
	file := "/3rdpartygadget/files/" + GadgetXML
	switch form {
	case FormAbsolute:
		return "https://" + net.JoinHostPort(SimulatorHost, port) + file
	case FormInternal:
		return "http://localhost:8082" + file
	case FormInternalFQDN:
		return "http://" + SimulatorHost + ":8082" + file
	case FormElsewhere:
		return "https://" + net.JoinHostPort(GadgetHost, port) + "/gadget/" + GadgetXML
	case FormMirror:
		return "https://" + net.JoinHostPort(GadgetHost, port) + "/3rdpartygadget/files/mirror/" + GadgetXML
	case FormProxy:
		return FinesseOrigin + file
	}
	return file
}

// locales the simulator offers, as Finesse names them.
var locales = []struct{ Code, Name string }{{"en_US", "English"}, {"nl_NL", "Nederlands"}, {"ko_KR", "한국어"}}

type simulator struct {
	query string // the gadget URL's query, as a layout would give it
	port  string // the port of every name the simulator answers for
	// finesseFiles serves /3rdpartygadget/files/ as Finesse does, elsewhere the other web server.
	finesseFiles, elsewhere http.Handler
}

// newSimulator serves gadget, the gadget's folder (TestCORSgadget.xml, its JS and CSS); origins
// are the desktop's (Finesse's and the proxy's), which GadgetHost allows.
func newSimulator(gadget http.Handler, query, port string, origins []string) *simulator {
	s := &simulator{query: query, port: port}
	s.finesseFiles = http.StripPrefix("/3rdpartygadget/files", compressed{gadget})
	other := http.NewServeMux()
	other.Handle("GET /gadget/", http.StripPrefix("/gadget", gadget))
	other.Handle("GET /3rdpartygadget/files/mirror/", http.StripPrefix("/3rdpartygadget/files/mirror", gadget))
	s.elsewhere = allowOrigins(origins, other)
	return s
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
	mux.Handle("GET /3rdpartygadget/files/", s.finesseFiles)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hostname(r.Host) == GadgetHost {
			s.elsewhere.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// hostname is the host of a Host header, without the port.
func hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// compressed serves files as Finesse serves its 3rdpartygadget folder, where it writes a gzip
// copy (a .gz sibling) of every file: clients that accept gzip get the compressed bytes, with
// Content-Encoding: gzip and the file's own type. Finesse's exact rules (which types, which
// sizes) are not documented; this compresses every file, the case a gadget must survive.
type compressed struct{ files http.Handler }

func (c compressed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.Header.Get("Range") != "" || !strings.Contains(strings.ToLower(r.Header.Get("Accept-Encoding")), "gzip") {
		c.files.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	c.files.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(body)
		zw.Close()
		body = gz.Bytes()
		rec.Header().Set("Content-Encoding", "gzip")
		rec.Header().Add("Vary", "Accept-Encoding")
		rec.Header().Del("Accept-Ranges")
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// allowOrigins answers the given origins with CORS headers, as a server hosting a gadget for
// Finesse desktops must: the browser fetches module scripts in CORS mode.
func allowOrigins(origins []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		if o := r.Header.Get("Origin"); slices.Contains(origins, o) {
			w.Header().Set("Access-Control-Allow-Origin", o)
		}
		next.ServeHTTP(w, r)
	})
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

// desktopQuery is the query of the desktop page for a form and a locale.
func desktopQuery(form SpecForm, locale string) string {
	q := url.Values{"locale": {locale}}
	if form != FormRelative {
		q.Set("form", string(form))
	}
	return q.Encode()
}

func (s *simulator) desktop(w http.ResponseWriter, r *http.Request) {
	loc := locale(r)
	form := SpecForm(r.URL.Query().Get("form"))
	if form == "" {
		form = FormRelative
	}
	if !slices.Contains(SpecForms(), form) {
		http.Error(w, fmt.Sprintf("form must be one of %v", SpecForms()), http.StatusBadRequest)
		return
	}
	// Behind the proxy, agents know the desktop by the proxy's name.
	if form == FormProxy && hostname(r.Host) != ProxyHost {
		http.Redirect(w, r, "https://"+net.JoinHostPort(ProxyHost, s.port)+r.URL.RequestURI(), http.StatusFound)
		return
	}
	gadgetURL := specURL(form, s.port)
	if s.query != "" {
		gadgetURL += "?" + s.query
	}
	ifr := "/gadgets/ifr?" + url.Values{"url": {gadgetURL}, "locale": {loc}, "up_locale": {loc}}.Encode()
	type choice struct {
		Name, Query string
		Current     bool
	}
	var ls, fs []choice
	for _, x := range locales {
		ls = append(ls, choice{x.Name, desktopQuery(form, x.Code), x.Code == loc})
	}
	for _, f := range SpecForms() {
		fs = append(fs, choice{string(f), desktopQuery(f, loc), f == form})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := desktopPage.Execute(w, map[string]any{
		"Lang": strings.Split(loc, "_")[0], "AgentID": SimulatorAgentID, "Extension": SimulatorExtension,
		"Locales": ls, "Forms": fs, "Title": "CORS Quick Check", "IframeURL": template.URL(ifr),
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

// finesseFQDN is the name of the Finesse server in the field case (FinesseOrigin).
var finesseFQDN = strings.Split(strings.TrimPrefix(FinesseOrigin, "https://"), ":")[0]

// specServer is what answers the simulated Finesse server when it fetches a spec URL itself:
// its own files under every name it has (it reaches localhost:8082 and its FQDN, which the
// browser may not), or the other web server; nil for any other host.
func (s *simulator) specServer(u *url.URL) http.Handler {
	switch h := u.Hostname(); h {
	case GadgetHost:
		return s.elsewhere
	case SimulatorHost, ProxyHost, "localhost", finesseFQDN:
		if strings.HasPrefix(u.Path, "/3rdpartygadget/files/") {
			return s.finesseFiles
		}
	}
	return nil
}

// ifr renders the gadget as Shindig does: Finesse fetches the spec URL itself, and serves the
// XML's HTML content in a page of its own, with the container's JavaScript before it and
// relative URLs resolved against the XML's folder.
func (s *simulator) ifr(w http.ResponseWriter, r *http.Request) {
	u, err := url.Parse(r.URL.Query().Get("url"))
	if err == nil {
		u = (&url.URL{Scheme: "https", Host: r.Host}).ResolveReference(u)
	}
	var spec http.Handler
	if err == nil {
		spec = s.specServer(u)
	}
	if spec == nil {
		http.Error(w, "url must be a gadget this simulator can fetch: on "+SimulatorHost+", "+GadgetHost+" or localhost:8082", http.StatusBadRequest)
		return
	}
	rec := httptest.NewRecorder()
	spec.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.Path, nil))
	if rec.Code != http.StatusOK {
		http.Error(w, fmt.Sprintf("gadget XML %s: %d", u, rec.Code), http.StatusBadGateway)
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
	folder := url.URL{Scheme: u.Scheme, Host: u.Host, Path: path.Dir(u.Path) + "/"}
	var b bytes.Buffer
	b.WriteString("<!doctype html><html><head><meta charset=\"utf-8\">")
	fmt.Fprintf(&b, "<base href=\"%s\">", template.HTMLEscapeString(folder.String()))
	// json.Marshal escapes <, > and &, so the JSON cannot end the script element.
	fmt.Fprintf(&b, "<script type=\"application/json\" id=\"simulator-config\">%s</script>", cfg)
	fmt.Fprintf(&b, "<script src=\"https://%s/simulator/shim.js\"></script></head><body>", template.HTMLEscapeString(r.Host))
	b.WriteString(content)
	b.WriteString("</body></html>")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// SimulatorOrigin returns the origin of the desktop simulator (empty when it is not running).
func (l *Lab) SimulatorOrigin() string { return l.simOrigin }

// ProxyOrigin returns the origin of the desktop behind the simulated VPN-less reverse proxy
// (empty when the simulator is not running).
func (l *Lab) ProxyOrigin() string { return l.proxyOrigin }

// DesktopURL returns the simulator's desktop page in a locale (en_US, nl_NL, ko_KR).
func (l *Lab) DesktopURL(locale string) string { return l.FormURL(FormRelative, locale) }

// FormURL returns the simulator's desktop page with the gadget's spec URL in a form, in a locale.
func (l *Lab) FormURL(form SpecForm, locale string) string {
	origin := l.simOrigin
	if form == FormProxy {
		origin = l.proxyOrigin
	}
	return origin + "/desktop?" + desktopQuery(form, locale)
}

// simulatorListener reserves the simulator's port before the nodes start, so that they can
// allow its origin.
func simulatorListener() (ln net.Listener, port string, err error) {
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	return ln, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}
