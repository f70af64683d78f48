package alert

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/corsquickcheck/corscheck/server/egress"
)

// receiverServer records what it is sent and answers with status.
type receiverServer struct {
	*httptest.Server
	mu     sync.Mutex
	got    []*http.Request
	bodies [][]byte
	status int
}

func newReceiverServer(t *testing.T, status int) *receiverServer {
	t.Helper()
	rs := &receiverServer{status: status}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rs.mu.Lock()
		rs.got = append(rs.got, r)
		rs.bodies = append(rs.bodies, b)
		rs.mu.Unlock()
		if rs.status >= 300 && rs.status < 400 {
			w.Header().Set("Location", "http://169.254.169.254/latest/meta-data/")
		}
		w.WriteHeader(rs.status)
		io.WriteString(w, "answer from the receiver")
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *receiverServer) count() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return len(rs.got)
}

func mustReceiver(t *testing.T, s string) Receiver {
	t.Helper()
	r, err := ParseReceiver(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

func TestSendWebhook(t *testing.T) {
	srv := newReceiverServer(t, http.StatusNoContent)
	r := mustReceiver(t, srv.URL+"/hook/secret-token")
	s := NewSender(SenderOptions{Guard: Guard([]Receiver{r}, loopback)})
	t.Cleanup(s.Close)
	e := sampleEvent(Opened)
	if err := s.Send(t.Context(), r, e); err != nil {
		t.Fatal(err)
	}
	if srv.count() != 1 {
		t.Fatalf("%d requests", srv.count())
	}
	req, body := srv.got[0], srv.bodies[0]
	if req.Method != "POST" || req.URL.Path != "/hook/secret-token" || req.Header.Get("Content-Type") != "application/json" ||
		req.Header.Get("Idempotency-Key") != e.IdempotencyKey {
		t.Errorf("request %s %s %v", req.Method, req.URL, req.Header)
	}
	var got Event
	if err := json.Unmarshal(body, &got); err != nil || got.IdempotencyKey != e.IdempotencyKey || got.Incident.ID != 42 {
		t.Errorf("body %s (%v)", body, err)
	}
}

func TestSendFailures(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   string
	}{
		{http.StatusInternalServerError, "answered 500 Internal Server Error: answer from the receiver"},
		{http.StatusFound, "answered 302 Found; alerts do not follow redirects"},
		{http.StatusBadRequest, "answered 400 Bad Request"},
	} {
		srv := newReceiverServer(t, tt.status)
		r := mustReceiver(t, "slack+"+srv.URL+"/services/secret-token")
		s := NewSender(SenderOptions{Guard: Guard([]Receiver{r}, loopback)})
		err := s.Send(t.Context(), r, sampleEvent(Opened))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), r.Name) {
			t.Errorf("%d: error %v, want %q", tt.status, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret-token") {
			t.Errorf("%d: the error shows the URL's secret: %v", tt.status, err)
		}
		if srv.count() != 1 {
			t.Errorf("%d: %d requests; a redirect must not be followed", tt.status, srv.count())
		}
	}
}

// fakeResolver answers every name with addrs.
type fakeResolver []netip.Addr

func (f fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return f, nil
}

// Receivers' URLs that would make the service call what it must not are refused by the egress
// guard, before any byte leaves; the refusal says why without showing the URL's secret.
func TestHostileReceiversAreRefused(t *testing.T) {
	srv := newReceiverServer(t, http.StatusNoContent)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	for _, tt := range []struct {
		name, url string
		nets      []netip.Prefix
		resolver  egress.Resolver
		want      string
	}{
		{"loopback", "http://127.0.0.1" + port + "/secret", nil, nil, "127.0.0.1 is loopback"},
		{"localhost", "http://localhost" + port + "/secret", nil, nil, "is loopback"},
		{"IPv6 loopback", "http://[::1]" + port + "/secret", nil, nil, "::1 is loopback"},
		{"cloud metadata", "http://169.254.169.254/secret", nil, nil, "cloud metadata"},
		{"cloud metadata inside an allowed network", "http://169.254.169.254/secret",
			[]netip.Prefix{netip.MustParsePrefix("169.254.0.0/16")}, nil, "cloud metadata"},
		{"private", "http://10.1.2.3/secret", nil, nil, "private (RFC 1918)"},
		{"a name that resolves to loopback", "https://hooks.evil.example" + port + "/secret", nil,
			fakeResolver{netip.MustParseAddr("127.0.0.1")}, "hooks.evil.example resolves to 127.0.0.1"},
		{"a name that resolves to metadata", "teams+https://teams.evil.example/secret", nil,
			fakeResolver{netip.MustParseAddr("169.254.169.254")}, "cloud metadata"},
		{"mail relay on loopback", "smtp://127.0.0.1" + port + "?from=a@example.com&to=b@example.com", nil, nil, "loopback"},
	} {
		r := mustReceiver(t, tt.url)
		g := Guard([]Receiver{r}, tt.nets)
		g.Resolver = tt.resolver
		s := NewSender(SenderOptions{Guard: g})
		err := s.Send(t.Context(), r, sampleEvent(Opened))
		if !errors.As(err, new(*egress.Error)) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want a refusal with %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the URL's secret: %v", tt.name, err)
		}
	}
	if srv.count() != 0 {
		t.Errorf("the receiver on loopback got %d requests", srv.count())
	}

	// A guard made for one receiver does not let another through, even an allowed address.
	a := mustReceiver(t, srv.URL+"/a")
	other := mustReceiver(t, "http://localhost"+port+"/b")
	s := NewSender(SenderOptions{Guard: Guard([]Receiver{a}, loopback)})
	if err := s.Send(t.Context(), other, sampleEvent(Opened)); !errors.As(err, new(*egress.Error)) ||
		!strings.Contains(err.Error(), "localhost is not one of the alert receivers") {
		t.Errorf("a host the guard does not list: %v", err)
	}
	if srv.count() != 0 {
		t.Errorf("the receiver got %d requests", srv.count())
	}
}
