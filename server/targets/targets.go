// Package targets is the catalogue the gadget's dropdown shows: the kinds of target (CUIC, Live
// Data, Finesse, custom), which URL to test on each node, and the request a real gadget sends
// there. The request shapes are data, not code, because the exact headers of Cisco's stock
// gadgets are not published: an admin corrects them in the catalogue file without a release.
package targets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/strictjson"
)

// Endpoint is one URL to test on every node of a target: https://{node}:{port}{path}.
type Endpoint struct {
	Name string `json:"name"`
	Port int    `json:"port"`
	Path string `json:"path"`
}

// Shape is the request a real gadget sends to the target. Header values are placeholders: for
// CORS only their names matter (and whether they are safelisted).
type Shape struct {
	Method      string           `json:"method"`
	Headers     []cors.Header    `json:"headers"`
	Credentials cors.Credentials `json:"credentials"`
}

// Target is one entry of the dropdown.
type Target struct {
	ID        string     `json:"id"`
	Kind      Kind       `json:"kind"`
	Label     string     `json:"label"`
	Endpoints []Endpoint `json:"endpoints"`
	Request   Shape      `json:"request"`
	Nodes     []string   `json:"nodes"` // default node FQDNs, in the order shown
	Notes     string     `json:"notes,omitempty"`
}

// Catalogue is every target plus the domains whose hosts may be diagnosed although they are not
// listed as nodes (e.g. "example.com" allows cuicsub.example.com).
type Catalogue struct {
	Targets        []Target `json:"targets"`
	AllowedDomains []string `json:"allowedDomains,omitempty"`
}

// gadgetHeaders are the headers CUIC and Live Data gadgets send (names from an allowed_headers
// list of a 12.6 CUIC; values are placeholders).
func gadgetHeaders() []cors.Header {
	return []cors.Header{
		{Name: "Authorization", Value: "Basic Y29yc2NoZWNrOnByb2Jl"},
		{Name: "locale", Value: "en_US"},
		{Name: "peripheralid", Value: "5000"},
	}
}

// Defaults is the built-in catalogue, used when no catalogue file is configured.
func Defaults() Catalogue {
	return Catalogue{Targets: []Target{
		{
			ID: "cuic", Kind: CUIC, Label: "CUIC (Unified Intelligence Center)",
			Endpoints: []Endpoint{{Name: "CUIC 8444", Port: 8444, Path: "/cuic/rest/status/"}},
			Request:   Shape{Method: "GET", Headers: gadgetHeaders(), Credentials: cors.Include},
			Notes:     "CUIC 12.6(2) and later also serve this on 443; OPTIONS on /cuic/* needs no login there.",
		},
		{
			ID: "livedata", Kind: LiveData, Label: "Live Data",
			Endpoints: []Endpoint{
				{Name: "Live Data web service", Port: 12005, Path: "/"},
				{Name: "Live Data Socket.IO", Port: 12008, Path: "/socket.io/"},
			},
			Request: Shape{Method: "GET", Headers: gadgetHeaders(), Credentials: cors.Include},
			Notes:   "From 12.6(2) Live Data is also served on 443; Live Data gadgets need CUIC CORS too.",
		},
		{
			ID: "finesse", Kind: Finesse, Label: "Finesse REST API",
			Endpoints: []Endpoint{{Name: "Finesse 8445", Port: 8445, Path: "/finesse/api/SystemInfo"}},
			Request: Shape{Method: "GET", Credentials: cors.Include,
				Headers: []cors.Header{{Name: "Authorization", Value: "Basic Y29yc2NoZWNrOnByb2Jl"}}},
		},
		{
			ID: "custom", Kind: Custom, Label: "Custom URL",
			Request: Shape{Method: "GET", Credentials: cors.SameOrigin},
		},
	}}
}

// Load reads a catalogue from a JSON file and validates it.
func Load(path string) (Catalogue, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Catalogue{}, err
	}
	return Parse(b)
}

