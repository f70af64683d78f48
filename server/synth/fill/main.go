// Command fill fills a store with synthetic results (package synth) for the scale benchmarks:
//
//	go run ./server/synth/fill -data DIR -results N [-span 30d] [-seed 1]
//
// DIR is a SQLite data directory or a postgres:// URL. A store that already holds N results is
// left as it is; a fill that was interrupted resumes where it stopped when run again with the
// same flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/synth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "fill: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "SQLite data directory or postgres:// URL (required)")
	results := fs.Int("results", 0, "how many results the store should hold (required)")
	spanFlag := fs.String("span", "30d", "how far back the results go (e.g. 30d, 36h)")
	seed := fs.Uint64("seed", 1, "the generator's seed")
	batch := fs.Int("batch", 5000, "results per transaction")
	noDiagnoses := fs.Bool("no-diagnoses", false, "store no diagnoses of the failures")
	if err := fs.Parse(args); err != nil {
		return err
	}
	span, err := synth.ParseSpan(*spanFlag)
	if *data == "" || *results <= 0 || err != nil || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("usage: fill -data DIR -results N [-span 30d] [-seed 1]")
	}

	where := *data
	if u, err := url.Parse(where); err == nil && u.User != nil {
		where = u.Redacted() // a postgres:// URL: not its password
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(ctx, *data, store.Options{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	have, err := st.CountResults(ctx, store.Filter{})
	if err != nil {
		return err
	}
	if have >= int64(*results) {
		fmt.Fprintf(stdout, "%s already holds %d results (asked for %d): nothing to add.\n", where, have, *results)
		return nil
	}
	want := synth.FillPlan{Now: time.Now().UTC().Truncate(time.Second), Span: synth.FormatSpan(span), Seed: *seed, Results: *results}
	p, err := startOrResume(ctx, st, want, have)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}

	o, err := p.Options(p.Results)
	if err != nil {
		return err
	}
	o.NoDiagnoses = *noDiagnoses
	if have > 0 {
		fmt.Fprintf(stdout, "Resuming: %s holds %d of the %d results.\n", where, have, p.Results)
	}
	fmt.Fprintf(stdout, "Filling %s with %d synthetic results from %s to %s (seed %d).\n",
		where, p.Results, p.Now.Add(-span).Format(time.DateTime), p.Now.Format(time.DateTime), p.Seed)
	start := time.Now()
	last := start
	progress := func(done int) {
		if now := time.Now(); now.Sub(last) >= 5*time.Second || done == p.Results {
			last = now
			fmt.Fprintf(stdout, "  %s of %s results, %s results/s\n",
				thousands(done), thousands(p.Results), thousands(int(float64(done-int(have))/now.Sub(start).Seconds())))
		}
	}
	err = synth.FillFrom(ctx, st, o, int(have), *batch, progress)
	took := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted; run the same command again to resume")
		}
		return err
	}
	added := p.Results - int(have)
	with := ", with the diagnoses of the failures"
	if *noDiagnoses {
		with = ""
	}
	fmt.Fprintf(stdout, "Added %s results in %s (%s results/s)%s.\n",
		thousands(added), took.Round(time.Second), thousands(int(float64(added)/took.Seconds())), with)
	return nil
}

// startOrResume records the plan of a new fill of an empty store, or returns the plan of the
// fill that stopped after have results, which must be the same one.
func startOrResume(ctx context.Context, st store.Store, want synth.FillPlan, have int64) (synth.FillPlan, error) {
	stored, err := st.Setting(ctx, synth.FillSetting)
	switch {
	case errors.Is(err, store.ErrNotFound) && have == 0:
		b, err := json.Marshal(want)
		if err != nil {
			return synth.FillPlan{}, err
		}
		if stored, err = st.InitSetting(ctx, synth.FillSetting, string(b)); err != nil {
			return synth.FillPlan{}, err
		}
	case errors.Is(err, store.ErrNotFound):
		return synth.FillPlan{}, fmt.Errorf("holds %d results that fill did not make; use an empty -data", have)
	case err != nil:
		return synth.FillPlan{}, err
	}
	var p synth.FillPlan
	if err := json.Unmarshal([]byte(stored), &p); err != nil {
		return synth.FillPlan{}, fmt.Errorf("setting %s: %w", synth.FillSetting, err)
	}
	if p.Span != want.Span || p.Seed != want.Seed || p.Results != want.Results {
		return synth.FillPlan{}, fmt.Errorf("holds %d results of a fill with -results %d -span %s -seed %d: run that to complete it, or use an empty -data",
			have, p.Results, p.Span, p.Seed)
	}
	return p, nil
}

// thousands writes n with thin separators: 10,000,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
