// Package lab runs demo targets on loopback that reproduce the field cases CORS Quick Check was
// built for: a CUIC publisher that allows the Finesse origin, a subscriber where it was never
// added, Live Data nodes with half a CORS configuration, and a node that is down. Nodes of one
// product share an HTTPS port, as in the field, and are told apart by host name
// (<name>.localhost); the certificate comes from a CA made in memory (server/labca). With a
// gadget it also serves the Finesse desktop simulator (server/simulator), whose origins its
// nodes allow. The demo command and the tests use it instead of Cisco servers.
//
// A node can be switched while the lab runs (Set): to allowing, as once its CORS list is
// complete, back to its field case, as after an upgrade that lost the list, or down.
package lab

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/labca"
	"github.com/corsquickcheck/corscheck/server/simulator"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// FinesseOrigin is the origin of the Finesse desktop in the field case: what the gadget's
// requests carry in their Origin header, and what the lab's healthy nodes allow.
const FinesseOrigin = "https://finessep.example:8445"

// The agent whose Basic credentials the gadget-shaped request carries.
const (
	AgentUser     = "agent"
	AgentPassword = "secret"
)

// Target is one lab node as a user would enter it in the gadget.
type Target struct {
	Name     string       // short node name, e.g. "cuicsub"
	Kind     targets.Kind // which product it plays
	URL      string       // what to test on it
	Describe string       // the field case it reproduces, in a sentence
}

// Options configure a lab.
type Options struct {
	// Origins the healthy nodes allow; default FinesseOrigin alone. A desktop simulator on
	// another origin adds its own here.
	Origins []string
	// Gadget, when set, starts the Finesse desktop simulator serving this gadget folder (the
	// XML, its JS and CSS); its origins (directly and through the proxy) are added to Origins.
	Gadget http.Handler
	// GadgetQuery is the query of the gadget's URL in the simulated layout (default nodes).
	GadgetQuery string
	// ExtraHosts are more names the lab certificate covers, for servers of a test's own (an
	// nginx playing CUIC) that use CA().WriteServerCert.
	ExtraHosts []string
	// ErrorLog receives the servers' own errors; by default they are discarded, because a client
	// that does not trust the lab CA (a browser tab, curl) makes every server log a TLS handshake
	// error, which is expected here.
	ErrorLog *log.Logger
	// Latency delays every answer of every node, as a WAN link to a remote data centre does.
	Latency time.Duration
}

// Lab is a set of running targets. Close stops them.
type Lab struct {
	ca       *labca.Authority
	targets  []Target
	servers  []*http.Server
	ports    map[targets.Kind]int
	errorLog *log.Logger
	sim      *simulator.Simulator   // nil without a gadget
	switches map[string]*nodeSwitch // by node name; none for the node that is down
}

// node is how one target behaves; handler is nil for a node that is down.
type node struct {
	name, describe string
	kind           targets.Kind
	path           string
	handler        func(name string, origins []string) http.Handler
}

// nodes are the lab's targets, in the order they are shown.
var nodes = []node{
	{
		name: "cuicpub", kind: targets.CUIC, path: cuicPath,
		describe: "CUIC publisher: the Finesse origin was added with utils cuic cors allowed_origin add",
		handler: func(name string, origins []string) http.Handler {
			return nodeRouter(name, cuicPath, func(next http.Handler) http.Handler { return tomcatCORS{origins: origins, next: next} })
		},
	},
	{
		name: "cuicsub", kind: targets.CUIC, path: cuicPath,
		describe: "CUIC subscriber: the origin was added on the publisher only, so every CORS request gets 403",
		handler: func(name string, _ []string) http.Handler {
			return nodeRouter(name, cuicPath, func(next http.Handler) http.Handler { return tomcatCORS{next: next} })
		},
	},
	{
		name: "livedata-a", kind: targets.LiveData, path: liveDataPath,
		describe: "Live Data side A: allows the origin but never sends Access-Control-Allow-Credentials",
		handler: func(name string, origins []string) http.Handler {
			return nodeRouter(name, liveDataPath, func(next http.Handler) http.Handler {
				return proxyCORS{origins: origins, allowHeaders: allowHeaders, next: next}
			})
		},
	},
	{
		name: "livedata-b", kind: targets.LiveData, path: liveDataPath,
		describe: "Live Data side B: allows the origin and credentials, but its Access-Control-Allow-Headers lacks peripheralid",
		handler: func(name string, origins []string) http.Handler {
			return nodeRouter(name, liveDataPath, func(next http.Handler) http.Handler {
				return proxyCORS{origins: origins, credentials: true, allowHeaders: withoutElement(allowHeaders, "peripheralid"), next: next}
			})
		},
	},
	{
		name: "cuic-dead", kind: targets.CUIC, path: cuicPath,
		describe: "CUIC node that is down: its address refuses connections",
	},
}

