// Package admin is the service's admin UI under /admin: sign-in with the admin password, the
// dashboard (health matrix, results over time, top reasons), the results browser with filters
// and keyset pagination, the target catalogue, the admin API's tokens, one result next to the
// service's diagnoses, and CSV/NDJSON export. Pages are rendered by the templ components in
// package web.
package admin

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/corsquickcheck/corscheck/server/auth"
	"github.com/corsquickcheck/corscheck/server/clientip"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/corsquickcheck/corscheck/server/explain"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/web"
)

// Config is what the admin UI needs.
type Config struct {
	Store store.Store
	// Catalogue is the target catalogue in use: the dashboard lists its nodes, the targets page
	// shows and replaces it.
	Catalogue *targets.Live
	// Gate checks the admin password and keeps sessions; the admin API must share it, so that
	// both share the sign-in slow-down.
	Gate *auth.Gate
	// SecureCookies marks the session cookie Secure (set it whenever the service is served over
	// HTTPS, directly or behind a TLS-terminating proxy).
	SecureCookies bool
	// TrustProxy takes the client address for the sign-in slow-down from X-Forwarded-For, and
	// the scheme browsers use from X-Forwarded-Proto (only behind a proxy that overwrites both).
	TrustProxy bool
	// PublicURL is the address browsers use to reach the service, when configured: forms sent
	// from its origin are the service's own.
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
	// PageSize is the number of results per page; zero means 50.
	PageSize int
	// Monitoring says whether this instance runs scheduled checks (the incidents page says so
	// when it does not).
	Monitoring bool
	// ExplainLimit is the largest recording the Explain page reads; zero means
	// explain.DefaultLimit.
	ExplainLimit int64
}

const (
	sessionCookie = "corscheck_session"
	maxLoginForm  = 4096
	exportCap     = 100_000
	exportPage    = 1000
)

type handler struct {
	store        store.Store
	catalogue    *targets.Live
	gate         *auth.Gate
	secure       bool
	trustProxy   bool
	publicOrigin string
	log          *slog.Logger
	now          func() time.Time
	pageSize     int
	monitoring   bool
	explainLimit int64
}

// New returns the admin UI. Its routes are relative to where it is mounted, which must be
// /admin (its pages link to /admin/…): r.Mount("/admin", admin.New(cfg)). Unsafe methods
// from another origin are refused (403): by http.CrossOriginProtection, and by sameScheme when
// the Origin differs only in its scheme.
func New(cfg Config) http.Handler {
	h := &handler{
		store: cfg.Store, catalogue: cfg.Catalogue, gate: cfg.Gate, secure: cfg.SecureCookies,
		trustProxy: cfg.TrustProxy, log: cfg.Logger, now: cfg.Now, pageSize: cfg.PageSize, monitoring: cfg.Monitoring,
		explainLimit: cfg.ExplainLimit,
	}
	if h.explainLimit <= 0 {
		h.explainLimit = explain.DefaultLimit
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Host != "" {
		h.publicOrigin = u.Scheme + "://" + u.Host
	}
	if h.gate == nil {
		h.gate = auth.New(auth.Config{Store: cfg.Store, Logger: h.log, Now: h.now}) // refuses every password
	}
	if h.catalogue == nil {
		h.catalogue = targets.NewLive(targets.Defaults(), nil)
	}
	if h.pageSize <= 0 {
		h.pageSize = 50
	}
	if h.pageSize > 1000 {
		h.pageSize = 1000
	}

	static, err := fs.Sub(web.Static, "static")
	if err != nil {
		panic(err) // the embedded folder is part of the build
	}

	r := chi.NewRouter()
	r.Use(securityHeaders)
	r.NotFound(h.notFound)
	r.Handle("/static/*", http.StripPrefix("/admin/static/", http.FileServerFS(filesOnly{static})))
	r.Get("/login", h.loginForm)
	r.Post("/login", h.login)
	r.Group(func(r chi.Router) {
		r.Use(h.requireSession)
		r.Post("/logout", h.logout)
		r.Get("/", h.dashboard)
		r.Get("/results", h.results)
		r.Get("/results/{id}", h.result)
		r.Get("/incidents", h.incidents)
		r.Get("/incidents/{id}", h.incident)
		r.Get("/export.csv", h.exportCSV)
		r.Get("/export.ndjson", h.exportNDJSON)
		r.Get("/targets", h.targets)
		r.Post("/targets", h.saveTargets)
		r.Get("/tokens", h.tokens)
		r.Post("/tokens", h.createToken)
		r.Post("/tokens/{id}/revoke", h.revokeToken)
		r.Get("/explain", h.explainPage)
		r.Post("/explain", h.explainUpload)
		r.Post("/explain/cases", h.saveCase)
		r.Get("/explain/cases/{id}", h.showCase)
	})
	return h.sameScheme(http.NewCrossOriginProtection().Handler(r))
}

// sameScheme refuses an unsafe request whose Origin names this host under another scheme.
// http.CrossOriginProtection trusts Sec-Fetch-Site, which browsers compute with the scheme, but
// without it compares only the Origin's host with Host: an https:// page could then post to
// the service's http:// port. The origin of PublicURL is always the service's own.
func (h *handler) sameScheme(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		origin := r.Header.Get("Origin")
		if o, err := url.Parse(origin); err == nil && o.Host == r.Host && origin != h.publicOrigin && o.Scheme != h.scheme(r) {
			http.Error(w, "cross-origin request detected: the Origin's scheme is not this server's", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// scheme is the scheme the browser used to reach the service: https when it serves TLS itself,
// X-Forwarded-Proto's behind a trusted proxy, otherwise http.
func (h *handler) scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); h.trustProxy && (p == "http" || p == "https") {
		return p
	}
	return "http"
}

// filesOnly serves the files of an FS and hides its directories, so that /admin/static/ lists
// nothing.
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if info, err := file.Stat(); err != nil || info.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

// securityHeaders keeps admin pages out of frames and caches and forbids scripts altogether:
// the UI has none, so an injected one would not run even if escaping ever failed.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/admin/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// render writes a page, buffered, so that a failed render answers a clean 500.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	render(h.log, w, r, status, c)
}

func render(log *slog.Logger, w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	templ.Handler(c, templ.WithStatus(status), templ.WithErrorHandler(func(r *http.Request, err error) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.ErrorContext(r.Context(), "admin: render", "path", r.URL.Path, "err", err)
			http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		})
	})).ServeHTTP(w, r)
}

// serverError logs err and answers 500 with the error page (nothing of err reaches it).
func (h *handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if ctxErr := context.Cause(r.Context()); ctxErr != nil {
		return // the client went away
	}
	h.log.ErrorContext(r.Context(), "admin", "path", r.URL.Path, "err", err)
	h.errorPage(w, r, http.StatusInternalServerError, "The database could not be read; see the service's log.")
}

// readForm parses a form body of at most limit bytes. A body that announces more is refused
// before any of it is read, so that a client waiting for 100 Continue gets the answer instead
// of a reset connection.
func readForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.ContentLength > limit {
		return &http.MaxBytesError{Limit: limit}
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return r.ParseForm()
}

// clientIP is the client's address (see the clientip package).
func (h *handler) clientIP(r *http.Request) string { return clientip.Of(r, h.trustProxy) }
