package store

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/corsquickcheck/corscheck/server/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

func TestPostgres(t *testing.T) {
	testContract(t, pgtest.DSN)
}

// Two service instances on one database: both migrate at once, both write at once, and every
// result is there exactly once with its own id.
func TestPostgresTwoInstances(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	stores := make([]Store, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, dsn, Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}

	const writers, calls = 16, 25
	var mu sync.Mutex
	urls := map[int64]string{}
	for i, s := range stores {
		for g := range writers {
			wg.Go(func() {
				for c := range calls {
					rs := []Result{sampleResult(c), sampleResult(c + 1)}
					rs[0].URL = fmt.Sprintf("https://node.test/%d/%d/%d/a", i, g, c)
					rs[1].URL = fmt.Sprintf("https://node.test/%d/%d/%d/b", i, g, c)
					ids, err := s.AddResults(ctx, rs)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for k, id := range ids {
						if _, dup := urls[id]; dup {
							t.Errorf("id %d given twice", id)
						}
						urls[id] = rs[k].URL
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if want := 2 * writers * calls * 2; len(urls) != want {
		t.Fatalf("%d distinct ids, want %d", len(urls), want)
	}
	for i, s := range stores {
		if n, err := s.CountResults(ctx, Filter{}); err != nil || n != int64(len(urls)) {
			t.Fatalf("instance %d counts %d (%v), want %d", i, n, err, len(urls))
		}
	}
	got := allResults(t, stores[1], Filter{})
	for _, r := range got {
		if urls[r.ID] != r.URL {
			t.Fatalf("result %d has URL %q, want %q", r.ID, r.URL, urls[r.ID])
		}
	}
	if len(got) != len(urls) {
		t.Fatalf("listed %d results, want %d", len(got), len(urls))
	}
	ms, err := migrations("postgres")
	if err != nil {
		t.Fatal(err)
	}
	if v := schemaVersions(t, stores[0]); len(v) != len(ms) {
		t.Fatalf("schema_version %v: a migration ran twice or not at all (%d migrations)", v, len(ms))
	}
}
