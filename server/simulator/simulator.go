// Package simulator is the Finesse desktop simulator: it serves what a Finesse desktop serves to
// a third-party gadget, so that the gadget runs on loopback as it runs in Finesse. That is the
// desktop page with the gadget in a same-origin iframe, the gadget rendered from its XML as
// Finesse's Shindig container renders it (/gadgets/ifr), the gadget's files under
// /3rdpartygadget/files/ (compressed, as Finesse sends them), and a shim with the small part of
// gadgets.* and finesse.* the gadget uses. It answers on one port for its own origin,
// https://finesse.localhost:PORT (Host); on the same port it also answers as a VPN-less reverse
// proxy in front of that desktop (ProxyHost) and as another web server that hosts the gadget
// (GadgetHost), for the spec URL forms (SpecForm). The lab (server/lab) serves it over TLS next
// to its nodes, which allow its origins.
package simulator

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
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
)

//go:embed files/*
var files embed.FS

var desktopPage = template.Must(template.ParseFS(files, "files/desktop.html"))

// Host is the simulator's own host name: the Finesse desktop's.
const Host = "finesse.localhost"

// Desktop user of the simulator.
const (
	AgentID   = "1001"
	Extension = "5001"
	Role      = "Agent"
	// GadgetXML is the gadget's file name in Finesse's 3rdpartygadget folder.
	GadgetXML = "TestCORSgadget.xml"
)

// Names the simulator answers for besides Host, on its port.
const (
	// ProxyHost plays the VPN-less reverse proxy: agents reach the desktop by this name, while
	// Finesse still names itself in the spec URL.
	ProxyHost = "vpnless.localhost"
	// GadgetHost plays another web server hosting the gadget (the corscheck service at /gadget/,
	// or a customer's own), which answers the desktop's origins with CORS, as module scripts need.
	GadgetHost = "gadgets.localhost"
)

// Hosts are the names the simulator answers for, which its server certificate must cover.
func Hosts() []string { return []string{Host, ProxyHost, GadgetHost} }

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

// specURL is the spec URL of a form.
func (s *Simulator) specURL(form SpecForm) string {
	port := s.opt.Port
	file := "/3rdpartygadget/files/" + GadgetXML
	switch form {
	case FormAbsolute:
		return s.Origin() + file
	case FormInternal:
		return "http://localhost:8082" + file
	case FormInternalFQDN:
		return "http://" + Host + ":8082" + file
	case FormElsewhere:
		return "https://" + net.JoinHostPort(GadgetHost, port) + "/gadget/" + GadgetXML
	case FormMirror:
		return "https://" + net.JoinHostPort(GadgetHost, port) + "/3rdpartygadget/files/mirror/" + GadgetXML
	case FormProxy:
		return s.opt.FinesseOrigin + file
	}
	return file
}

// locales the simulator offers, as Finesse names them.
var locales = []struct{ Code, Name string }{{"en_US", "English"}, {"nl_NL", "Nederlands"}, {"ko_KR", "한국어"}}

// Options configure a simulator.
type Options struct {
	// Gadget serves the gadget's folder: TestCORSgadget.xml, its JS and CSS.
	Gadget http.Handler
	// Query is the query of the gadget's URL in the simulated layout (default nodes).
	Query string
	// Port is the port the simulator is served on, under every name it answers for.
	Port string
	// FinesseOrigin is Finesse's own origin in the field, which the spec URL names when the
	// desktop is reached through the VPN-less proxy (FormProxy).
	FinesseOrigin string
}

// Simulator is the desktop simulator, an http.Handler for every name it answers for.
type Simulator struct {
	opt     Options
	handler http.Handler
	// finesseFiles serves /3rdpartygadget/files/ as Finesse does, elsewhere the other web server.
	finesseFiles, elsewhere http.Handler
}

// New makes a simulator; serve it over TLS on opt.Port with a certificate for Hosts.
func New(opt Options) *Simulator {
	s := &Simulator{opt: opt}
	s.finesseFiles = http.StripPrefix("/3rdpartygadget/files", compressed{opt.Gadget})
	other := http.NewServeMux()
	other.Handle("GET /gadget/", http.StripPrefix("/gadget", opt.Gadget))
	other.Handle("GET /3rdpartygadget/files/mirror/", http.StripPrefix("/3rdpartygadget/files/mirror", opt.Gadget))
	s.elsewhere = allowOrigins(s.Origins(), other)
	s.handler = s.routes()
	return s
}

func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Origin is the desktop's origin.
func (s *Simulator) Origin() string { return "https://" + net.JoinHostPort(Host, s.opt.Port) }

// ProxyOrigin is the desktop's origin behind the simulated VPN-less reverse proxy.
func (s *Simulator) ProxyOrigin() string { return "https://" + net.JoinHostPort(ProxyHost, s.opt.Port) }

