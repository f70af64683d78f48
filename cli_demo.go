package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/corsquickcheck/corscheck/server/lab"
	"github.com/corsquickcheck/corscheck/server/probe"
)

const demoUsage = `usage: corscheck demo [--once]

Starts lab targets on loopback that reproduce the field cases (a CUIC publisher that allows the
Finesse origin, a subscriber that answers 403, Live Data nodes with half a CORS configuration, a
node that is down), probes each one as a CUIC or Live Data gadget on the Finesse desktop would
call it, and prints the diagnoses. Then it keeps the lab running until interrupted, so that you
can probe it yourself.

  --once   print the diagnoses and exit
`

// demoTimeout bounds each lab check; lab targets are on loopback, so this only matters if the
// machine is badly overloaded.
const demoTimeout = 5 * time.Second

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	once := fs.Bool("once", false, "")
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, demoUsage)
		return 0
	}
	if err == nil && len(positional) > 0 {
		err = fmt.Errorf("unexpected argument %q", positional[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "corscheck demo: %v\n", err)
		return probe.ExitUsage
	}
	if err := demo(ctx, *once, stdout); err != nil {
		fmt.Fprintf(stderr, "corscheck demo: %v\n", err)
		return 1
	}
	return 0
}

// demo starts the lab, prints what the probe finds on each target, and serves until ctx ends
// (or at once when once is set).
func demo(ctx context.Context, once bool, stdout io.Writer) error {
	l, err := lab.Start(lab.Options{})
	if err != nil {
		return err
	}
	defer l.Close()
	caFile, err := writeCAFile(l)
	if err != nil {
		return err
	}
	defer os.Remove(caFile)

	targets := l.Targets()
	reports := make([]*probe.Report, len(targets))
	p := probe.New(probe.Options{Timeout: demoTimeout, RootCAs: l.CertPool()})
	defer p.Close()
	var wg sync.WaitGroup
	for i, t := range targets {
		req, err := lab.GadgetRequest(t.URL, lab.FinesseOrigin)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		// Checks run at once, as the gadget runs them: the demo takes as long as its slowest node.
		wg.Go(func() { reports[i] = p.Check(ctx, req, t.Kind) })
	}
	wg.Wait()

	fmt.Fprintf(stdout, "CORS Quick Check lab: %d targets on 127.0.0.1, each called as a CUIC or Live Data gadget on the\n", len(targets))
	fmt.Fprintf(stdout, "Finesse desktop (origin %s) calls it: GET, credentials include,\nheaders %s.\n", lab.FinesseOrigin, headerNames())
	for i, t := range targets {
		fmt.Fprintf(stdout, "\n== %s (%s) %s\n   %s\n", t.Name, t.Kind, t.URL, t.Describe)
		fmt.Fprint(stdout, indent(reports[i].Text(), "   "))
	}
	fmt.Fprintln(stdout, "\nSummary:")
	for i, t := range targets {
		r := reports[i]
		why := string(r.CorsError)
		if r.Network != nil {
			why = string(r.Network.Class)
		}
		fmt.Fprintln(stdout, strings.TrimRight(fmt.Sprintf("  %-11s %-12s %s", t.Name, r.Verdict, why), " "))
	}

	fmt.Fprintf(stdout, "\nLab CA certificate (removed when the demo stops): %s\n", caFile)
	if sub, ok := l.Target("cuicsub"); ok {
		fmt.Fprintf(stdout, "Probe the subscriber yourself:\n  %s\n", probeCommandLine(sub, caFile))
	}
	if once {
		return nil
	}
	fmt.Fprintln(stdout, "\nServing the lab until interrupted (Ctrl-C).")
	<-ctx.Done()
	fmt.Fprintln(stdout, "Stopped.")
	return nil
}

// writeCAFile writes the lab CA to a new temporary file, so that `corscheck probe --ca-file` and
// curl --cacert can trust the lab while the demo runs.
func writeCAFile(l *lab.Lab) (string, error) {
	f, err := os.CreateTemp("", "corscheck-lab-ca-*.pem")
	if err != nil {
		return "", err
	}
	_, err = f.Write(l.CAPEM())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// probeCommandLine is the `corscheck probe` command that repeats the demo's check of t.
func probeCommandLine(t lab.Target, caFile string) string {
	parts := []string{"corscheck", "probe", "--kind", string(t.Kind), "--origin", lab.FinesseOrigin, "--credentials", "include"}
	for _, h := range lab.GadgetHeaders() {
		parts = append(parts, "-H", shellQuote(h.Name+": "+h.Value))
	}
	parts = append(parts, "--ca-file", shellQuote(caFile), shellQuote(t.URL))
	return strings.Join(parts, " ")
}

func headerNames() string {
	var names []string
	for _, h := range lab.GadgetHeaders() {
		names = append(names, h.Name)
	}
	return strings.Join(names, ", ")
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}
