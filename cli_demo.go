package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/corsquickcheck/corscheck/gadget"
	"github.com/corsquickcheck/corscheck/server/api"
	"github.com/corsquickcheck/corscheck/server/cliflag"
	"github.com/corsquickcheck/corscheck/server/config"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/lab"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/shell"
	"github.com/corsquickcheck/corscheck/server/simulator"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/synth"
)

// demoHead goes before the list of demo's flags in its help.
const demoHead = `usage: corscheck demo [--once] [--listen ADDRESS] [--data-dir DIRECTORY] [--no-history]
                      [--monitor-interval DURATION] [--flip-after DURATION]

Starts the service and, on loopback, lab targets that reproduce the field cases (a CUIC publisher
that allows the Finesse origin, a subscriber that answers 403, Live Data nodes with half a CORS
configuration, a node that is down). Asks the service to diagnose each target as a CUIC or Live
Data gadget on the Finesse desktop would call it, and prints the diagnoses. Then it keeps
everything running until interrupted, so that you can use the service and probe the lab yourself.
Meanwhile the service checks every lab node itself, every 10 seconds: the subscriber's CORS
list is fixed when the checks start, and a minute later it loses it again (as after an
upgrade); an incident opens, and its alert reaches a demo webhook receiver, which prints it.

An empty database first gets a week of synthetic history, so that the admin UI has something to
show: results of agents demo-agent-01 … (gadget version demo-history) against the lab's nodes,
failing as the lab's nodes really fail, with the subscriber failing only since two days ago.

Flags:
`

// runDemo runs `corscheck demo`; self is how the user called the program (argv[0]), so that
// the commands the demo prints work as printed.
func runDemo(ctx context.Context, self string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	once := fs.Bool("once", false, "print the diagnoses and exit")
	listen := fs.String("listen", demoListen, "the `address` the service listens on (when not given: 127.0.0.1:8080, or a free port on 127.0.0.1 when 8080 is taken)")
	dataDir := fs.String("data-dir", "", "keep the SQLite database in this `directory` (default: a temporary directory, "+
		"removed at exit)")
	noHistory := fs.Bool("no-history", false, "do not add the synthetic history")
	monitorEvery := cliflag.Duration(fs, "monitor-interval", demoMonitorEvery, "how often the service checks the lab, as a `duration`")
	flipAfter := cliflag.Duration(fs, "flip-after", demoFlipAfter, "how long after the checks start the subscriber "+
		"loses its CORS list, as a `duration`")
	positional, err := cliflag.Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, demoHead, fs, "")
		return 0
	}
	if err == nil && len(positional) > 0 {
		err = fmt.Errorf("unexpected argument %q", positional[0])
	}
	if err == nil && (*monitorEvery < time.Second || *flipAfter <= 0) {
		err = errors.New("--monitor-interval must be at least 1s and --flip-after above 0")
	}
	if err != nil {
		fmt.Fprintf(stderr, "corscheck demo: %v\n", err)
		return probe.ExitUsage
	}
	opt := demoOptions{once: *once, listen: *listen, dataDir: *dataDir, noHistory: *noHistory,
		monitorEvery: *monitorEvery, flipAfter: *flipAfter, self: commandName(self)}
	fs.Visit(func(f *flag.Flag) { opt.listenChosen = opt.listenChosen || f.Name == "listen" })
	if err := demo(ctx, opt, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "corscheck demo: %v\n", err)
		return 1
	}
	return 0
}

type demoOptions struct {
	once, noHistory bool
	listen, dataDir string
	extraHosts      []string // more names for the lab certificate (tests' own servers)
	// listenChosen says the user gave --listen: then a taken address is an error; otherwise
	// the demo takes a free port.
	listenChosen bool
	// self is the program as the user called it, for the commands the demo prints.
	self string
	// monitorEvery is the scheduled checks' interval (default demoMonitorEvery), and flipAfter
	// how long after they start the subscriber loses its CORS list (default demoFlipAfter).
	monitorEvery, flipAfter time.Duration
}

// The demo's scheduled checks: often, so that the subscriber's incident shows soon.
const (
	demoListen       = "127.0.0.1:8080"
	demoMonitorEvery = 10 * time.Second
	demoFlipAfter    = time.Minute
)

