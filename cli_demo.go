package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/corsquickcheck/corscheck/gadget"
	"github.com/corsquickcheck/corscheck/server/api"
	"github.com/corsquickcheck/corscheck/server/config"
	"github.com/corsquickcheck/corscheck/server/lab"
	"github.com/corsquickcheck/corscheck/server/probe"
)

const demoUsage = `usage: corscheck demo [--once] [--listen ADDR] [--data-dir DIR]

Starts the service and, on loopback, lab targets that reproduce the field cases (a CUIC publisher
that allows the Finesse origin, a subscriber that answers 403, Live Data nodes with half a CORS
configuration, a node that is down). Asks the service to diagnose each target as a CUIC or Live
Data gadget on the Finesse desktop would call it, and prints the diagnoses. Then it keeps
everything running until interrupted, so that you can use the service and probe the lab yourself.

  --once           print the diagnoses and exit
  --listen ADDR    where the service listens (default 127.0.0.1:8080)
  --data-dir DIR   keep the SQLite database in DIR (default: a temporary directory, removed at exit)
`

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	once := fs.Bool("once", false, "")
	listen := fs.String("listen", "127.0.0.1:8080", "")
	dataDir := fs.String("data-dir", "", "")
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
	if err := demo(ctx, demoOptions{once: *once, listen: *listen, dataDir: *dataDir}, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "corscheck demo: %v\n", err)
		return 1
	}
	return 0
}

type demoOptions struct {
	once            bool
	listen, dataDir string
	extraHosts      []string // more names for the lab certificate (tests' own servers)
}

// demoEnv is a running demo: the service, the lab with its desktop simulator, and cleanup.
type demoEnv struct {
	base, caFile, dataDir string
	lab                   *lab.Lab
	svc                   *service
	closers               []func()
}

// Close stops everything in reverse order of starting.
func (e *demoEnv) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// startDemo starts the service on opt.listen and the lab whose simulator shows the gadget
// reporting to that service.
func startDemo(ctx context.Context, opt demoOptions, stdout, stderr io.Writer) (_ *demoEnv, err error) {
	e := &demoEnv{dataDir: opt.dataDir}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	ln, err := net.Listen("tcp", opt.listen)
	if err != nil {
		return nil, fmt.Errorf("service: %w (choose another address with --listen)", err)
	}
	e.closers = append(e.closers, func() { ln.Close() })
	e.base = "http://" + ln.Addr().String()
	folder, err := gadget.Build(gadgetXML, e.base)
	if err != nil {
		return nil, err
	}
	if e.lab, err = lab.Start(lab.Options{Gadget: folder, ExtraHosts: opt.extraHosts}); err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() { e.lab.Close() })
	if e.caFile, err = writeCAFile(e.lab); err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() { os.Remove(e.caFile) })
	if e.dataDir == "" {
		if e.dataDir, err = os.MkdirTemp("", "corscheck-demo-"); err != nil {
			return nil, err
		}
		e.closers = append(e.closers, func() { os.RemoveAll(e.dataDir) })
	}
	cfg := config.Defaults()
	cfg.Listen, cfg.DataDir, cfg.CAFile, cfg.PublicURL = ln.Addr().String(), e.dataDir, e.caFile, e.base
	cfg.Origins = []string{lab.FinesseOrigin, e.lab.SimulatorOrigin()}
	cfg.AllowNets = []string{"127.0.0.1/32", "127.0.0.2/32"} // the lab; the service refuses loopback otherwise
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cat := e.lab.Catalogue()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if e.svc, err = newService(ctx, cfg, log, stdout, serviceExtras{catalogue: &cat}); err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() { e.svc.Close() })
	serveCtx, stopServing := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- e.svc.Serve(serveCtx, ln, "", "") }()
	e.closers = append(e.closers, func() { stopServing(); <-served })
	return e, nil
}

// demo starts the lab and the service, prints the service's diagnosis of each lab target, and
// serves until ctx ends (or at once with once).
func demo(ctx context.Context, opt demoOptions, stdout, stderr io.Writer) error {
	e, err := startDemo(ctx, opt, stdout, stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	l, base, caFile := e.lab, e.base, e.caFile
	opt.dataDir = e.dataDir

	labTargets := l.Targets()
	reports := make([]*probe.Report, len(labTargets))
	errs := make([]error, len(labTargets))
	var wg sync.WaitGroup
	for i, t := range labTargets {
		// Checks run at once, as the gadget runs them: the demo takes as long as its slowest node.
		wg.Go(func() { reports[i], errs[i] = diagnose(ctx, base, t) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "CORS Quick Check demo: the service at %s diagnosed %d lab targets, each called as a\n", base, len(labTargets))
	fmt.Fprintf(stdout, "CUIC or Live Data gadget on the Finesse desktop (origin %s) calls it:\nGET, credentials include, headers %s.\n", lab.FinesseOrigin, headerNames())
	for i, t := range labTargets {
		fmt.Fprintf(stdout, "\n== %s (%s) %s\n   %s\n", t.Name, t.Kind, t.URL, t.Describe)
		fmt.Fprint(stdout, indent(reports[i].Text(), "   "))
	}
	fmt.Fprintln(stdout, "\nSummary:")
	for i, t := range labTargets {
		r := reports[i]
		why := string(r.CorsError)
		if r.Network != nil {
			why = string(r.Network.Class)
		}
		fmt.Fprintln(stdout, strings.TrimRight(fmt.Sprintf("  %-11s %-12s %s", t.Name, r.Verdict, why), " "))
	}

	fmt.Fprintf(stdout, "\nService: %s  (targets %s/api/v1/targets, health %s/healthz, metrics %s/metrics)\n", base, base, base, base)
	fmt.Fprintf(stdout, "Admin UI: %s/admin/ (user admin, the password printed above)\n", base)
	fmt.Fprintf(stdout, "Database: %s\n", opt.dataDir)
	fmt.Fprintf(stdout, "Finesse desktop simulator with the gadget: %s (Nederlands: %s, 한국어: %s)\n",
		l.DesktopURL("en_US"), l.DesktopURL("nl_NL"), l.DesktopURL("ko_KR"))
	fmt.Fprintln(stdout, "  The lab's certificate is self-made: accept it for the simulator, then use the gadget's")
	fmt.Fprintln(stdout, "  'open in a new tab' links to accept it for each node, as an agent would for an untrusted node.")
	fmt.Fprintf(stdout, "Lab CA certificate (removed when the demo stops): %s\n", caFile)
	if sub, ok := l.Target("cuicsub"); ok {
		fmt.Fprintf(stdout, "Probe the subscriber yourself:\n  %s\n", probeCommandLine(sub, caFile))
	}
	if opt.once {
		return nil
	}
	fmt.Fprintln(stdout, "\nServing the service and the lab until interrupted (Ctrl-C).")
	<-ctx.Done()
	fmt.Fprintln(stdout, "Stopped.")
	return nil
}

// diagnose asks the service, as the gadget does, why a lab target fails.
func diagnose(ctx context.Context, base string, t lab.Target) (*probe.Report, error) {
	body, err := json.Marshal(api.DiagnoseInput{URL: t.URL, Origin: lab.FinesseOrigin, Kind: string(t.Kind),
		Method: "GET", Headers: lab.GadgetHeaders(), Credentials: "include"})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/diagnose", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", lab.FinesseOrigin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	defer resp.Body.Close()
	var out api.DiagnoseOutput
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("%s: the service answered %s: %s", t.Name, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	return out.Report, nil
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