// allowing is how a node of kind answers once its CORS configuration is complete: every origin
// of the lab allowed, with credentials and the gadget's headers.
func allowing(kind targets.Kind, name, path string, origins []string) http.Handler {
	if kind == targets.LiveData {
		return nodeRouter(name, path, func(next http.Handler) http.Handler {
			return proxyCORS{origins: origins, credentials: true, allowHeaders: allowHeaders, next: next}
		})
	}
	return nodeRouter(name, path, func(next http.Handler) http.Handler { return tomcatCORS{origins: origins, next: next} })
}

// host is the node's name in URLs: a name under .localhost, which browsers (and the probe)
// resolve to loopback, so that reports and fixes name the node as they would in the field. A node
// that is down is 127.0.0.2: on its kind's port, nothing listens at that address.
func (n node) host() string {
	if n.handler == nil {
		return deadHost
	}
	return n.name + ".localhost"
}

const deadHost = "127.0.0.2"

// Start starts the lab on 127.0.0.1: one HTTPS listener per kind, as every node of a Cisco
// product serves on the same port, answering for each node by host name (<name>.localhost).
func Start(opt Options) (*Lab, error) {
	if len(opt.Origins) == 0 {
		opt.Origins = []string{FinesseOrigin}
	}
	if opt.ErrorLog == nil {
		opt.ErrorLog = log.New(io.Discard, "", 0)
	}
	var hosts []string
	for _, n := range nodes {
		hosts = append(hosts, n.host())
	}
	ca, err := labca.New(time.Now(), slices.Concat(hosts, simulator.Hosts(), opt.ExtraHosts))
	if err != nil {
		return nil, err
	}
	l := &Lab{ca: ca, ports: map[targets.Kind]int{}, errorLog: opt.ErrorLog, switches: map[string]*nodeSwitch{}}
	if opt.Gadget != nil {
		// The simulator's port comes first, so that the nodes can allow its origins.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("lab simulator: %w", err)
		}
		l.sim = simulator.New(simulator.Options{Gadget: opt.Gadget, Query: opt.GadgetQuery,
			Port: strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), FinesseOrigin: FinesseOrigin})
		opt.Origins = append(slices.Clone(opt.Origins), l.sim.Origins()...)
		l.serve(ln, l.sim)
	}
	byHost := map[targets.Kind]map[string]http.Handler{}
	for _, n := range nodes {
		if _, ok := l.ports[n.kind]; !ok {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				l.Close()
				return nil, fmt.Errorf("lab %s: %w", n.kind, err)
			}
			l.ports[n.kind] = ln.Addr().(*net.TCPAddr).Port
			byHost[n.kind] = map[string]http.Handler{}
			l.serve(ln, hostRouter(byHost[n.kind]))
		}
		if n.handler != nil {
			sw := &nodeSwitch{
				fieldCase: n.handler(n.name, opt.Origins),
				allowing:  allowing(n.kind, n.name, n.path, opt.Origins),
				latency:   opt.Latency,
			}
			l.switches[n.name] = sw
			byHost[n.kind][n.host()] = sw
		}
		l.targets = append(l.targets, Target{Name: n.name, Kind: n.kind, Describe: n.describe,
			URL: "https://" + net.JoinHostPort(n.host(), strconv.Itoa(l.ports[n.kind])) + n.path})
	}
	return l, nil
}

// serve answers on ln with h over TLS with the lab certificate. A node that is set Down has
// its connections closed during the TLS handshake, once its name is known.
func (l *Lab) serve(ln net.Listener, h http.Handler) {
	tlsConfig := l.ca.ServerConfig()
	tlsConfig.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".localhost")
		if sw, ok := l.switches[name]; ok && sw.get() == Down {
			hello.Conn.Close()
			return nil, fmt.Errorf("lab node %s is down", name)
		}
		return nil, nil
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          l.errorLog,
	}
	l.servers = append(l.servers, srv)
	go func() {
		if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			l.errorLog.Printf("lab %s: %v", ln.Addr(), err)
		}
	}()
}

// hostRouter hands each request to the node its Host names.
func hostRouter(nodes map[string]http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := hostname(r.Host)
		if h, ok := nodes[strings.ToLower(host)]; ok {
			h.ServeHTTP(w, r)
			return
		}
		http.Error(w, "no such lab node: "+host, http.StatusMisdirectedRequest)
	})
}

// State is how a lab node answers.
type State int32

// The states of a lab node.
const (
	// FieldCase is the node's own behaviour, the field case it reproduces (Describe).
	FieldCase State = iota
	// Allowing is the node once its CORS configuration is complete: the lab's origins allowed,
	// with credentials and every header the gadget sends.
	Allowing
	// Down closes every connection before the TLS handshake ends, as a node that is going
	// down does: the check is unreachable.
	Down
)

