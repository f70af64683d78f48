package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// fakeResolver answers from a table; a name it does not know does not resolve. After the first
// answer for a name, then (when set) gives the following ones: a rebinding DNS server.
type fakeResolver struct {
	mu    sync.Mutex
	table map[string][]string
	then  map[string][]string
	asked []string
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if network != "ip" {
		return nil, errors.New("unexpected network " + network)
	}
	answer := r.table[host]
	if slices.Contains(r.asked, host) && r.then[host] != nil {
		answer = r.then[host]
	}
	r.asked = append(r.asked, host)
	if answer == nil {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range answer {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

// recorder is a Dial that records every address it is asked to connect to. It connects to
// nothing: it answers with one end of a pipe, or fails for the addresses in fail. With real
// set, it dials for real (the tests only allow loopback then).
type recorder struct {
	mu     sync.Mutex
	dialed []string
	fail   map[string]bool
	real   bool
}

func (d *recorder) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.dialed = append(d.dialed, addr)
	d.mu.Unlock()
	if d.fail[addr] {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
	}
	if d.real {
		var nd net.Dialer
		return nd.DialContext(ctx, network, addr)
	}
	c, s := net.Pipe()
	s.Close()
	return c, nil
}

func (d *recorder) addrs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.dialed)
}

func hosts(names ...string) func(string) bool {
	return func(h string) bool { return slices.Contains(names, h) }
}

