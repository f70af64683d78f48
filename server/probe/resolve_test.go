package probe

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/targets"
)

func TestParseResolve(t *testing.T) {
	tests := []struct {
		in   string
		want Resolve
		err  string
	}{
		{in: "cuic.example:8444:10.0.0.5", want: Resolve{"cuic.example", "8444", "10.0.0.5"}},
		{in: "CUIC.Example.:443:10.0.0.5", want: Resolve{"cuic.example", "443", "10.0.0.5"}},
		{in: "cuic.example:*:127.0.0.1", want: Resolve{"cuic.example", "*", "127.0.0.1"}},
		{in: "cuic.example:443:[::1]", want: Resolve{"cuic.example", "443", "::1"}},
		{in: "cuic.example:443:::1", want: Resolve{"cuic.example", "443", "::1"}},
		{in: "[::1]:443:127.0.0.1", want: Resolve{"::1", "443", "127.0.0.1"}},
		{in: "cuic.example", err: "HOST:PORT:ADDR"},
		{in: "cuic.example:443", err: "HOST:PORT:ADDR"},
		{in: "cuic.example:0:10.0.0.5", err: "1-65535"},
		{in: "cuic.example:x:10.0.0.5", err: "1-65535"},
		{in: "cuic.example:443:cuic2.example", err: "not an IP address"},
		{in: ":443:10.0.0.5", err: "host is empty"},
		{in: "[::1:443:10.0.0.5", err: "HOST:PORT:ADDR"},
	}
	for _, tt := range tests {
		got, err := ParseResolve(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseResolve(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseResolve(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// TestResolveKeepsTheName: a name mapped to an address keeps the name for TLS (SNI and the
// certificate check) and for the Host header; the first matching entry wins; other ports and
// names are not mapped.
func TestResolveKeepsTheName(t *testing.T) {
	ca := newTestPKI(t)
	var hosts []string
	srv := tlsServer(t, ca.leaf(t, leafSpec{names: []string{"cuic.example"}}), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts = append(hosts, r.Host+" "+r.TLS.ServerName)
		allowAllHandler.ServeHTTP(w, r)
	}))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "https://"))
	u, _ := url.Parse("https://cuic.example:" + port + "/cuic/rest/status/")
	for _, rs := range [][]Resolve{
		{{"cuic.example", port, "127.0.0.1"}},
		{{"cuic.example", "*", "127.0.0.1"}, {"cuic.example", "*", "192.0.2.1"}},
	} {
		p := New(Options{RootCAs: ca.pool, Resolve: rs})
		rep := p.Check(context.Background(), cors.Request{URL: u, Origin: "https://finessep.example:8445", Method: "GET", Credentials: cors.Include}, targets.CUIC)
		p.Close()
		if rep.Verdict != cors.Allowed {
			t.Fatalf("%v: verdict %s\n%s", rs, rep.Verdict, rep.Text())
		}
	}
	for _, h := range hosts {
		if h != "cuic.example:"+port+" cuic.example" {
			t.Errorf("Host and SNI %q, want the name", h)
		}
	}
	if got := resolved([]Resolve{{"cuic.example", "443", "10.0.0.5"}}, "cuic.example:8444"); got != "cuic.example:8444" {
		t.Errorf("another port was mapped: %s", got)
	}
	if got := resolved([]Resolve{{"cuic.example", "*", "10.0.0.5"}}, "other.example:443"); got != "other.example:443" {
		t.Errorf("another name was mapped: %s", got)
	}
	if got := resolved([]Resolve{{"cuic.example", "*", "::1"}}, "CUIC.example:443"); got != "[::1]:443" {
		t.Errorf("IPv6 address: %s", got)
	}
}
