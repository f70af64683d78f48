package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/pgtest"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// load is a bounded loopback load generator: clients goroutines with keep-alive connections
// send requests POSTs of body, one after another each, and it returns the rate and latencies.
func load(b *testing.B, url string, body []byte, clients, requests int) (perSecond float64, p50, p99 time.Duration) {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	lat := make([]time.Duration, requests)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= requests {
					return
				}
				t0 := time.Now()
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					failed.Add(1)
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, requests)
	}
	slices.Sort(lat)
	return float64(requests) / elapsed.Seconds(), lat[len(lat)/2], lat[len(lat)*99/100]
}

// bareHandler is the baseline: a net/http handler that only decodes the same JSON.
func bareHandler(w http.ResponseWriter, r *http.Request) {
	var in any = &ResultInput{}
	if r.URL.Query().Has("batch") {
		in = &[]ResultInput{}
	}
	if err := json.NewDecoder(r.Body).Decode(in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, `{"ids":[0]}`)
}

// BenchmarkIngest measures durable ingest through the real API (validation, rate limiting,
// metrics, group commit) against the bare decoding handler, in the same run, and reports the
// ratio. Each iteration is one bounded load of 64 clients.
func BenchmarkIngest(b *testing.B) {
	single, _ := json.Marshal(validResult())
	batch, _ := json.Marshal([]map[string]any{validResult(), validResult(), validResult()})
	const clients, requests = 256, 20000
	backends := []struct {
		name string
		dsn  func(testing.TB) string
	}{
		{"sqlite", func(tb testing.TB) string { return tb.TempDir() }},
		{"postgres", pgtest.DSN},
	}
	bodies := []struct {
		name  string
		body  []byte
		rows  int
		query string
	}{
		{"single", single, 1, ""},
		{"batch-of-3", batch, 3, "?batch"}, // a Test of three nodes, reported together
	}
	for _, be := range backends {
		for _, bd := range bodies {
			b.Run(be.name+"/"+bd.name, func(b *testing.B) {
				st, err := store.Open(context.Background(), be.dsn(b), store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				ours := httptest.NewServer(NewServer(Config{Store: st, Catalogue: targets.NewLive(targets.Defaults(), nil),
					ResultsLimit: Limit{PerSecond: 1e9, Burst: 1 << 30}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
				defer ours.Close()
				bare := httptest.NewServer(http.HandlerFunc(bareHandler))
				defer bare.Close()
				var baseRate, ourRate float64
				var p50, p99 time.Duration
				for b.Loop() {
					r, _, _ := load(b, bare.URL+bd.query, bd.body, clients, requests)
					baseRate += r
					r, q50, q99 := load(b, ours.URL+"/api/v1/results", bd.body, clients, requests)
					ourRate += r
					p50, p99 = max(p50, q50), max(p99, q99)
				}
				n := float64(b.N)
				b.ReportMetric(baseRate/n, "baseline-req/s")
				b.ReportMetric(ourRate/n, "req/s")
				b.ReportMetric(ourRate/n*float64(bd.rows), "results/s")
				b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
				b.ReportMetric(ourRate/baseRate, "ratio")
				if cnt, err := st.CountResults(context.Background(), store.Filter{}); err != nil || cnt != int64(b.N*requests*bd.rows) {
					b.Fatalf("stored %d (%v), want %d", cnt, err, b.N*requests*bd.rows)
				}
			})
		}
	}
}
