package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/corsquickcheck/corscheck/gadget"
	"github.com/corsquickcheck/corscheck/server/admin"
	"github.com/corsquickcheck/corscheck/server/api"
	"github.com/corsquickcheck/corscheck/server/auth"
	"github.com/corsquickcheck/corscheck/server/config"
	"github.com/corsquickcheck/corscheck/server/egress"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

const serveUsage = `usage: corscheck serve [flags]

Runs the service: the target catalogue for the gadget, the results collector, the server-side
diagnosis, scheduled checks of every catalogue node with incidents and alerts
(--monitor-interval), health (/healthz, /readyz) and metrics (/metrics, /probe). Every flag can
also be set with its CORSCHECK_* environment variable or in a JSON file given with --config.

Flags:
`

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var help bytes.Buffer
	cfg, err := config.Load(args, getenv, &help)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, serveUsage)
		help.WriteTo(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "corscheck serve: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return 2
	}
	log := newLogger(cfg.LogFormat, stderr)
	srv, err := newService(ctx, cfg, log, stdout, serviceExtras{})
	if err != nil {
		fmt.Fprintf(stderr, "corscheck serve: %v\n", err)
		return 1
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "corscheck serve: %v\n", err)
		return 1
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	metricsDone := make(chan error, 1)
	if srv.metrics != nil {
		mln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			fmt.Fprintf(stderr, "corscheck serve: metrics-listen: %v\n", err)
			return 1
		}
		log.Info("metrics listening", "url", "http://"+mln.Addr().String()+"/metrics")
		go func() { metricsDone <- srv.serve(ctx, mln, srv.metrics, "", ""); stop() }()
	} else {
		metricsDone <- nil
	}
	log.Info("listening", "url", scheme+"://"+ln.Addr().String(), "origins", cfg.Origins)
	err = srv.Serve(ctx, ln, cfg.TLSCert, cfg.TLSKey)
	stop()
	if merr := <-metricsDone; err == nil {
		err = merr
	}
	if err != nil {
		fmt.Fprintf(stderr, "corscheck serve: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// service is the running service: its store and its handler.
type service struct {
	store     store.Store
	prober    *probe.Prober
	catalogue *targets.Live
	handler   http.Handler
	// metrics serves /metrics on an address of its own (--metrics-listen); nil when handler
	// serves it.
	metrics http.Handler
	log     *slog.Logger
	// stopFollowing ends the goroutine that follows the stored catalogue; following is closed
	// when it has.
	stopFollowing func()
	following     chan struct{}
	monitoring    *monitoring
}

// serviceExtras are what the demo adds to a service configured from flags.
type serviceExtras struct {
	catalogue *targets.Catalogue // replaces the configured catalogue
	mount     func(chi.Router)   // more routes (the desktop simulator)
	// catalogueEvery is how often the service looks for a catalogue another instance stored;
	// zero means followEvery.
	catalogueEvery time.Duration
	// holdMonitor leaves the scheduled checks to be started later (service.monitoring.start).
	holdMonitor bool
}

// followEvery is how often an instance looks for a catalogue another instance stored: an edit
// reaches every instance within this time.
const followEvery = 2 * time.Second

// newService opens the store, loads the catalogue, and wires the API.
func newService(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer, extras serviceExtras) (*service, error) {
	nets, err := egress.ParseNets(cfg.AllowNets)
	if err != nil {
		return nil, err
	}
	// The catalogue in use lives in the database, so that it outlives restarts and every
	// instance uses the same one: a --targets file (or the demo's lab) replaces it at start;
	// otherwise the stored one is used, or the built-in one while none is stored.
	cat := targets.Defaults()
	fromConfig := extras.catalogue != nil || cfg.Targets != ""
	if extras.catalogue != nil {
		cat = *extras.catalogue
	} else if cfg.Targets != "" {
		if cat, err = targets.Load(cfg.Targets); err != nil {
			return nil, err
		}
	}
	dsn := cfg.DB
	if dsn == "" {
		dsn = cfg.DataDir
	}
	st, err := store.Open(ctx, dsn, store.Options{Retention: cfg.Retention, Logger: log})
	if err != nil {
		return nil, err
	}
	password, err := adminPassword(ctx, st, cfg.AdminPassword, stdout)
	if err != nil {
		st.Close()
		return nil, err
	}
	var roots *x509.CertPool
	if cfg.CAFile != "" {
		if roots, err = probe.LoadCAFile(cfg.CAFile); err != nil {
			st.Close()
			return nil, fmt.Errorf("ca-file: %w", err)
		}
	}
	if !fromConfig {
		if stored, err := storedCatalogue(ctx, st); err == nil {
			cat = stored
		} else if !errors.Is(err, store.ErrNotFound) {
			st.Close()
			return nil, err
		}
	}
	// A catalogue replaced through the admin API or UI is stored before it is used here; the
	// other instances put it in use within followEvery.
	live := targets.NewLive(cat, func(ctx context.Context, c targets.Catalogue) error {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return st.PutSetting(ctx, catalogueKey, string(b))
	})
	if fromConfig {
		if err := live.Replace(ctx, cat); err != nil {
			st.Close()
			return nil, err
		}
	}
	policy := &egress.Policy{AllowHost: live.HasHost, AllowedNets: nets}
	prober := probe.New(probe.Options{Timeout: 10 * time.Second, DialContext: policy.DialContext, RootCAs: roots})
	if cfg.PublicURL == "" {
		log.Info("no --public-url: /gadget/ serves a gadget without a service (browser verdicts only)")
	}
	opt := gadget.Options{Service: cfg.PublicURL, Version: version()}
	if cfg.PublicURL != "" {
		opt.Hosted = strings.TrimRight(cfg.PublicURL, "/") + "/gadget/" + gadget.XMLName
	}
	folder, err := gadget.Build(gadgetXML, opt)
	if err != nil {
		st.Close()
		return nil, err
	}
	if len(cfg.Origins) == 0 {
		log.Warn("no Finesse origins configured (--origins): browsers cannot report results or ask for diagnoses")
	}
	mon, err := newMonitoring(ctx, cfg, st, live, policy, roots, log)
	if err != nil {
		prober.Close()
		st.Close()
		return nil, err
	}
	// One gate for the sign-in form and the admin API: they share the slow-down.
	gate := auth.New(auth.Config{Store: st, CheckPassword: password, Logger: log})
	adminUI := admin.New(admin.Config{
		Store: st, Catalogue: live, Gate: gate, Logger: log, TrustProxy: cfg.TrustProxy, PublicURL: cfg.PublicURL,
		Monitoring: cfg.MonitorInterval > 0,
		// The session cookie is Secure whenever browsers reach the service over HTTPS.
		SecureCookies: cfg.TLSCert != "" || strings.HasPrefix(cfg.PublicURL, "https://"),
		ExplainLimit:  int64(cfg.ExplainLimitMB) << 20,
	})
	mount := func(r chi.Router) {
		r.Mount("/admin", adminUI)
		r.Method(http.MethodGet, "/", admin.Home(admin.HomeConfig{PublicURL: cfg.PublicURL, MetricsHere: cfg.MetricsListen == "", Logger: log}))
		if extras.mount != nil {
			extras.mount(r)
		}
	}
	metrics := api.NewMetrics()
	metrics.Register(mon.metrics)
	var metricsOnly http.Handler
	if cfg.MetricsListen != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics.Handler(cfg.MetricsToken))
		mux.Handle("GET /probe", api.Protect(cfg.MetricsToken, mon.probe))
		metricsOnly = mux
	}
	h := api.NewServer(api.Config{
		Metrics: metrics, MetricsToken: cfg.MetricsToken, MetricsElsewhere: metricsOnly != nil, Probe: mon.probe,
		Store: st, Catalogue: live, Prober: prober, Guard: policy, Origins: cfg.Origins,
		Gate: gate, TrustProxy: cfg.TrustProxy, Logger: log, DiagnoseConcurrency: cfg.DiagnoseConcurrency,
		ResultsLimit: api.Limit{PerSecond: cfg.ResultsRate, Burst: int(4*cfg.ResultsRate) + 1},
		Gadget:       folder, Mount: mount, NotFound: admin.NotFound(log),
		DiagnoseLimit: api.Limit{PerSecond: cfg.DiagnoseRate, Burst: int(20*cfg.DiagnoseRate) + 1},
		ExplainLimit:  int64(cfg.ExplainLimitMB) << 20,
	})
	svc := &service{store: st, prober: prober, catalogue: live, handler: h, metrics: metricsOnly, log: log,
		following: make(chan struct{}), monitoring: mon}
	followCtx, stop := context.WithCancel(context.Background())
	svc.stopFollowing = stop
	go func() {
		defer close(svc.following)
		every := cmp.Or(extras.catalogueEvery, followEvery)
		live.Follow(followCtx, every, func(ctx context.Context) (int64, error) { return st.SettingVersion(ctx, catalogueKey) },
			func(ctx context.Context) (targets.Catalogue, error) {
				stored, err := st.Setting(ctx, catalogueKey)
				if err != nil {
					return targets.Catalogue{}, err
				}
				return targets.Decode([]byte(stored))
			},
			func(err error) {
				if !errors.Is(err, store.ErrNotFound) {
					log.Warn("following the stored catalogue", "err", err)
				}
			})
	}()
	if !extras.holdMonitor {
		mon.start()
	}
	return svc, nil
}