// demoEnv is a running demo: the service, the lab with its desktop simulator, the alert
// receiver, and cleanup.
type demoEnv struct {
	base, caFile, dataDir string
	lab                   *lab.Lab
	svc                   *service
	receiver              *demoReceiver
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
	if err != nil && !opt.listenChosen {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err == nil {
			fmt.Fprintf(stdout, "%s is taken: the service listens on %s instead (choose with --listen, or make run LISTEN=ADDR).\n", opt.listen, ln.Addr())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("service: %w (choose another address with --listen)", err)
	}
	e.closers = append(e.closers, func() { ln.Close() })
	e.base = "http://" + ln.Addr().String()
	folder, err := gadget.Build(gadgetXML, gadget.Options{Service: e.base, Version: version()})
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
	cfg.Origins = []string{lab.FinesseOrigin, e.lab.SimulatorOrigin(), e.lab.ProxyOrigin()}
	cfg.AllowNets = []string{"127.0.0.1/32", "127.0.0.2/32"} // the lab; the service refuses loopback otherwise
	if e.receiver, err = startDemoReceiver(stdout); err != nil {
		return nil, err
	}
	e.closers = append(e.closers, e.receiver.Close)
	cfg.MonitorInterval = cmp.Or(opt.monitorEvery, demoMonitorEvery)
	cfg.MonitorJitter = cfg.MonitorInterval / 5
	cfg.AlertTo = []string{e.receiver.url}
	cfg.AlertAllowNets = []string{"127.0.0.1/32"} // the demo's receiver
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cat := e.lab.Catalogue()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The scheduled checks start once the demo has shown the lab as it is (see demo).
	if e.svc, err = newService(ctx, cfg, log, stdout, serviceExtras{catalogue: &cat, holdMonitor: true}); err != nil {
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
	fmt.Fprintf(stdout, "CUIC or Live Data gadget on the Finesse desktop calls it: GET, credentials include, headers %s,\n", headerNames())
	fmt.Fprintf(stdout, "from origin %s. That origin is an illustration, the name a Finesse publisher might\n", lab.FinesseOrigin)
	fmt.Fprintf(stdout, "have; the lab's nodes treat it as yours would. The desktop simulator below is real: %s.\n", l.SimulatorOrigin())
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

	if !opt.noHistory {
		n, err := seedHistory(ctx, e, time.Now())
		if err != nil {
			return fmt.Errorf("demo history: %w", err)
		}
		if n > 0 {
			fmt.Fprintf(stdout, "\nSeeded %d results of demo history (a week, synthetic)\n", n)
		}
	}

	fmt.Fprintf(stdout, "\nService: %s  (targets %s/api/v1/targets, health %s/healthz, metrics %s/metrics)\n", base, base, base, base)
	fmt.Fprintf(stdout, "Admin UI: %s/admin/ (user admin, the password printed above)\n", base)
	fmt.Fprintf(stdout, "Database: %s\n", opt.dataDir)
	fmt.Fprintf(stdout, "Finesse desktop simulator with the gadget: %s (Nederlands: %s, 한국어: %s)\n",
		l.DesktopURL("en_US"), l.DesktopURL("nl_NL"), l.DesktopURL("ko_KR"))
	fmt.Fprintf(stdout, "  Its 'Spec URL' links show the gadget as Finesse may name it (form=%s).\n", joinForms(simulator.SpecForms()[1:]))
	fmt.Fprintln(stdout, "  The lab's certificate is self-made: accept it for the simulator, then use the gadget's")
	fmt.Fprintln(stdout, "  'open in a new tab' links to accept it for each node, as an agent would for an untrusted node.")
	fmt.Fprintf(stdout, "Lab CA certificate (removed when the demo stops): %s\n", caFile)
	if sub, ok := l.Target("cuicsub"); ok {
		if opt.once {
			fmt.Fprintf(stdout, "Probe the subscriber yourself, as the simulator's gadget calls it:\n  %s\n", probeCommandLine(opt.self, l.SimulatorOrigin(), sub, caFile))
		} else {
			fmt.Fprintf(stdout, "Probe the subscriber yourself, as the simulator's gadget calls it (allowed while its CORS\nlist is fixed, below, then blocked):\n  %s\n",
				probeCommandLine(opt.self, l.SimulatorOrigin(), sub, caFile))
		}
	}
	if opt.once {
		return nil
	}
	flip := startMonitorStory(e, opt, stdout)
	defer flip.Stop()
	fmt.Fprintln(stdout, "\nServing the service and the lab until interrupted (Ctrl-C).")
	<-ctx.Done()
	fmt.Fprintln(stdout, "Stopped.")
	return nil
}

// startMonitorStory starts the scheduled checks over the lab with the subscriber fixed, and
// makes it lose its CORS list after a while, as an upgrade does: an incident opens, and its
// alert reaches the demo's webhook receiver, which prints it. The timer stops the flip.
func startMonitorStory(e *demoEnv, opt demoOptions, stdout io.Writer) *time.Timer {
	every, after := cmp.Or(opt.monitorEvery, demoMonitorEvery), cmp.Or(opt.flipAfter, demoFlipAfter)
	e.lab.Set("cuicsub", lab.Allowing)
	e.svc.monitoring.start()
	fmt.Fprintf(stdout, "\nScheduled checks: every lab node for every origin, every %s, from the service's own network.\n", every)
	fmt.Fprintln(stdout, "  The nodes that fail from the start (the Live Data nodes, the node that is down) open")
	fmt.Fprintln(stdout, "  incidents at the first checks. The subscriber's CORS list has just been fixed: it allows")
	fmt.Fprintln(stdout, "  the Finesse origins now.")
	fmt.Fprintf(stdout, "  In %s it loses it again, as after an upgrade: an incident opens (%s/admin/incidents)\n", after, e.base)
	fmt.Fprintf(stdout, "  and its alert reaches the demo webhook receiver at %s, which prints it here.\n", e.receiver.url)
	return time.AfterFunc(after, func() {
		e.lab.Set("cuicsub", lab.FieldCase)
		fmt.Fprintf(stdout, "Demo: %s the subscriber (cuicsub) just lost its CORS list.\n", time.Now().Format("15:04:05"))
	})
}

// joinForms lists spec URL forms as a|b|c.
func joinForms(forms []simulator.SpecForm) string {
	var names []string
	for _, f := range forms {
		names = append(names, string(f))
	}
	return strings.Join(names, "|")
}

// History the demo adds to an empty store: a week of a dozen agents' checks, with the lab
// subscriber's "upgrade" two days ago.
const (
	historyResults = 3000
	historySpan    = 7 * 24 * time.Hour
	historyAgents  = 12
	historyVersion = "demo-history"
	upgradeAgo     = 2 * 24 * time.Hour
)

// seedHistory stores a week of synthetic results when the store has none (so a restart with
// --data-dir adds nothing) and returns how many. The failures are the lab's real ones: the
// service's prober checks each lab node from each page origin once, and every synthetic
// failure of that node and origin gets that report as its diagnosis. The subscriber, the field
// case, fails only since upgradeAgo: before, it allowed the origins like the publisher.
func seedHistory(ctx context.Context, e *demoEnv, now time.Time) (int, error) {
	st := e.svc.store
	if n, err := st.CountResults(ctx, store.Filter{Source: store.SourceGadget}); err != nil || n > 0 {
		return 0, err
	}
	origins := []string{lab.FinesseOrigin, e.lab.SimulatorOrigin()}
	labTargets := e.lab.Targets()
	reports := make([][]*probe.Report, len(labTargets))
	errs := make([]error, len(labTargets)*len(origins))
	var wg sync.WaitGroup
	for i, t := range labTargets {
		reports[i] = make([]*probe.Report, len(origins))
		for j, origin := range origins {
			wg.Go(func() {
				req, err := lab.GadgetRequest(t.URL, origin)
				if err != nil {
					errs[i*len(origins)+j] = err
					return
				}
				reports[i][j] = e.svc.prober.Check(ctx, req, t.Kind)
			})
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}

	o := synth.Options{Now: now, Span: historySpan, Count: historyResults, Seed: 1, Origins: origins,
		Agents: historyAgents, AgentPrefix: "demo-agent-", GadgetVersion: historyVersion, Location: time.Local}
	for i, t := range labTargets {
		u, err := url.Parse(t.URL)
		if err != nil {
			return 0, err
		}
		node := synth.Node{Name: u.Hostname(), Kind: t.Kind, URLs: []string{t.URL}}
		for j, origin := range origins {
			rep := reports[i][j]
			if rep.Verdict == cors.Allowed {
				continue
			}
			body, err := json.Marshal(rep)
			if err != nil {
				return 0, err
			}
			in := synth.Incident{Node: node.Name, Origin: origin, Failure: synth.Failure{
				Verdict: rep.Verdict, Reason: rep.CorsError, FailedParameter: rep.FailedParameter,
				Reports: map[string][]byte{origin: body}}}
			if rep.Network != nil {
				in.Failure.NetworkClass = string(rep.Network.Class)
				node.Share = 0.25 // a node that is down: only a few agents still have it in their list
			}
			if t.Name == "cuicsub" {
				in.Start = now.Add(-upgradeAgo)
			}
			o.Incidents = append(o.Incidents, in)
		}
		o.Nodes = append(o.Nodes, node)
	}
	if err := synth.Fill(ctx, st, o, 0, nil); err != nil {
		return 0, err
	}
	return historyResults, nil
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
	_, err = f.Write(l.CA().CertPEM())
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
func probeCommandLine(self, origin string, t lab.Target, caFile string) string {
	parts := []string{shell.Quote(self), "probe", "--kind", string(t.Kind), "--origin", origin, "--credentials", "include"}
	for _, h := range lab.GadgetHeaders() {
		parts = append(parts, "-H", shell.Quote(h.Name+": "+h.Value))
	}
	parts = append(parts, "--ca-file", shell.Quote(caFile), shell.Quote(t.URL))
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
