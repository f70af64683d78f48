// Package api is the service's HTTP surface for the gadget and for operators: the target
// catalogue, the results collector, the server-side diagnosis, health and metrics. Handlers are
// thin: they validate, call the store, probe or catalogue, and answer.
package api

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corsquickcheck/corscheck/server/auth"
	"github.com/corsquickcheck/corscheck/server/clientip"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/cors"
	"golang.org/x/time/rate"

	"github.com/corsquickcheck/corscheck/server/explain"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// URLGuard decides whether the service may call a URL (see the egress package).
type URLGuard interface {
	CheckURL(ctx context.Context, u *url.URL) error
}

// Limit is a per-client request rate.
type Limit struct {
	PerSecond float64
	Burst     int
}

// Config is what the server needs.
type Config struct {
	Store     store.Store
	Catalogue *targets.Live
	Prober    *probe.Prober
	Guard     URLGuard
	// Origins are the Finesse origins whose pages may report results and ask for diagnoses.
	Origins []string
	// Gate checks the admin API's credentials: an API token, or the admin password under the
	// slow-down it shares with the sign-in form. nil refuses every one.
	Gate *auth.Gate
	// TrustProxy takes the client address from X-Forwarded-For (set it only behind a proxy that
	// overwrites that header).
	TrustProxy    bool
	ResultsLimit  Limit // per client; zero means the default
	DiagnoseLimit Limit
	Logger        *slog.Logger
	Metrics       *Metrics // nil creates one
	// MetricsToken, when set, is required as Authorization: Bearer by /metrics.
	MetricsToken string
	// MetricsElsewhere leaves /metrics (and /probe) out of this handler: the service serves
	// them on an address of its own (Metrics.Handler).
	MetricsElsewhere bool
	// Probe, when set, answers /probe (blackbox_exporter's multi-target style), guarded like
	// /metrics.
	Probe http.Handler
	Now   func() time.Time
	// Gadget serves the gadget's folder at /gadget/ for externally hosted gadgets; nil serves none.
	Gadget http.Handler
	// Mount adds more routes (the demo's simulator, admin pages) to the same router.
	Mount func(chi.Router)
	// NotFound answers the paths outside /api/ that no route takes (the admin UI's 404 page,
	// for browsers); nil answers them as the API does. Paths under /api/ always get the API's
	// JSON 404: an API client never gets HTML.
	NotFound http.Handler
	// ExplainLimit is the largest recording POST /api/v1/explain reads; zero means
	// explain.DefaultLimit.
	ExplainLimit int64

	// DiagnoseConcurrency bounds the diagnoses that run at once, for all clients together:
	// each holds what a node answered in memory. Zero means 8. A diagnosis that finds them all
	// busy waits up to DiagnoseWait (zero means 2 s) for one to end, and then gets 503.
	DiagnoseConcurrency int
	DiagnoseWait        time.Duration
}

type server struct {
	store      store.Store
	prober     *probe.Prober
	guard      URLGuard
	origins    []string
	gate       *auth.Gate
	trustProxy bool
	log        *slog.Logger
	metrics    *Metrics
	now        func() time.Time
	catalogue  *targets.Live
	// explainLimit bounds POST /api/v1/explain's body.
	explainLimit int64

	// diagnosing holds a token for each diagnosis running; diagnoseWait is how long a new one
	// waits for room.
	diagnosing   chan struct{}
	diagnoseWait time.Duration
}

// NewServer returns the service's handler: every route is listed here.
func NewServer(cfg Config) http.Handler {
	s := &server{
		store: cfg.Store, prober: cfg.Prober, guard: cfg.Guard, origins: cfg.Origins,
		gate: cfg.Gate, trustProxy: cfg.TrustProxy, log: cfg.Logger,
		metrics: cfg.Metrics, now: cfg.Now, catalogue: cfg.Catalogue, explainLimit: cfg.ExplainLimit,
		diagnosing:   make(chan struct{}, cmp.Or(max(cfg.DiagnoseConcurrency, 0), 8)),
		diagnoseWait: cmp.Or(max(cfg.DiagnoseWait, 0), 2*time.Second),
	}
	if s.explainLimit <= 0 {
		s.explainLimit = explain.DefaultLimit
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	if s.now == nil {
		s.now = time.Now
	}
	resultsLimit := newLimiter(orDefault(cfg.ResultsLimit, Limit{PerSecond: 50, Burst: 200}), s.clientIP)
	diagnoseLimit := newLimiter(orDefault(cfg.DiagnoseLimit, Limit{PerSecond: 1, Burst: 20}), s.clientIP)

	r := chi.NewRouter()
	r.Use(middleware.Recoverer, s.metrics.middleware)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		if cfg.NotFound != nil && !isAPIPath(r.URL.Path) {
			cfg.NotFound.ServeHTTP(w, r)
			return
		}
		fail(w, http.StatusNotFound, "no such endpoint", nil)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allowedMethods(r), ", "))
		// A non-standard method is not echoed: it may be a megabyte long.
		fail(w, http.StatusMethodNotAllowed, "method "+methodLabel(r.Method)+" is not allowed here", nil)
	})
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", s.ready)
	if !cfg.MetricsElsewhere {
		r.Handle("/metrics", s.metrics.Handler(cfg.MetricsToken))
		if cfg.Probe != nil {
			r.Handle("/probe", Protect(cfg.MetricsToken, cfg.Probe))
		}
	}

	// The gadget calls from the Finesse origin: answer CORS for exactly the configured origins,
	// never reflected, never with credentials.
	finesseCORS := cors.New(cors.Options{
		AllowedOrigins: cfg.Origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Content-Type"},
		MaxAge:         7200,
	}).Handler
	if cfg.Gadget != nil {
		// Module scripts loaded from another origin are CORS requests too.
		r.With(finesseCORS).Handle("/gadget/*", http.StripPrefix("/gadget", cfg.Gadget))
	}
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(finesseCORS)
		r.Get("/targets", s.getTargets)
		r.With(resultsLimit.middleware).Post("/results", s.postResults)
		r.With(diagnoseLimit.middleware).Post("/diagnose", s.postDiagnose)
		r.With(s.requireAdmin).Post("/explain", s.postExplain)
		r.Route("/admin", func(r chi.Router) {
			r.Use(s.requireAdmin)
			r.Put("/targets", s.putTargets)
		})
	})
	if cfg.Mount != nil {
		cfg.Mount(r)
	}
	return r
}