// Origins are the origins the gadget's requests carry: the desktop's, directly and through the
// proxy.
func (s *Simulator) Origins() []string { return []string{s.Origin(), s.ProxyOrigin()} }

// URL is the desktop page with the gadget's spec URL in a form, in a locale (en_US, nl_NL,
// ko_KR).
func (s *Simulator) URL(form SpecForm, locale string) string {
	origin := s.Origin()
	if form == FormProxy {
		origin = s.ProxyOrigin()
	}
	return origin + "/desktop?" + desktopQuery(form, locale)
}

func (s *Simulator) routes() http.Handler {
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
			http.ServeFileFS(w, r, files, "files/"+name)
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
	rec := newBuffered()
	c.files.ServeHTTP(rec, r)
	body := rec.body.Bytes()
	if rec.code == http.StatusOK {
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
	w.WriteHeader(rec.code)
	w.Write(body)
}

// buffered is a response kept in memory, for a handler whose answer the simulator rewrites
// (compressed) or reads itself (the spec URL that Finesse fetches).
type buffered struct {
	header http.Header
	code   int // 0 until the handler sets one or writes
	body   bytes.Buffer
}

func newBuffered() *buffered { return &buffered{header: http.Header{}} }

func (b *buffered) Header() http.Header { return b.header }

func (b *buffered) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *buffered) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
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

func (s *Simulator) desktop(w http.ResponseWriter, r *http.Request) {
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
		http.Redirect(w, r, s.ProxyOrigin()+r.URL.RequestURI(), http.StatusFound)
		return
	}
	gadgetURL := s.specURL(form)
	if s.opt.Query != "" {
		gadgetURL += "?" + s.opt.Query
	}
	ifr := "/gadgets/ifr?" + url.Values{"url": {gadgetURL}, "locale": {loc}, "up_locale": {loc}}.Encode()
	// A choice links to the desktop with another locale or form. Href is a whole URL made by
	// url.Values.Encode, so the template must not escape it again as one query component (that
	// turned ?locale=nl_NL into ?locale%3dnl_NL).
	type choice struct {
		Name    string
		Href    template.URL
		Current bool
	}
	var ls, fs []choice
	for _, x := range locales {
		ls = append(ls, choice{x.Name, template.URL("/desktop?" + desktopQuery(form, x.Code)), x.Code == loc})
	}
	for _, f := range SpecForms() {
		fs = append(fs, choice{string(f), template.URL("/desktop?" + desktopQuery(f, loc)), f == form})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := desktopPage.Execute(w, map[string]any{
		"Lang": strings.Split(loc, "_")[0], "AgentID": AgentID, "Extension": Extension,
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

// specServer is what answers the simulated Finesse server when it fetches a spec URL itself:
// its own files under every name it has (it reaches localhost:8082 and its FQDN, which the
// browser may not), or the other web server; nil for any other host.
func (s *Simulator) specServer(u *url.URL) http.Handler {
	finesse, _ := url.Parse(s.opt.FinesseOrigin)
	switch h := u.Hostname(); h {
	case GadgetHost:
		return s.elsewhere
	case Host, ProxyHost, "localhost", finesse.Hostname():
		if strings.HasPrefix(u.Path, "/3rdpartygadget/files/") {
			return s.finesseFiles
		}
	}
	return nil
}

// ifr renders the gadget as Shindig does: Finesse fetches the spec URL itself, and serves the
// XML's HTML content in a page of its own, with the container's JavaScript before it and
// relative URLs resolved against the XML's folder.
func (s *Simulator) ifr(w http.ResponseWriter, r *http.Request) {
	u, err := url.Parse(r.URL.Query().Get("url"))
	if err == nil {
		u = (&url.URL{Scheme: "https", Host: r.Host}).ResolveReference(u)
	}
	var spec http.Handler
	if err == nil {
		spec = s.specServer(u)
	}
	if spec == nil {
		http.Error(w, "url must be a gadget this simulator can fetch: on "+Host+", "+GadgetHost+" or localhost:8082", http.StatusBadRequest)
		return
	}
	specReq, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.EscapedPath(), nil)
	if err != nil {
		http.Error(w, "url: "+err.Error(), http.StatusBadRequest)
		return
	}
	rec := newBuffered()
	spec.ServeHTTP(rec, specReq)
	if rec.code != http.StatusOK {
		http.Error(w, fmt.Sprintf("gadget XML %s: %d", u, rec.code), http.StatusBadGateway)
		return
	}
	var m gadgetModule
	if err := xml.Unmarshal(rec.body.Bytes(), &m); err != nil {
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
	cfg, _ := json.Marshal(map[string]string{"locale": locale(r), "agentId": AgentID,
		"extension": Extension, "role": Role})
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