// storedCatalogue is the catalogue in the database; store.ErrNotFound when none is stored.
func storedCatalogue(ctx context.Context, st store.Store) (targets.Catalogue, error) {
	stored, err := st.Setting(ctx, catalogueKey)
	if err != nil {
		return targets.Catalogue{}, err
	}
	c, err := targets.Parse([]byte(stored))
	if err != nil {
		return targets.Catalogue{}, fmt.Errorf("the catalogue stored in the database: %w", err)
	}
	return c, nil
}

// Serve answers on ln until ctx ends, then shuts down gracefully: requests in flight finish and
// queued writes are committed before the store closes.
func (s *service) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	return s.serve(ctx, ln, s.handler, certFile, keyFile)
}

// serve answers on ln with h until ctx ends, then shuts down gracefully.
func (s *service) serve(ctx context.Context, ln net.Listener, h http.Handler, certFile, keyFile string) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- hs.ServeTLS(ln, certFile, keyFile)
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "address", ln.Addr().String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return hs.Shutdown(shutdownCtx)
}

// Close stops the scheduled checks and following the stored catalogue, and closes the prober
// and the store (which drains queued writes).
func (s *service) Close() error {
	s.monitoring.Close()
	s.stopFollowing()
	<-s.following
	s.prober.Close()
	return s.store.Close()
}

