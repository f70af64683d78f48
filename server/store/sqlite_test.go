package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestSQLite(t *testing.T) {
	testContract(t, func(tb testing.TB) string { return tb.TempDir() })
}

func TestSQLiteOpenCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%chars", "data")
	s := open(t, dir, Options{})
	add(t, s, sampleResult(1))
	if _, err := os.Stat(filepath.Join(dir, sqliteFile)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := Open(ctx, file, Options{}); err == nil {
		t.Fatal("opened a data directory that is a file")
	}
}

func TestSQLitePragmas(t *testing.T) {
	s := open(t, t.TempDir(), Options{}).(*sqliteStore)
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"} {
		var got string
		if err := s.writer.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", pragma, got, err, want)
		}
	}
	if _, err := s.readers.Exec("DELETE FROM results"); err == nil {
		t.Fatal("the read pool can write")
	}
}

// The admin's filtered lists must read an index in time order and stop at the limit: no full
// scan, no sort of every matching row, whatever the filter, the time range and the page.
func TestSQLiteQueryPlans(t *testing.T) {
	s := open(t, t.TempDir(), Options{}).(*sqliteStore)
	var rs []Result
	for i := range 2000 {
		rs = append(rs, sampleResult(i))
	}
	add(t, s, rs...)
	s.writer.Exec("ANALYZE")
	page := Cursor{ReceivedAt: base.Add(900 * time.Second), ID: 900}
	since, until := base.Add(100*time.Second), base.Add(1500*time.Second)
	for _, f := range []Filter{
		{}, {Before: page}, {Since: since}, {Until: until, Before: page},
		{Node: nodes[0]}, {PageOrigin: origins[1], Before: page}, {TargetKind: "rest"}, {Verdict: "blocked"},
		{AgentID: "agent1", Before: page}, {Node: nodes[0], Verdict: "allowed"},
		{Reason: "PreflightMissingAllowOriginHeader", Before: page},
		// A cell of the dashboard's matrix, in its window.
		{TargetKind: "rest", Node: nodes[0], PageOrigin: origins[1], Since: since},
		{TargetKind: "rest", Node: nodes[0], PageOrigin: origins[1], Since: since, Until: until, Before: page},
	} {
		query, args := resultsQuery(f, sqliteTime)
		plan := explain(t, s, query, args)
		if !strings.Contains(plan, "USING INDEX") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%+v: plan %q", f, plan)
		}
		// The most selective column's index, whatever the statistics say.
		want := map[bool]string{true: "results_node", false: "?"}[f.Node != ""]
		if f.AgentID != "" {
			want = "results_agent_id"
		}
		if want != "?" && !strings.Contains(plan, want) {
			t.Errorf("%+v: plan %q, want %s", f, plan, want)
		}
		for _, upTo := range []int64{0, 10_000} {
			query, args = countQuery(f, upTo, sqliteTime)
			// Counted from the results' indexes, or from the small summary table.
			if plan := explain(t, s, query, args); !strings.Contains(plan, "INDEX") && !strings.Contains(plan, "result_counts") {
				t.Errorf("count up to %d %+v: plan %q", upTo, f, plan)
			}
		}
	}
}

func explain(t *testing.T, s *sqliteStore, query string, args []any) string {
	t.Helper()
	rows, err := s.readers.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "; ")
}

const helperDirEnv = "CORSCHECK_STORE_HELPER_DIR"

// TestSQLiteKill9 kills a process writing a burst of results with SIGKILL and checks that every
// result it had acknowledged is in the database afterwards, intact.
func TestSQLiteKill9(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[int64]string{}
	lines := bufio.NewScanner(out)
	killAt := time.Now().Add(10 * time.Second)
	killed := false
	for lines.Scan() {
		id, url, ok := strings.Cut(lines.Text(), " ")
		n, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil {
			continue // not an acknowledgement (test framework output)
		}
		acked[n] = url
		// Mid-burst: the writers are still going, transactions are in flight.
		if !killed && (len(acked) >= 5000 || time.Now().After(killAt)) {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
	}
	// Lines written before the kill were still in the pipe and read above.
	err = cmd.Wait()
	var exit *exec.ExitError
	if !killed || !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper was not killed mid-burst (killed=%v, %v): %s", killed, err, stderr.String())
	}
	if len(acked) < 100 {
		t.Fatalf("only %d acknowledged results before the kill: %s", len(acked), stderr.String())
	}

	s := open(t, dir, Options{}).(*sqliteStore)
	var check string
	if err := s.readers.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	for id, url := range acked {
		r, err := s.Result(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged result %d: %v", id, err)
		}
		want := helperResult(url)
		sameResult(t, r, stored(want, id))
	}
	n, _ := s.CountResults(ctx, Filter{})
	t.Logf("%d results acknowledged before SIGKILL, all present; %d in the database", len(acked), n)
}

func helperResult(url string) Result {
	r := sampleResult(len(url))
	r.URL = url
	return r
}

// TestHelperWriter is TestSQLiteKill9's child process, not a test of its own: it writes results
// from 64 goroutines into the directory named by the environment and prints "id url" for each
// as soon as AddResults acknowledges it.
func TestHelperWriter(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("run by TestSQLiteKill9")
	}
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var wg sync.WaitGroup
	stop := time.Now().Add(60 * time.Second) // if nobody kills us
	for g := range 64 {
		wg.Go(func() {
			for c := 0; time.Now().Before(stop); c++ {
				r := helperResult(fmt.Sprintf("https://node.test/%d/%d", g, c))
				ids, err := s.AddResults(ctx, []Result{r})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				// One write per line: below PIPE_BUF, so lines never interleave.
				os.Stdout.WriteString(fmt.Sprintf("%d %s\n", ids[0], r.URL))
			}
		})
	}
	wg.Wait()
	s.Close()
}
