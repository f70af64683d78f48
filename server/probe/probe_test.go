package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/server/words"
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
	closer, _ := net.Listen("tcp", "127.0.0.1:0") // reads the request, then hangs up without a word
	defer closer.Close()
	go func() {
		for {
			c, err := closer.Accept()
			if err != nil {
				return
			}
			// Reading the request first makes the close a clean end of stream: closing with the
			// request unread would make the kernel reset the connection instead, which is
			// another failure (net::ERR_CONNECTION_RESET) and would make the case depend on timing.
			http.ReadRequest(bufio.NewReader(c))
			c.Close()
		}
	}()

	clientAuth := tlsServer(t, ca.leaf(t, leafSpec{ips: loop, cn: "127.0.0.1", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}), allowAllHandler)
	keyUsage := tlsServer(t, ca.leaf(t, leafSpec{ips: loop, cn: "127.0.0.1", keyUsage: x509.KeyUsageKeyEncipherment}), allowAllHandler)
	tls10 := httptest.NewUnstartedServer(allowAllHandler)
	tls10.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, leafSpec{ips: loop, cn: "127.0.0.1"})}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}
	tls10.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	tls10.StartTLS()
	defer tls10.Close()
	trusted := Options{RootCAs: ca.pool}

	tests := []struct {
		name     string
		url      string
		opt      Options
		want     cors.Verdict
		class    NetworkClass
		netError string
		advice   []string // in the CUIC fix's commands, restarts or notes
	}{
		{name: "trusted with the CA", url: good.URL + "/", opt: trusted, want: cors.Allowed},
		{name: "untrusted certificate", url: good.URL + "/", want: cors.Unreachable, class: TLSUntrusted, netError: "net::ERR_CERT_AUTHORITY_INVALID",
			advice: []string{"set csr gen tomcat", "not the browser"}},
		{name: "insecure skips verification", url: good.URL + "/", opt: Options{Insecure: true}, want: cors.Allowed},
		{name: "name mismatch", url: wrongName.URL + "/", opt: trusted, want: cors.Unreachable, class: TLSNameMismatch, netError: "net::ERR_CERT_COMMON_NAME_INVALID",
			advice: []string{"Importing a CA does not fix this"}},
		{name: "expired", url: expired.URL + "/", opt: trusted, want: cors.Unreachable, class: TLSExpired, netError: "net::ERR_CERT_DATE_INVALID",
			advice: []string{"set cert regen tomcat", "utils service restart Cisco Tomcat", "expired on"}},
		{name: "client authentication only", url: clientAuth.URL + "/", opt: trusted, want: cors.Unreachable, class: TLSInvalid, netError: "net::ERR_CERT_INVALID",
			advice: []string{"serverAuth"}},
		{name: "key usage without digital signature", url: keyUsage.URL + "/", opt: trusted, want: cors.Unreachable, class: TLSKeyUsage, netError: "net::ERR_SSL_KEY_USAGE_INCOMPATIBLE"},
		{name: "TLS 1.0 only", url: tls10.URL + "/", opt: trusted, want: cors.Unreachable, class: TLSVersion, netError: "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH",
			advice: []string{"set tls min-version 1.2"}},
		{name: "refused", url: deadURL, want: cors.Unreachable, class: Refused, netError: "net::ERR_CONNECTION_REFUSED"},
		{name: "dns", url: "https://no-such-node.invalid/", want: cors.Unreachable, class: DNS, netError: "net::ERR_NAME_NOT_RESOLVED"},
		{name: "timeout", url: "http://" + silent.Addr().String() + "/", opt: Options{Timeout: 300 * time.Millisecond}, want: cors.Unreachable, class: Timeout, netError: "net::ERR_TIMED_OUT"},
		{name: "reset", url: "http://" + closer.Addr().String() + "/", want: cors.Unreachable, class: Reset, netError: "net::ERR_EMPTY_RESPONSE"},
		{name: "https to a plain http port", url: strings.Replace(plain.URL, "http:", "https:", 1) + "/", want: cors.Unreachable, class: Protocol, netError: "net::ERR_SSL_PROTOCOL_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(tt.opt)
			defer p.Close()
			rep := p.Check(context.Background(), request(t, tt.url), targets.CUIC)
			if rep.Verdict != tt.want {
				t.Fatalf("verdict %s, want %s\n%s", rep.Verdict, tt.want, rep.Text())
			}
			if tt.class == "" {
				if rep.Network != nil {
					t.Fatalf("unexpected network error %+v", rep.Network)
				}
				return
			}
			if rep.Network == nil || rep.Network.Class != tt.class || rep.Network.NetError != tt.netError {
				t.Fatalf("network %+v, want class %s, %s", rep.Network, tt.class, tt.netError)
			}
			for _, a := range tt.advice {
				if !strings.Contains(fix.Text(rep.Fixes, words.English), a) {
					t.Errorf("the fix lacks %q:\n%s", a, fix.Text(rep.Fixes, words.English))
				}
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
			rep := p.Check(context.Background(), request(t, tt.url), targets.Custom)
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
	rep := p.Check(context.Background(), cors.Request{URL: u, Origin: "https://finessep.example:8445", Method: "GET", Credentials: cors.Include}, targets.CUIC)
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
	rep := p.Check(context.Background(), request(t, sub.URL+"/cuic/rest/status/"), targets.CUIC)
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

// TestEveryNetworkClassHasAFix: the fix package keeps advice per class in fixes.json.
func TestEveryNetworkClassHasAFix(t *testing.T) {
	u, _ := url.Parse("https://cuicsub.example:8444/cuic/rest/status/")
	for _, c := range NetworkClasses {
		for _, k := range targets.Kinds {
			fs := fix.For(fix.Problem{Kind: k, URL: u, Origin: "https://finessep.example:8445", Network: string(c), NetworkDetail: "detail"})
			if len(fs) != 1 || len(fs[0].Notes) == 0 {
				t.Errorf("class %s, kind %s: fix %+v", c, k, fs)
			}
		}
	}
}
