package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/pgtest"
)

// BenchmarkAddResults measures durable results per second with 64 concurrent writers, each
// storing one result per call, as agents' browsers do. The "per-call" variants commit every
// call on its own (MaxBatch 1, or no queue for PostgreSQL): the baseline group commit is
// measured against.
func BenchmarkAddResults(b *testing.B) {
	b.Run("sqlite-full", func(b *testing.B) { benchAddResults(b, b.TempDir(), Options{}) })
	b.Run("sqlite-full-per-call", func(b *testing.B) { benchAddResults(b, b.TempDir(), Options{MaxBatch: 1}) })
	b.Run("postgres", func(b *testing.B) { benchAddResults(b, pgtest.DSN(b), Options{}) })
	b.Run("postgres-one-writer", func(b *testing.B) { benchAddResults(b, pgtest.DSN(b), Options{pgWriters: 1}) })
	b.Run("postgres-per-call", func(b *testing.B) { benchAddResults(b, pgtest.DSN(b), Options{pgWriters: -1}) })
}

const benchWriters = 64

func benchAddResults(b *testing.B, dsn string, opts Options) {
	opts.Logger = nil
	s := open(b, dsn, opts)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range benchWriters {
		wg.Go(func() {
			r := sampleResult(g)
			for c := 0; next.Add(1) <= int64(b.N); c++ {
				r.URL = fmt.Sprintf("https://node.test/%d/%d", g, c)
				// As the service sets it: the time of receipt. (A fixed time per writer would
				// scatter the inserts over the time-ordered indexes, which no service does.)
				r.ReceivedAt = time.Now()
				if _, err := s.AddResults(ctx, []Result{r}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "results/s")
}
