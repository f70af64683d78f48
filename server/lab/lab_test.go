package lab_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/lab"
	"github.com/corsquickcheck/corscheck/server/probe"
)

func startLab(t *testing.T) *lab.Lab {
	t.Helper()
	l, err := lab.Start(lab.Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func target(t *testing.T, l *lab.Lab, name string) lab.Target {
	t.Helper()
	tg, ok := l.Target(name)
	if !ok {
		t.Fatalf("no target %q", name)
	}
	return tg
}

// send makes one raw request to the lab, trusting only the lab CA.
func send(t *testing.T, l *lab.Lab, method, url string, header map[string]string) *http.Response {
	t.Helper()
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: labTransport(l),
	}
	t.Cleanup(client.CloseIdleConnections)
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	resp.Body.Close()
	return resp
}

func TestTargetsAnswerLikeTheField(t *testing.T) {
	l := startLab(t)
	preflight := map[string]string{
		"Origin":                         lab.FinesseOrigin,
		"Access-Control-Request-Method":  "GET",
		"Access-Control-Request-Headers": "authorization,locale,peripheralid",
	}
	actual := map[string]string{"Origin": lab.FinesseOrigin}
	foreign := map[string]string{
		"Origin":                        "https://evil.example",
		"Access-Control-Request-Method": "GET",
	}
	tests := []struct {
		name, target, method string
		header               map[string]string
		status               int
		want                 map[string]string // "" means the header must be absent
	}{
		{"publisher preflight", "cuicpub", "OPTIONS", preflight, 200, map[string]string{
			"Access-Control-Allow-Origin":      lab.FinesseOrigin,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET,POST,PUT,DELETE,OPTIONS,HEAD",
			"Vary":                             "Origin",
		}},
		{"publisher GET", "cuicpub", "GET", actual, 200, map[string]string{
			"Access-Control-Allow-Origin":      lab.FinesseOrigin,
			"Access-Control-Allow-Credentials": "true",
			"Content-Type":                     "application/json",
		}},
		{"publisher refuses a foreign origin", "cuicpub", "OPTIONS", foreign, 403, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
		{"publisher refuses an unlisted header", "cuicpub", "OPTIONS", map[string]string{
			"Origin": lab.FinesseOrigin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-custom",
		}, 403, map[string]string{"Access-Control-Allow-Origin": ""}},
		{"publisher without Origin", "cuicpub", "GET", nil, 200, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
		{"subscriber preflight", "cuicsub", "OPTIONS", preflight, 403, map[string]string{
			"Access-Control-Allow-Origin":      "",
			"Access-Control-Allow-Credentials": "",
		}},
		{"subscriber GET", "cuicsub", "GET", actual, 403, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
		{"livedata-a preflight", "livedata-a", "OPTIONS", preflight, 204, map[string]string{
			"Access-Control-Allow-Origin":      lab.FinesseOrigin,
			"Access-Control-Allow-Credentials": "",
		}},
		{"livedata-b preflight", "livedata-b", "OPTIONS", preflight, 204, map[string]string{
			"Access-Control-Allow-Origin":      lab.FinesseOrigin,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Headers":     "referer,origin,locale,accept,authorization,domain,x-requested-with,content-type,access-control-request-private-network,user-agent",
		}},
		{"livedata-b foreign origin", "livedata-b", "OPTIONS", foreign, 204, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(t, l, tt.method, target(t, l, tt.target).URL, tt.header)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			for name, want := range tt.want {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestProbeVerdicts is the lab's reason to exist: the probe must tell each field case apart.
func TestProbeVerdicts(t *testing.T) {
	l := startLab(t)
	p := probe.New(probe.Options{Timeout: 5 * time.Second, RootCAs: l.CA().Pool()})
	t.Cleanup(p.Close)
	tests := []struct {
		target  string
		verdict cors.Verdict
		reason  cors.Reason
	}{
		{"cuicpub", cors.Allowed, ""},
		{"cuicsub", cors.Blocked, cors.PreflightMissingAllowOriginHeader},
		{"livedata-a", cors.Blocked, cors.PreflightInvalidAllowCredentials},
		{"livedata-b", cors.Blocked, cors.HeaderDisallowedByPreflightResponse},
		{"cuic-dead", cors.Unreachable, ""},
	}
	if got, want := len(l.Targets()), len(tests); got != want {
		t.Fatalf("lab has %d targets, want %d", got, want)
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			tg := target(t, l, tt.target)
			req, err := lab.GadgetRequest(tg.URL, lab.FinesseOrigin)
			if err != nil {
				t.Fatal(err)
			}
			rep := p.Check(t.Context(), req, tg.Kind)
			if rep.Verdict != tt.verdict || rep.CorsError != tt.reason {
				t.Errorf("verdict %s %s, want %s %s\n%s", rep.Verdict, rep.CorsError, tt.verdict, tt.reason, rep.Text())
			}
			if tt.verdict == cors.Unreachable && (rep.Network == nil || rep.Network.Class != probe.Refused) {
				t.Errorf("network = %+v, want refused", rep.Network)
			}
			if len(rep.Warnings) > 0 {
				t.Errorf("unexpected warnings %v", rep.Warnings)
			}
		})
	}
}

func TestCloseStopsTargets(t *testing.T) {
	l, err := lab.Start(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := l.Target("cuicpub")
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: labTransport(l)}
	if resp, err := client.Get(tg.URL); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s after Close answered %s", tg.URL, resp.Status)
	}
}

func TestGadgetRequest(t *testing.T) {
	req, err := lab.GadgetRequest("https://cuic1.example:8444/cuic/rest/status/", lab.FinesseOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "GET" || req.Credentials != cors.Include || req.Origin != lab.FinesseOrigin {
		t.Errorf("request = %+v", req)
	}
	if got := strings.Join(cors.UnsafeHeaderNames(req.Header), ","); got != "authorization,locale,peripheralid" {
		t.Errorf("preflighted headers = %q", got)
	}
	if _, err := lab.GadgetRequest("https://cuic1.example:8444/", "not an origin"); err == nil {
		t.Error("GadgetRequest accepted a bad origin")
	}
}

// labTransport trusts the lab CA and, like a browser, sends names under .localhost to loopback.
func labTransport(l *lab.Lab) *http.Transport {
	var d net.Dialer
	return &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: l.CA().Pool()},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
	}
}

// A node switched to another state answers in that state from the next request on: the
// monitor's tests and the demo flip nodes between allowed, blocked and unreachable.
func TestSetSwitchesANode(t *testing.T) {
	l := startLab(t)
	p := probe.New(probe.Options{Timeout: 5 * time.Second, RootCAs: l.CA().Pool()})
	t.Cleanup(p.Close)
	check := func(name string) *probe.Report {
		t.Helper()
		req, err := lab.GadgetRequest(target(t, l, name).URL, lab.FinesseOrigin)
		if err != nil {
			t.Fatal(err)
		}
		return p.Check(t.Context(), req, target(t, l, name).Kind)
	}
	steps := []struct {
		node    string
		state   lab.State
		verdict cors.Verdict
	}{
		{"cuicsub", lab.FieldCase, cors.Blocked},
		{"cuicsub", lab.Allowing, cors.Allowed},
		{"cuicsub", lab.Down, cors.Unreachable},
		{"cuicsub", lab.FieldCase, cors.Blocked},
		{"cuicpub", lab.Down, cors.Unreachable},
		{"cuicpub", lab.Allowing, cors.Allowed},
		{"livedata-a", lab.Allowing, cors.Allowed},
		{"livedata-b", lab.Allowing, cors.Allowed},
		{"livedata-b", lab.FieldCase, cors.Blocked},
	}
	for _, s := range steps {
		if err := l.Set(s.node, s.state); err != nil {
			t.Fatal(err)
		}
		if rep := check(s.node); rep.Verdict != s.verdict {
			t.Errorf("%s %s: verdict %s, want %s\n%s", s.node, s.state, rep.Verdict, s.verdict, rep.Text())
		}
	}
	if err := l.Set("cuic-dead", lab.Allowing); err == nil {
		t.Error("Set switched the node that has no server")
	}
	if err := l.Set("cuicsub", lab.State(9)); err == nil {
		t.Error("Set took an unknown state")
	}
}
