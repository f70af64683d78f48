package admin

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/corsquickcheck/corscheck/gadget"
	"github.com/corsquickcheck/corscheck/web"
)

// Error pages: under /admin/, a request that goes wrong gets a page in the admin UI's style that
// says what happened and leads back to the dashboard, never a bare line of text. NotFound does
// the same for the paths outside /admin/ and /api/ that the service does not have, and Home is
// the service's start page at /.

// errorPage answers status with the error page; msg says what went wrong in words for the
// reader (never an internal error). The header shows the admin navigation behind a session.
func (h *handler) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	signedIn, _ := r.Context().Value(signedInKey{}).(bool)
	render(h.log, w, r, status, errorPage(status, msg, signedIn))
}

func errorPage(status int, msg string, signedIn bool) templ.Component {
	return web.ErrorPage(web.ErrorView{Nav: web.Nav{SignedIn: signedIn}, Status: strconv.Itoa(status),
		Title: http.StatusText(status), Message: msg})
}

// notFound answers a path under /admin/ that has no page.
func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	signedIn, err := h.signedIn(r)
	if err != nil {
		signedIn = false // the page says the same without the navigation
	}
	render(h.log, w, r, http.StatusNotFound, errorPage(http.StatusNotFound, noPage, signedIn))
}

const noPage = "There is no page at this address."

// NotFound answers, with the 404 page, a browser's request for a path outside /admin/ and
// /api/ that the service does not have (the API answers its own paths in JSON).
func NotFound(log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(log, w, r, http.StatusNotFound, errorPage(http.StatusNotFound, noPage, false))
	}))
}

// HomeConfig is what the start page says about the service.
type HomeConfig struct {
	// PublicURL is the service's --public-url; "" when it has none.
	PublicURL string
	// MetricsHere says /metrics is served on the service's own address (no --metrics-listen).
	MetricsHere bool
	Logger      *slog.Logger
}

// Home answers GET / with the service's start page: where the gadget is and how to put it on
// the Finesse desktop, and links to the admin UI and the health checks; it names the docs.
func Home(cfg HomeConfig) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	v := web.HomeView{GadgetURL: "/gadget/" + gadget.XMLName, MetricsHere: cfg.MetricsHere}
	if u := strings.TrimRight(cfg.PublicURL, "/"); u != "" {
		v.Service, v.GadgetURL = u, u+v.GadgetURL
	}
	return securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(log, w, r, http.StatusOK, web.HomePage(v))
	}))
}
