package browsertest

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
)

// Sink is where a test browser's traffic to anything but loopback and the lab's names ends. It
// has two loopback listeners:
//   - the proxy the browser is pointed at: it answers 403 to every request and records it, so a
//     test can prove the browser tried nothing beyond this machine;
//   - a dead end for the Google services Chromium calls whatever its flags say (the Google
//     account list, the component updater): their URLs are pointed here, and every connection is
//     closed at once.
type Sink struct {
	proxy    net.Listener
	server   *http.Server
	deadEnd  net.Listener
	diverted atomic.Int64
	mu       sync.Mutex
	asked    []string
}

// NewSink starts a sink on two loopback ports.
func NewSink() (*Sink, error) {
	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("browser sink: %w", err)
	}
	deadEnd, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		proxy.Close()
		return nil, fmt.Errorf("browser sink: %w", err)
	}
	s := &Sink{proxy: proxy, deadEnd: deadEnd}
	s.server = &http.Server{Handler: http.HandlerFunc(s.refuse)}
	go s.server.Serve(proxy)
	go func() {
		for {
			c, err := deadEnd.Accept()
			if err != nil {
				return
			}
			s.diverted.Add(1)
			c.Close()
		}
	}()
	return s, nil
}

// refuse records a request (a CONNECT names host:port, a plain proxy request its URL) and
// answers 403 without contacting anything.
func (s *Sink) refuse(w http.ResponseWriter, r *http.Request) {
	what := r.Method + " " + r.RequestURI
	if r.Method == http.MethodConnect {
		what = "CONNECT " + r.Host
	}
	s.mu.Lock()
	s.asked = append(s.asked, what)
	s.mu.Unlock()
	w.Header().Set("Connection", "close")
	http.Error(w, "corscheck test sink: tests never leave this machine", http.StatusForbidden)
}

// ProxyURL is the proxy address to give a browser.
func (s *Sink) ProxyURL() string { return "http://" + s.proxy.Addr().String() }

// DeadEndURL is a loopback URL whose connections are closed at once.
func (s *Sink) DeadEndURL() string { return "http://" + s.deadEnd.Addr().String() + "/" }

// Asked returns every request the proxy received, oldest first.
func (s *Sink) Asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.asked)
}

// Diverted counts the connections the dead end closed.
func (s *Sink) Diverted() int64 { return s.diverted.Load() }

// Close stops both listeners.
func (s *Sink) Close() error {
	s.deadEnd.Close()
	return s.server.Close()
}