// Parse decodes a catalogue and validates it.
func Parse(b []byte) (Catalogue, error) {
	c, err := Decode(b)
	if err != nil {
		return Catalogue{}, fmt.Errorf("catalogue: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Catalogue{}, err
	}
	return c, nil
}

// Decode reads a catalogue in the file format without validating what it means. Its errors are
// *strictjson.Error: exact-case keys, each once, no unknown ones, valid UTF-8, nothing after
// the object.
func Decode(b []byte) (Catalogue, error) {
	var c Catalogue
	if err := strictjson.Unmarshal(b, &c); err != nil {
		return Catalogue{}, err
	}
	return c, nil
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// Validate reports every problem at once.
func (c Catalogue) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Targets) == 0 {
		bad("catalogue has no targets")
	}
	seen := map[string]bool{}
	for i, t := range c.Targets {
		where := fmt.Sprintf("targets[%d] (%s)", i, t.ID)
		if !idPattern.MatchString(t.ID) {
			bad("%s: id must be lower-case letters, digits and dashes, starting with a letter", where)
		}
		if seen[t.ID] {
			bad("%s: duplicate id", where)
		}
		seen[t.ID] = true
		if _, err := ParseKind(string(t.Kind)); err != nil {
			bad("%s: %v", where, err)
		}
		if strings.TrimSpace(t.Label) == "" || len(t.Label) > 100 {
			bad("%s: label must be 1-100 characters", where)
		}
		if t.Kind != Custom && len(t.Endpoints) == 0 {
			bad("%s: needs at least one endpoint", where)
		}
		for j, e := range t.Endpoints {
			if e.Port < 1 || e.Port > 65535 {
				bad("%s: endpoints[%d]: port %d out of range", where, j, e.Port)
			}
			if !strings.HasPrefix(e.Path, "/") || strings.Contains(e.Path, "#") || HasBlank(e.Path) || len(e.Path) > 512 {
				bad("%s: endpoints[%d]: path must start with / and contain no spaces, # or invisible characters", where, j)
			}
		}
		if m, err := cors.NormalizeMethod(t.Request.Method); err != nil || m != t.Request.Method {
			bad("%s: request method %q must be an upper-case HTTP method", where, t.Request.Method)
		}
		if _, err := cors.ParseCredentials(string(t.Request.Credentials)); err != nil {
			bad("%s: %v", where, err)
		}
		for _, h := range t.Request.Headers {
			if _, err := cors.ValidateHeader(h.Name, h.Value); err != nil {
				bad("%s: %v", where, err)
			}
			if cors.IsForbiddenHeader(h.Name, h.Value) {
				bad("%s: header %s cannot be set by fetch()", where, h.Name)
			}
		}
		for _, n := range t.Nodes {
			if err := ValidNode(n); err != nil {
				bad("%s: %v", where, err)
			}
		}
	}
	for _, d := range c.AllowedDomains {
		if err := ValidNode(d); err != nil {
			bad("allowedDomains: %v", err)
		}
	}
	return errors.Join(errs...)
}

// ValidNode checks a node's host name (an FQDN, a short name or an IP address, no port).
func ValidNode(n string) error {
	if n == "" || len(n) > 253 {
		return fmt.Errorf("node %q must be 1-253 characters", n)
	}
	if net.ParseIP(n) != nil {
		return nil
	}
	for _, label := range strings.Split(strings.TrimSuffix(n, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("node %q is not a valid host name", n)
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
				return fmt.Errorf("node %q is not a valid host name", n)
			}
		}
	}
	return nil
}

// MaxURL is the longest URL of a check, in bytes.
const MaxURL = 2048