// catalogueKey holds the catalogue as changed through the admin API.
const catalogueKey = "catalogue"

// adminPasswordKey holds "salt:sha256(salt+password)" of the generated admin password.
const adminPasswordKey = "admin_password_sha256"

// adminPassword returns the check of the admin password: the configured one, or the one
// generated at the first start, printed then and never again (only its salted hash is kept, in
// the database, so every instance agrees).
func adminPassword(ctx context.Context, st store.Store, configured string, stdout io.Writer) (func(string) bool, error) {
	if configured != "" {
		return func(p string) bool { return subtle.ConstantTimeCompare([]byte(p), []byte(configured)) == 1 }, nil
	}
	password := rand.Text()
	salt := rand.Text()
	mine := salt + ":" + passwordHash(salt, password)
	stored, err := st.InitSetting(ctx, adminPasswordKey, mine)
	if err != nil {
		return nil, fmt.Errorf("admin password: %w", err)
	}
	if stored == mine {
		fmt.Fprintf(stdout, "Admin password (generated now, shown only this once): %s\n", password)
	}
	salt, hash, ok := strings.Cut(stored, ":")
	if !ok {
		return nil, fmt.Errorf("admin password: the stored hash is damaged; set --admin-password")
	}
	return func(p string) bool {
		return subtle.ConstantTimeCompare([]byte(passwordHash(salt, p)), []byte(hash)) == 1
	}, nil
}

func passwordHash(salt, password string) string {
	sum := sha256.Sum256([]byte(salt + password))
	return hex.EncodeToString(sum[:])
}