func nets(t *testing.T, s ...string) []netip.Prefix {
	t.Helper()
	n, err := ParseNets(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDialContext(t *testing.T) {
	dns := map[string][]string{
		"api.example":       {"8.8.8.8"},
		"metadata.example":  {"169.254.169.254"},
		"mixed.example":     {"8.8.8.8", "10.0.0.1"},
		"mapped.example":    {"::ffff:127.0.0.1"},
		"dual.example":      {"2001:4860:4860::8888", "8.8.4.4"},
		"docs.example":      {"203.0.113.9"},
		"nat64.example":     {"64:ff9b::a9fe:a9fe"},
		"cuic.corp.example": {"10.1.2.3"},
		"twice.example":     {"8.8.8.8", "8.8.8.8"},
	}
	tests := []struct {
		name      string
		allow     []string // host names AllowHost accepts
		nets      []string
		network   string // default tcp
		addr      string
		fail      []string // addresses whose dial fails
		wantDials []string // what the dialer was asked, in order
		wantErr   string   // substring; "" means connected
		forbidden bool     // the error is an *Error
	}{
		{name: "metadata literal refused", allow: []string{"169.254.169.254"}, addr: "169.254.169.254:80",
			wantErr: "egress: 169.254.169.254 is link-local (cloud metadata); not allowed", forbidden: true},
		{name: "metadata literal refused inside an allowed link-local network", nets: []string{"169.254.0.0/16"},
			addr: "169.254.169.254:80", wantErr: "cloud metadata", forbidden: true},
		{name: "loopback literal refused", allow: []string{"127.0.0.1"}, addr: "127.0.0.1:8443",
			wantErr: "127.0.0.1 is loopback", forbidden: true},
		{name: "loopback literal allowed by its network", nets: []string{"127.0.0.1/32"}, addr: "127.0.0.1:8443",
			wantDials: []string{"127.0.0.1:8443"}},
		{name: "IPv6 loopback literal refused", addr: "[::1]:80", allow: []string{"::1"},
			wantErr: "::1 is loopback", forbidden: true},
		{name: "IPv4-mapped metadata literal refused", addr: "[::ffff:169.254.169.254]:80", allow: []string{"::ffff:169.254.169.254"},
			wantErr: "IPv4-mapped 169.254.169.254", forbidden: true},
		{name: "IPv4-mapped loopback literal refused", addr: "[::ffff:7f00:1]:80", allow: []string{"::ffff:7f00:1"},
			wantErr: "loopback", forbidden: true},
		{name: "public literal allowed by AllowHost", allow: []string{"8.8.8.8"}, addr: "8.8.8.8:443",
			wantDials: []string{"8.8.8.8:443"}},
		{name: "public literal outside the catalogue refused", addr: "8.8.8.8:443",
			wantErr: "8.8.8.8 is not in the target catalogue", forbidden: true},
		{name: "host outside the catalogue refused", allow: []string{"api.example"}, addr: "evil.example:443",
			wantErr: "evil.example is not in the target catalogue", forbidden: true},
		{name: "allowed name dials its checked address", allow: []string{"api.example"}, addr: "api.example:443",
			wantDials: []string{"8.8.8.8:443"}},
		{name: "name matched without case or trailing dot", allow: []string{"api.example"}, addr: "API.Example.:443",
			wantDials: []string{"8.8.8.8:443"}},
		{name: "name resolving to metadata refused", allow: []string{"metadata.example"}, addr: "metadata.example:80",
			wantErr: "metadata.example resolves to 169.254.169.254, which is link-local (cloud metadata)", forbidden: true},
		{name: "name resolving to allowed and forbidden addresses refused", allow: []string{"mixed.example"},
			addr: "mixed.example:443", wantErr: "resolves to 10.0.0.1, which is private", forbidden: true},
		{name: "name resolving to a mapped loopback address refused", allow: []string{"mapped.example"},
			addr: "mapped.example:443", wantErr: "IPv4-mapped 127.0.0.1", forbidden: true},
		{name: "name resolving to a documentation address refused", allow: []string{"docs.example"},
			addr: "docs.example:443", wantErr: "documentation", forbidden: true},
		{name: "name resolving to NAT64 metadata refused", allow: []string{"nat64.example"},
			addr: "nat64.example:443", wantErr: "NAT64 for 169.254.169.254", forbidden: true},
		{name: "name in an allowed private network", allow: []string{"cuic.corp.example"}, nets: []string{"10.0.0.0/8"},
			addr: "cuic.corp.example:8444", wantDials: []string{"10.1.2.3:8444"}},
		{name: "name in a private network not allowed", allow: []string{"cuic.corp.example"},
			addr: "cuic.corp.example:8444", wantErr: "private (RFC 1918)", forbidden: true},
		{name: "tcp4 dials only the IPv4 address", allow: []string{"dual.example"}, network: "tcp4",
			addr: "dual.example:443", wantDials: []string{"8.8.4.4:443"}},
		{name: "the next address is tried when one fails", allow: []string{"dual.example"}, addr: "dual.example:443",
			fail: []string{"[2001:4860:4860::8888]:443"}, wantDials: []string{"[2001:4860:4860::8888]:443", "8.8.4.4:443"}},
		{name: "a repeated answer is dialled once", allow: []string{"twice.example"}, addr: "twice.example:443",
			fail: []string{"8.8.8.8:443"}, wantDials: []string{"8.8.8.8:443"}, wantErr: "connection refused"},
		{name: "name under .localhost refused without a loopback network", allow: []string{"lab.localhost"},
			addr: "lab.localhost:8443", wantErr: "lab.localhost resolves to 127.0.0.1, which is loopback", forbidden: true},
		{name: "name under .localhost dials 127.0.0.1 when allowed", allow: []string{"lab.localhost"}, nets: []string{"127.0.0.1"},
			addr: "lab.localhost:8443", wantDials: []string{"127.0.0.1:8443"}},
		{name: "unknown name is a DNS error, not a refusal", allow: []string{"nowhere.example"}, addr: "nowhere.example:443",
			wantErr: "no such host"},
		{name: "UDP refused", allow: []string{"api.example"}, network: "udp", addr: "api.example:53",
			wantErr: `network "udp" is not tcp`, forbidden: true},
		{name: "address without a port refused", allow: []string{"api.example"}, addr: "api.example",
			wantErr: "not host:port", forbidden: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{fail: map[string]bool{}}
			for _, a := range tt.fail {
				rec.fail[a] = true
			}
			p := &Policy{AllowHost: hosts(tt.allow...), AllowedNets: nets(t, tt.nets...),
				Resolver: &fakeResolver{table: dns}, Dial: rec.Dial}
			network := tt.network
			if network == "" {
				network = "tcp"
			}
			c, err := p.DialContext(context.Background(), network, tt.addr)
			if c != nil {
				c.Close()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("DialContext(%s): %v", tt.addr, err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("DialContext(%s) connected, want an error mentioning %q", tt.addr, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("DialContext(%s): %q, want it to mention %q", tt.addr, err, tt.wantErr)
			}
			if err != nil && errors.As(err, new(*Error)) != tt.forbidden {
				t.Errorf("errors.As(%v, *Error) = %v, want %v", err, !tt.forbidden, tt.forbidden)
			}
			if got := rec.addrs(); !slices.Equal(got, tt.wantDials) {
				t.Errorf("dialled %q, want %q", got, tt.wantDials)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	dns := map[string][]string{
		"api.example":           {"8.8.8.8"},
		"metadata.example":      {"169.254.169.254"},
		"mixed.example":         {"2001:4860:4860::8888", "fd00:ec2::254"},
		"xn--bcher-kva.example": {"8.8.8.8"},
		"cuic.corp.example":     {"10.1.2.3"},
	}
	tests := []struct {
		name      string
		allow     []string
		nets      []string
		url       string
		wantErr   string // substring; "" means allowed
		forbidden bool
	}{
		{name: "allowed host", allow: []string{"api.example"}, url: "https://api.example/cuic/"},
		{name: "scheme other than http(s)", allow: []string{"api.example"}, url: "ftp://api.example/",
			wantErr: `scheme "ftp" is not http or https`, forbidden: true},
		{name: "no host", url: "http:///path", wantErr: "without a host", forbidden: true},
		{name: "host outside the catalogue", allow: []string{"api.example"}, url: "https://evil.example/",
			wantErr: "egress: evil.example is not in the target catalogue or the allowed domains; not allowed", forbidden: true},
		{name: "host resolving to metadata", allow: []string{"metadata.example"}, url: "http://metadata.example/",
			wantErr: "resolves to 169.254.169.254, which is link-local (cloud metadata)", forbidden: true},
		{name: "host resolving to a public and a metadata address", allow: []string{"mixed.example"}, url: "https://mixed.example/",
			wantErr: "fd00:ec2::254, which is unique local (cloud metadata)", forbidden: true},
		{name: "metadata literal, even in the catalogue", allow: []string{"169.254.169.254"}, url: "http://169.254.169.254/latest/",
			wantErr: "egress: 169.254.169.254 is link-local (cloud metadata); not allowed", forbidden: true},
		{name: "IPv4-mapped metadata literal", allow: []string{"::ffff:169.254.169.254"}, url: "http://[::ffff:169.254.169.254]/",
			wantErr: "IPv4-mapped 169.254.169.254", forbidden: true},
		{name: "loopback literal in an allowed network but not in the catalogue", nets: []string{"127.0.0.1"},
			url: "http://127.0.0.1:8080/", wantErr: "127.0.0.1 is not in the target catalogue", forbidden: true},
		{name: "loopback literal in the catalogue and an allowed network", allow: []string{"127.0.0.1"}, nets: []string{"127.0.0.1"},
			url: "http://127.0.0.1:8080/"},
		{name: "lab name without a loopback network", allow: []string{"cuic.localhost"}, url: "https://cuic.localhost:8443/",
			wantErr: "cuic.localhost resolves to 127.0.0.1, which is loopback", forbidden: true},
		{name: "lab name with a loopback network", allow: []string{"cuic.localhost"}, nets: []string{"127.0.0.1"},
			url: "https://cuic.localhost:8443/"},
		{name: "lab name outside the catalogue", nets: []string{"127.0.0.1"}, url: "https://evil.localhost/",
			wantErr: "evil.localhost is not in the target catalogue", forbidden: true},
		{name: "private host allowed by network", allow: []string{"cuic.corp.example"}, nets: []string{"10.0.0.0/8"},
			url: "https://cuic.corp.example:8444/"},
		{name: "IDN asked in its ASCII form", allow: []string{"xn--bcher-kva.example"}, url: "https://bücher.example/"},
		{name: "upper case and a trailing dot", allow: []string{"api.example"}, url: "HTTPS://API.EXAMPLE./"},
		{name: "DNS failure is not a refusal", allow: []string{"nowhere.example"}, url: "https://nowhere.example/",
			wantErr: "no such host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			p := &Policy{AllowHost: hosts(tt.allow...), AllowedNets: nets(t, tt.nets...), Resolver: &fakeResolver{table: dns}}
			err = p.CheckURL(context.Background(), u)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("CheckURL(%s): %v", tt.url, err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("CheckURL(%s) allowed, want an error mentioning %q", tt.url, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("CheckURL(%s): %q, want it to mention %q", tt.url, err, tt.wantErr)
			}
			if err != nil && errors.As(err, new(*Error)) != tt.forbidden {
				t.Errorf("errors.As(%v, *Error) = %v, want %v", err, !tt.forbidden, tt.forbidden)
			}
		})
	}
}

// TestRebinding: a name that resolved to a public address for CheckURL and to loopback when the
// probe dials is refused at dial time, and nothing is dialled.
func TestRebinding(t *testing.T) {
	res := &fakeResolver{table: map[string][]string{"rebind.example": {"8.8.8.8"}},
		then: map[string][]string{"rebind.example": {"127.0.0.1"}}}
	rec := &recorder{}
	p := &Policy{AllowHost: hosts("rebind.example"), Resolver: res, Dial: rec.Dial}
	u, _ := url.Parse("http://rebind.example/")
	if err := p.CheckURL(context.Background(), u); err != nil {
		t.Fatalf("CheckURL: %v", err)
	}
	_, err := p.DialContext(context.Background(), "tcp", "rebind.example:80")
	if !errors.As(err, new(*Error)) || !strings.Contains(err.Error(), "127.0.0.1, which is loopback") {
		t.Fatalf("DialContext after rebinding: %v, want a loopback refusal", err)
	}
	if got := rec.addrs(); len(got) != 0 {
		t.Fatalf("dialled %q after rebinding", got)
	}
}

// TestDefaultDialRechecks: the default dialer checks the socket address again before connect.
func TestDefaultDialRechecks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	allowed := &Policy{AllowedNets: nets(t, "127.0.0.1")}
	c, err := allowed.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dialling an allowed loopback listener: %v", err)
	}
	c.Close()
	// Called directly, as if something had let a forbidden address through.
	_, err = (&Policy{}).dialChecked(context.Background(), "tcp", ln.Addr().String())
	if !errors.As(err, new(*Error)) {
		t.Fatalf("the default dialer's own check: %v, want a refusal", err)
	}
}

// TestProbeRedirectIntoMetadata: an allowed lab server redirects to the cloud metadata address;
// the probe, dialling through the policy, reports the hop as forbidden and never connects to it.
func TestProbeRedirectIntoMetadata(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/cuic/rest/")
	rec := &recorder{real: true}
	p := &Policy{AllowHost: hosts(u.Hostname()), AllowedNets: nets(t, "127.0.0.1/32"), Dial: rec.Dial}
	if err := p.CheckURL(context.Background(), u); err != nil {
		t.Fatalf("CheckURL(%s): %v", u, err)
	}
	pr := probe.New(probe.Options{Timeout: 5 * time.Second, DialContext: p.DialContext, NoExtraChecks: true})
	defer pr.Close()
	rep := pr.Check(context.Background(), cors.Request{URL: u, Origin: "http://finesse.example", Method: "GET", Credentials: cors.Omit}, targets.Custom)
	if rep.Verdict != cors.Unreachable || rep.Network == nil || rep.Network.Class != probe.Forbidden {
		t.Fatalf("verdict %s, network %+v; want unreachable, forbidden", rep.Verdict, rep.Network)
	}
	if !strings.Contains(rep.Network.Message, "169.254.169.254 is link-local (cloud metadata)") {
		t.Errorf("network message %q does not say why", rep.Network.Message)
	}
	if len(rep.Steps) != 2 || rep.Steps[0].Status != http.StatusFound {
		t.Errorf("steps %+v, want the redirect and the refused hop", rep.Steps)
	}
	for _, a := range rec.addrs() {
		if strings.Contains(a, "169.254") {
			t.Fatalf("the dialer was asked for %s", a)
		}
	}
	if got := rec.addrs(); len(got) != 1 || got[0] != u.Host {
		t.Errorf("dialled %q, want only the lab server %s", got, u.Host)
	}
}

// TestProbeLocalhostName: the probe turns lab names under .localhost into 127.0.0.1 before it
// dials, so the policy sees the address and AllowedNets decides; CheckURL saw the name.
func TestProbeLocalhostName(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	u, _ := url.Parse("http://cuic.localhost:" + port + "/")
	var asked []string
	rec := &recorder{real: true}
	p := &Policy{AllowHost: func(h string) bool { asked = append(asked, h); return h == "cuic.localhost" },
		AllowedNets: nets(t, "127.0.0.1/32"), Dial: rec.Dial}
	if err := p.CheckURL(context.Background(), u); err != nil {
		t.Fatalf("CheckURL(%s): %v", u, err)
	}
	pr := probe.New(probe.Options{Timeout: 5 * time.Second, DialContext: p.DialContext, NoExtraChecks: true})
	defer pr.Close()
	rep := pr.Check(context.Background(), cors.Request{URL: u, Origin: "http://finesse.example", Method: "GET", Credentials: cors.Omit}, targets.Custom)
	if rep.Verdict != cors.Allowed {
		t.Fatalf("verdict %s (%+v), want allowed", rep.Verdict, rep.Network)
	}
	// The probe hands the guard the name as written, so the dial is judged by name too.
	if !slices.Equal(asked, []string{"cuic.localhost", "cuic.localhost"}) {
		t.Errorf("AllowHost asked %q, want the name by CheckURL and by the dial", asked)
	}
	if got := rec.addrs(); !slices.Equal(got, []string{"127.0.0.1:" + port}) {
		t.Errorf("dialled %q", got)
	}
}