// ParseURL parses the URL of a check, as a browser reports it or a caller asks for it: at most
// MaxURL bytes, no character that HasBlank finds anywhere (percent-encoded ones in the host
// included), since those make a URL read as another, and then what cors.ValidateURL asks
// (absolute http or https with a host, a port from 1 to 65535, no user name or password). Its
// errors say what is wrong with "the URL" left out: "has port 99999; …".
func ParseURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURL {
		return nil, fmt.Errorf("is longer than %d bytes", MaxURL)
	}
	if HasBlank(raw) {
		return nil, errors.New("holds white space or an invisible character (control, bidi, zero-width or filler)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("cannot be read as a URL")
	}
	if err := cors.ValidateURL(u); err != nil {
		return nil, err
	}
	if HasBlank(u.Hostname()) {
		return nil, errors.New("has a host with white space or an invisible character (control, bidi, zero-width or filler)")
	}
	return u, nil
}

// HasInvisible reports whether s holds a character that changes how text reads without showing
// itself: a control character, a line or paragraph separator, or a default-ignorable code point,
// which renders as nothing (the Unicode format characters: bidi controls such as U+202E,
// zero-width ones such as U+200B, the byte order mark; and the others: the combining grapheme
// joiner U+034F, the Hangul fillers U+3164 and U+FFA0, variation selectors such as U+FE0F). It
// also refuses invalid UTF-8.
func HasInvisible(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.In(r, unicode.Cf,
			unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
	})
}

// HasBlank reports whether s holds a character that a URL cannot show: anything HasInvisible
// finds, white space of any kind (the space, U+00A0, the ideographic space U+3000, …) and the
// braille blank U+2800. A browser percent-encodes these in the URLs it reports; written raw, they
// make a URL read as another.
func HasBlank(s string) bool {
	return HasInvisible(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\u2800' })
}

// Target returns the target with this id.
func (c Catalogue) Target(id string) (Target, bool) {
	i := slices.IndexFunc(c.Targets, func(t Target) bool { return t.ID == id })
	if i < 0 {
		return Target{}, false
	}
	return c.Targets[i], true
}

// URLs returns the URLs to test on node, one per endpoint.
func (t Target) URLs(node string) []string {
	host := node
	if strings.Contains(node, ":") && net.ParseIP(node) != nil {
		host = "[" + node + "]"
	}
	out := make([]string, 0, len(t.Endpoints))
	for _, e := range t.Endpoints {
		hp := host
		if e.Port != 443 {
			hp += ":" + strconv.Itoa(e.Port)
		}
		out = append(out, "https://"+hp+e.Path)
	}
	return out
}

// HasHost reports whether host may be diagnosed: it is a node of a target, or a host under an
// allowed domain. Comparison ignores case and a trailing dot.
func (c Catalogue) HasHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "" {
		return false
	}
	for _, t := range c.Targets {
		if slices.ContainsFunc(t.Nodes, func(n string) bool { return sameHost(n, h) }) {
			return true
		}
	}
	return c.underAllowedDomain(h)
}

// Reachable says whether the service's diagnosis may call u, and if not, why. The host must be a
// node of a target and the port and path (with any query) one of that target's endpoints; or
// the host must be under an allowed domain and the port and path an endpoint of any target.
// The diagnosis thus reaches only what the catalogue lists, never another port or path of a
// node (an admin API, a database port).
func (c Catalogue) Reachable(u *url.URL) error {
	host := u.Hostname()
	if !c.HasHost(host) {
		return fmt.Errorf("host %s is not in the target catalogue; an admin can add it as a node or an allowed domain", host)
	}
	port, target := u.Port(), requestTarget(u)
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	underDomain := c.underAllowedDomain(host)
	for _, t := range c.Targets {
		if !underDomain && !slices.ContainsFunc(t.Nodes, func(n string) bool { return sameHost(n, host) }) {
			continue
		}
		for _, e := range t.Endpoints {
			if ep, err := url.Parse(e.Path); err == nil && strconv.Itoa(e.Port) == port && requestTarget(ep) == target {
				return nil
			}
		}
	}
	return fmt.Errorf("port %s and path %s are not an endpoint of a target of %s in the catalogue; "+
		"the diagnosis calls only the endpoints the catalogue lists", port, target, host)
}

