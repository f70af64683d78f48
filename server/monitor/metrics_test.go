package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/probe"
)

func TestMetrics(t *testing.T) {
	leading := true
	m := NewMetrics(func() bool { return leading })
	checks := testChecks(3)
	at := time.Unix(1_800_000_000, 500_000_000)
	for i, v := range []cors.Verdict{ok, bad, down} {
		m.Observe(Outcome{Check: checks[i], Report: &probe.Report{Verdict: v}, At: at, Took: 30 * time.Millisecond})
	}
	// An older outcome arriving late does not replace the newer one.
	m.Observe(Outcome{Check: checks[1], Report: &probe.Report{Verdict: ok}, At: at.Add(-time.Minute)})

	want := `
# HELP corscheck_monitor_verdict Verdict of the newest scheduled check: 0 allowed, 1 blocked by CORS, 2 unreachable.
# TYPE corscheck_monitor_verdict gauge
corscheck_monitor_verdict{endpoint="CUIC 8444",kind="cuic",node="node000.example.com",origin="https://f.example.com:8445"} 0
corscheck_monitor_verdict{endpoint="CUIC 8444",kind="cuic",node="node001.example.com",origin="https://f.example.com:8445"} 1
corscheck_monitor_verdict{endpoint="CUIC 8444",kind="cuic",node="node002.example.com",origin="https://f.example.com:8445"} 2
# HELP corscheck_monitor_last_check_timestamp_seconds When the newest scheduled check started, in Unix seconds.
# TYPE corscheck_monitor_last_check_timestamp_seconds gauge
corscheck_monitor_last_check_timestamp_seconds{endpoint="CUIC 8444",kind="cuic",node="node000.example.com",origin="https://f.example.com:8445"} 1.8000000005e+09
corscheck_monitor_last_check_timestamp_seconds{endpoint="CUIC 8444",kind="cuic",node="node001.example.com",origin="https://f.example.com:8445"} 1.8000000005e+09
corscheck_monitor_last_check_timestamp_seconds{endpoint="CUIC 8444",kind="cuic",node="node002.example.com",origin="https://f.example.com:8445"} 1.8000000005e+09
# HELP corscheck_monitor_leader 1 on the instance that runs the scheduled checks, 0 on the others.
# TYPE corscheck_monitor_leader gauge
corscheck_monitor_leader 1
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want),
		"corscheck_monitor_verdict", "corscheck_monitor_last_check_timestamp_seconds", "corscheck_monitor_leader"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m, "corscheck_monitor_check_duration_seconds"); n != 1 {
		t.Errorf("%d duration histograms, want 1 (kind cuic)", n)
	}
	if problems, err := testutil.CollectAndLint(m); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}

	m.Retain(func(k Key) bool { return k == checks[0].Key })
	if n := testutil.CollectAndCount(m, "corscheck_monitor_verdict"); n != 1 {
		t.Errorf("%d verdict series after Retain, want 1", n)
	}
	leading = false
	m.Retain(nil)
	if n := testutil.CollectAndCount(m, "corscheck_monitor_verdict"); n != 0 {
		t.Errorf("%d verdict series after Retain(nil), want 0", n)
	}
	follower := `
# HELP corscheck_monitor_leader 1 on the instance that runs the scheduled checks, 0 on the others.
# TYPE corscheck_monitor_leader gauge
corscheck_monitor_leader 0
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(follower), "corscheck_monitor_leader"); err != nil {
		t.Error(err)
	}
}