func (s State) String() string {
	switch s {
	case FieldCase:
		return "field case"
	case Allowing:
		return "allowing"
	case Down:
		return "down"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// Set switches a node to another state, at once for new requests: the monitor's tests and the
// demo use it to make a node lose its CORS list (Allowing to FieldCase, as after an upgrade) or
// go down. The node that is down from the start (cuic-dead) has no server to switch.
func (l *Lab) Set(name string, s State) error {
	sw, ok := l.switches[name]
	if !ok {
		return fmt.Errorf("lab: no node %q with a server to switch", name)
	}
	if s < FieldCase || s > Down {
		return fmt.Errorf("lab: unknown state %d", s)
	}
	sw.state.Store(int32(s))
	return nil
}

// nodeSwitch is one node's handler in each state it can be switched to.
type nodeSwitch struct {
	state               atomic.Int32
	fieldCase, allowing http.Handler
	latency             time.Duration
}

func (sw *nodeSwitch) get() State { return State(sw.state.Load()) }

func (sw *nodeSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if sw.latency > 0 {
		select {
		case <-time.After(sw.latency):
		case <-r.Context().Done():
			return
		}
	}
	switch sw.get() {
	case Allowing:
		sw.allowing.ServeHTTP(w, r)
	case Down:
		// A connection made before the node went down: end it without an answer.
		panic(http.ErrAbortHandler)
	default:
		sw.fieldCase.ServeHTTP(w, r)
	}
}

// Port returns the port every node of a kind listens on.
func (l *Lab) Port(k targets.Kind) int { return l.ports[k] }

// Catalogue is the target catalogue of the lab, for the service and the gadget: one target per
// kind with the lab's port, its nodes in the order shown, and the gadget's request shape.
func (l *Lab) Catalogue() targets.Catalogue {
	cat := targets.Defaults()
	for i, t := range cat.Targets {
		port, ok := l.ports[t.Kind]
		if !ok {
			continue
		}
		var nodes []string
		path := ""
		for _, n := range l.targets {
			if n.Kind == t.Kind {
				u, _ := url.Parse(n.URL)
				nodes = append(nodes, u.Hostname())
				path = u.Path
			}
		}
		cat.Targets[i].Nodes = nodes
		cat.Targets[i].Endpoints = []targets.Endpoint{{Name: "lab", Port: port, Path: path}}
		cat.Targets[i].Request.Headers = GadgetHeaders()
	}
	cat.AllowedDomains = []string{"localhost"}
	return cat
}

// Targets returns the lab's targets in the order they are shown.
func (l *Lab) Targets() []Target {
	return append([]Target(nil), l.targets...)
}

// Target returns the target with that name.
func (l *Lab) Target(name string) (Target, bool) {
	for _, t := range l.targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// CA is the lab's certificate authority, which clients trust to reach the lab's nodes and the
// simulator.
func (l *Lab) CA() *labca.Authority { return l.ca }

// SimulatorOrigin returns the origin of the desktop simulator (empty when it is not running).
func (l *Lab) SimulatorOrigin() string {
	if l.sim == nil {
		return ""
	}
	return l.sim.Origin()
}

// ProxyOrigin returns the origin of the desktop behind the simulated VPN-less reverse proxy
// (empty when the simulator is not running).
func (l *Lab) ProxyOrigin() string {
	if l.sim == nil {
		return ""
	}
	return l.sim.ProxyOrigin()
}

// DesktopURL returns the simulator's desktop page in a locale (en_US, nl_NL, ko_KR).
func (l *Lab) DesktopURL(locale string) string { return l.FormURL(simulator.FormRelative, locale) }

// FormURL returns the simulator's desktop page with the gadget's spec URL in a form, in a locale
// (empty when the simulator is not running).
func (l *Lab) FormURL(form simulator.SpecForm, locale string) string {
	if l.sim == nil {
		return ""
	}
	return l.sim.URL(form, locale)
}

// Close stops every target server and closes their connections.
func (l *Lab) Close() error {
	var errs []error
	for _, s := range l.servers {
		errs = append(errs, s.Close())
	}
	l.servers = nil
	return errors.Join(errs...)
}

// GadgetHeaders are the headers a CUIC or Live Data gadget sends with its requests: Basic
// credentials of the lab agent, the agent's locale and peripheral ID. Authorization, locale and
// peripheralid are not CORS-safelisted, so every such request is preflighted.
func GadgetHeaders() []cors.Header {
	basic := base64.StdEncoding.EncodeToString([]byte(AgentUser + ":" + AgentPassword))
	return []cors.Header{
		{Name: "Authorization", Value: "Basic " + basic},
		{Name: "locale", Value: "en_US"},
		{Name: "peripheralid", Value: "5000"},
	}
}

// GadgetRequest is the request a CUIC or Live Data gadget on a page of origin makes to rawURL:
// GET with credentials and GadgetHeaders.
func GadgetRequest(rawURL, origin string) (cors.Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return cors.Request{}, err
	}
	req := cors.Request{URL: u, Origin: origin, Method: http.MethodGet, Header: GadgetHeaders(), Credentials: cors.Include}
	if err := req.Validate(); err != nil {
		return cors.Request{}, err
	}
	return req, nil
}

// withoutElement returns the comma-separated list without name.
func withoutElement(list, name string) string {
	return strings.Join(slices.DeleteFunc(strings.Split(list, ","), func(e string) bool { return e == name }), ",")
}

// hostname is the host of a Host header, without the port.
func hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