// requestTarget is the path and query of u as sent on the wire.
func requestTarget(u *url.URL) string {
	t := u.EscapedPath()
	if t == "" {
		t = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		t += "?" + u.RawQuery
	}
	return t
}

// sameHost compares host names ignoring case and a trailing dot.
func sameHost(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

// underAllowedDomain reports whether host is an allowed domain or a name under one.
func (c Catalogue) underAllowedDomain(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range c.AllowedDomains {
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// WithLists returns a copy of c whose lists are never nil, so that JSON shows them as [] (the
// gadget iterates them; an admin adds a node between the brackets) rather than null.
func (c Catalogue) WithLists() Catalogue {
	c.Targets = slices.Clone(c.Targets)
	if c.Targets == nil {
		c.Targets = []Target{}
	}
	for i := range c.Targets {
		t := &c.Targets[i]
		t.Nodes = orEmpty(t.Nodes)
		t.Endpoints = orEmpty(t.Endpoints)
		t.Request.Headers = orEmpty(t.Request.Headers)
	}
	c.AllowedDomains = orEmpty(c.AllowedDomains)
	return c
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Live is the catalogue in use, which the admin API and the admin UI can replace while the
// service runs. It is safe for concurrent use.
type Live struct {
	mu   sync.RWMutex
	c    Catalogue
	save func(context.Context, Catalogue) error
}

// NewLive starts with c. save, when not nil, persists every replacement before it takes effect
// (the service stores it in the database, so it outlives restarts and reaches every instance).
func NewLive(c Catalogue, save func(context.Context, Catalogue) error) *Live {
	return &Live{c: c, save: save}
}

// Get returns the current catalogue.
func (l *Live) Get() Catalogue {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.c
}

// InvalidError is a catalogue that Replace refused: it names every problem.
type InvalidError struct{ Err error }

func (e *InvalidError) Error() string { return "invalid catalogue: " + e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

// Replace validates c whole, saves it and puts it in use. A catalogue that does not validate
// returns an *InvalidError and changes nothing; neither does one that could not be saved.
func (l *Live) Replace(ctx context.Context, c Catalogue) error {
	if err := c.Validate(); err != nil {
		return &InvalidError{Err: err}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.save != nil {
		if err := l.save(ctx, c); err != nil {
			return fmt.Errorf("saving the catalogue: %w", err)
		}
	}
	l.c = c
	return nil
}

// Follow keeps l in step with a catalogue that other instances replace. Every interval it asks
// version (a number from 0 that changes with every replacement), and when the answer changed
// it loads the catalogue and puts it in use without saving it again. load decodes without
// validating (see Decode): a catalogue that does not decode or validate is reported once and
// left out of use; any other error of load is reported and tried again at the next poll. It
// returns when ctx ends.
func (l *Live) Follow(ctx context.Context, every time.Duration, version func(context.Context) (int64, error),
	load func(context.Context) (Catalogue, error), report func(error)) {
	fail := func(err error) {
		if ctx.Err() == nil { // a poll cut short by the end is no news
			report(err)
		}
	}
	last := int64(-1) // none yet: versions count from 0
	if v, err := version(ctx); err == nil {
		last = v
	} else {
		fail(err)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if ctx.Err() != nil { // select picks at random when both are ready: never poll after the end
			return
		}
		v, err := version(ctx)
		if err != nil || v == last {
			if err != nil {
				fail(err)
			}
			continue
		}
		c, err := load(ctx)
		if _, unreadable := errors.AsType[*strictjson.Error](err); err != nil && !unreadable {
			fail(fmt.Errorf("loading the catalogue another instance stored: %w", err))
			continue // the database did not answer: tried again at the next poll
		}
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			fail(fmt.Errorf("the catalogue another instance stored is refused: %w", err))
			last = v // reported once; the next change may fix it
			continue
		}
		l.mu.Lock()
		l.c = c
		l.mu.Unlock()
		last = v
	}
}

// HasHost is Get().HasHost(host).
func (l *Live) HasHost(host string) bool { return l.Get().HasHost(host) }
