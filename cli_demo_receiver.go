package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/corsquickcheck/corscheck/server/alert"
)

// demoReceiver is the demo's alert receiver: a generic JSON webhook on loopback that prints
// every alert it gets, and says so when an idempotency key comes again (a redelivery).
type demoReceiver struct {
	url    string
	srv    *http.Server
	out    io.Writer
	mu     sync.Mutex
	seen   map[string]bool
	events []alert.Event
}

func startDemoReceiver(out io.Writer) (*demoReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo webhook receiver: %w", err)
	}
	d := &demoReceiver{url: "http://" + ln.Addr().String() + "/alerts", out: out, seen: map[string]bool{}}
	d.srv = &http.Server{Handler: http.HandlerFunc(d.receive), ReadHeaderTimeout: 10 * time.Second}
	go d.srv.Serve(ln)
	return d, nil
}

func (d *demoReceiver) receive(w http.ResponseWriter, r *http.Request) {
	var e alert.Event
	if r.Method != http.MethodPost || json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&e) != nil {
		http.Error(w, "POST an alert", http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	again := ""
	if d.seen[e.IdempotencyKey] {
		again = " (again: the same idempotency key, so nothing new)"
	}
	d.seen[e.IdempotencyKey] = true
	d.events = append(d.events, e)
	fmt.Fprintf(d.out, "Demo webhook receiver: %s %s: incident %d: %s%s\n",
		time.Now().Format("15:04:05"), e.Event, e.Incident.ID, e.Title(), again)
	w.WriteHeader(http.StatusNoContent)
}

// received returns the alerts received so far.
func (d *demoReceiver) received() []alert.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]alert.Event(nil), d.events...)
}

func (d *demoReceiver) Close() { d.srv.Close() }