// isAPIPath reports whether path is the API's: /api or under /api/.
func isAPIPath(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/")
}

func orDefault(l, def Limit) Limit {
	if l.PerSecond <= 0 || l.Burst <= 0 {
		return def
	}
	return l
}

func (s *server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready", "err", err)
		fail(w, http.StatusServiceUnavailable, "the database does not answer", nil)
		return
	}
	encode(w, http.StatusOK, map[string]string{"status": "ready"})
}

// originAllowed refuses browser requests from pages that are not a configured Finesse origin.
// Requests without Origin (curl, scripts) pass: no browser page can send those cross-origin.
func (s *server) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o == "" || slices.Contains(s.origins, o)
}

// requireAdmin lets through requests with an API token (Authorization: Bearer …) or the admin
// password (HTTP Basic, user admin). Both count failures per client address in the slow-down the
// sign-in form uses, and every failure is logged.
func (s *server) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempt := auth.Attempt{Client: s.clientIP(r), Via: "admin API"}
		err := auth.ErrWrong
		if s.gate != nil {
			if token, ok := bearer(r); ok {
				_, err = s.gate.Token(r.Context(), attempt, token)
			} else if user, pass, ok := r.BasicAuth(); ok {
				err = s.gate.Password(r.Context(), attempt, user, pass)
			}
		}
		if throttled, ok := errors.AsType[*auth.ThrottledError](err); ok {
			w.Header().Set("Retry-After", strconv.Itoa(throttled.Seconds()))
			fail(w, http.StatusTooManyRequests, throttled.Error(), nil)
			return
		}
		if errors.Is(err, auth.ErrWrong) {
			w.Header().Add("WWW-Authenticate", `Bearer realm="corscheck admin"`)
			w.Header().Add("WWW-Authenticate", `Basic realm="corscheck admin"`)
			fail(w, http.StatusUnauthorized, "admin credentials required: an API token (Authorization: Bearer …) or the admin password", nil)
			return
		}
		if err != nil {
			internal(w, r, s.log, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearer returns the token of an Authorization: Bearer header (the scheme in any case).
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// clientIP is the client's address (see the clientip package).
func (s *server) clientIP(r *http.Request) string { return clientip.Of(r, s.trustProxy) }

// limiter rate-limits each client separately: an IPv4 address or an IPv6 /64 (clientip.Key),
// of which it remembers maxLimited, each for 10 minutes after its last request.
type limiter struct {
	limit Limit
	key   func(*http.Request) string
	mu    sync.Mutex
	byKey *clientip.Table[*rate.Limiter]
}

// maxLimited bounds the clients a limiter remembers; forgetting one gives it a fresh burst.
const maxLimited = 10_000

func newLimiter(l Limit, key func(*http.Request) string) *limiter {
	return &limiter{limit: l, key: key, byKey: clientip.NewTable[*rate.Limiter](maxLimited, 10*time.Minute)}
}

func (l *limiter) allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.byKey.Use(key, now, func() *rate.Limiter { return rate.NewLimiter(rate.Limit(l.limit.PerSecond), l.limit.Burst) })
	return (*c).AllowN(now, 1)
}

func (l *limiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.allow(clientip.Key(l.key(r))) {
			w.Header().Set("Retry-After", "1")
			fail(w, http.StatusTooManyRequests, "too many requests from this client; retry in a second", nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowedMethods lists the methods the router takes at r's path, for a 405's Allow header
// (chi only sets it in its own 405 handler).
func allowedMethods(r *http.Request) []string {
	rctx := chi.RouteContext(r.Context())
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions} {
		if rctx != nil && rctx.Routes != nil && rctx.Routes.Match(chi.NewRouteContext(), m, r.URL.Path) {
			out = append(out, m)
		}
	}
	return out
}
