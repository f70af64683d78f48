package probe

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/fix"
)

func tlsServer(t *testing.T, cert tls.Certificate, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func request(t *testing.T, rawURL string) cors.Request {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return cors.Request{URL: u, Origin: "https://finessep.example:8445", Method: "GET", Credentials: cors.Include,
		Header: []cors.Header{{Name: "Authorization", Value: "Basic eDp5"}}}
}

var allowAllHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	w.Header().Set("Access-Control-Allow-Headers", "authorization")
})

func TestNetworkFailuresAreNotCORS(t *testing.T) {
	ca := newTestPKI(t)
	loop := []net.IP{net.ParseIP("127.0.0.1")}
	good := tlsServer(t, ca.leaf(t, leafSpec{ips: loop, cn: "127.0.0.1"}), allowAllHandler)
	wrongName := tlsServer(t, ca.leaf(t, leafSpec{names: []string{"cuic.example"}}), allowAllHandler)
	expired := tlsServer(t, ca.leaf(t, leafSpec{ips: loop, cn: "127.0.0.1", notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour)}), allowAllHandler)
	plain := httptest.NewServer(allowAllHandler)
	defer plain.Close()

	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "https://" + dead.Addr().String() + "/"
	dead.Close()

	silent, _ := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	closer, _ := net.Listen("tcp", "127.0.0.1:0") // accepts and hangs up
	defer closer.Close()
	go func() {
		for {
			c, err := closer.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	tests := []struct {
		name  string
		url   string
		opt   Options
		want  cors.Verdict
		class NetworkClass
	}{
		{"trusted with the CA", good.URL + "/", Options{RootCAs: ca.pool}, cors.Allowed, ""},
		{"untrusted certificate", good.URL + "/", Options{}, cors.Unreachable, TLSUntrusted},
		{"insecure skips verification", good.URL + "/", Options{Insecure: true}, cors.Allowed, ""},
		{"name mismatch", wrongName.URL + "/", Options{RootCAs: ca.pool}, cors.Unreachable, TLSNameMismatch},
		{"expired", expired.URL + "/", Options{RootCAs: ca.pool}, cors.Unreachable, TLSExpired},
		{"refused", deadURL, Options{}, cors.Unreachable, Refused},
		{"dns", "https://no-such-node.invalid/", Options{}, cors.Unreachable, DNS},
		{"timeout", "http://" + silent.Addr().String() + "/", Options{Timeout: 300 * time.Millisecond}, cors.Unreachable, Timeout},
		{"reset", "http://" + closer.Addr().String() + "/", Options{}, cors.Unreachable, Reset},
		{"https to a plain http port", strings.Replace(plain.URL, "http:", "https:", 1) + "/", Options{}, cors.Unreachable, Protocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(tt.opt)
			defer p.Close()
			rep := p.Check(context.Background(), request(t, tt.url), fix.CUIC)
			if rep.Verdict != tt.want {
				t.Fatalf("verdict %s, want %s\n%s", rep.Verdict, tt.want, rep.Text())
			}
			if tt.class == "" {
				if rep.Network != nil {
					t.Fatalf("unexpected network error %+v", rep.Network)
				}
				return
			}
			if rep.Network == nil || rep.Network.Class != tt.class {
				t.Fatalf("network %+v, want class %s", rep.Network, tt.class)
			}
			if rep.CorsError != "" || rep.Console != "" {
				t.Errorf("an unreachable node must not get a CORS reason: %q %q", rep.CorsError, rep.Console)
			}
			if len(rep.Fixes) == 0 || len(rep.Fixes[0].Notes) == 0 {
				t.Errorf("no fix for %s", tt.class)
			}
		})
	}
}

func TestWarningsFromTheServer(t *testing.T) {
	reflecting := httptest.NewServer(allowAllHandler)
	defer reflecting.Close()
	static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "https://finessep.example:8445" {
			w.Header().Add("Access-Control-Allow-Origin", "https://finessep.example:8445")
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Headers", "authorization")
			w.Header().Set("Access-Control-Max-Age", "86400")
			w.Header().Set("Vary", "Origin")
		}
	}))
	defer static.Close()
	tests := []struct {
		name    string
		url     string
		want    []cors.WarningCode
		notWant []cors.WarningCode
	}{
		{"reflects any origin, no Vary", reflecting.URL + "/", []cors.WarningCode{cors.WarnOriginReflected, cors.WarnVaryMissing}, nil},
		{"static allow list", static.URL + "/", []cors.WarningCode{cors.WarnMaxAge}, []cors.WarningCode{cors.WarnOriginReflected, cors.WarnVaryMissing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(Options{})
			defer p.Close()
			rep := p.Check(context.Background(), request(t, tt.url), fix.Custom)
			if rep.Verdict != cors.Allowed {
				t.Fatalf("verdict %s\n%s", rep.Verdict, rep.Text())
			}
			has := map[cors.WarningCode]bool{}
			for _, w := range rep.Warnings {
				has[w.Code] = true
			}
			for _, c := range tt.want {
				if !has[c] {
					t.Errorf("missing warning %s in %+v", c, rep.Warnings)
				}
			}
			for _, c := range tt.notWant {
				if has[c] {
					t.Errorf("unexpected warning %s", c)
				}
			}
		})
	}
}

func TestMixedContentIsNotSent(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	p := New(Options{})
	// The lab hosts are loopback, which browsers exempt from mixed-content blocking, so use a
	// name that resolves to loopback but is not one.
	u, _ := url.Parse(strings.Replace(srv.URL, "127.0.0.1", "cuic.example", 1))
	rep := p.Check(context.Background(), cors.Request{URL: u, Origin: "https://finessep.example:8445", Method: "GET", Credentials: cors.Include}, fix.CUIC)
	if rep.Verdict != cors.Unreachable || rep.Network == nil || rep.Network.Class != MixedContent {
		t.Fatalf("want unreachable (mixed content), got %s %+v", rep.Verdict, rep.Network)
	}
	if hits != 0 || len(rep.Steps) != 0 {
		t.Errorf("a mixed-content request must not be sent (hits %d, steps %d)", hits, len(rep.Steps))
	}
}

func TestFieldCaseReport(t *testing.T) {
	sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden) // Tomcat's CorsFilter for an origin it does not know
	}))
	defer sub.Close()
	p := New(Options{})
	rep := p.Check(context.Background(), request(t, sub.URL+"/cuic/rest/status/"), fix.CUIC)
	if rep.Verdict != cors.Blocked || rep.CorsError != cors.PreflightMissingAllowOriginHeader || rep.ExitCode() != ExitBlocked {
		t.Fatalf("got %s %s exit %d", rep.Verdict, rep.CorsError, rep.ExitCode())
	}
	if rep.Preflight == nil || rep.Preflight.Status != 403 || rep.Actual != nil {
		t.Fatalf("want the preflight's 403 kept and no actual request, got %+v %+v", rep.Preflight, rep.Actual)
	}
	text := rep.Text()
	for _, want := range []string{
		"blocked by CORS: PreflightMissingAllowOriginHeader",
		"utils cuic cors allowed_origin add https://finessep.example:8445",
		"utils service restart Intelligence Center Reporting Service",
		"from origin 'https://finessep.example:8445' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	for _, h := range rep.Preflight.RequestHeaders {
		if strings.EqualFold(h.Name, "Authorization") || strings.EqualFold(h.Name, "Cookie") {
			t.Errorf("the preflight must not carry %s", h.Name)
		}
	}
}
