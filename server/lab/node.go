package lab

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
)

// What CUIC's CORS filter sends on a preflight once an origin is allowed (observed on CUIC
// 12.6). Live Data's proxy is configured with the same lists.
const (
	allowMethods = "GET,POST,PUT,DELETE,OPTIONS,HEAD"
	allowHeaders = "referer,peripheralid,origin,locale,accept,authorization,domain,x-requested-with,content-type,access-control-request-private-network,user-agent"
)

// The URL paths the lab's nodes answer on, as the real products do (the same paths as the default target catalogue, server/targets).
const (
	cuicPath     = "/cuic/rest/status/"
	liveDataPath = "/"
)

// tomcatCORS answers like Tomcat's CorsFilter, which CUIC uses: a cross-origin request from an
// origin that is not in the allowed list, or a preflight asking for a method or header that is
// not allowed, gets 403 with no CORS headers at all. That is why a CUIC node that lacks the origin
// shows up in DevTools as PreflightMissingAllowOriginHeader, not as an invalid status.
type tomcatCORS struct {
	origins []string
	next    http.Handler
}

func (c tomcatCORS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		c.next.ServeHTTP(w, r) // not a CORS request: the filter lets it through untouched
		return
	}
	if !slices.Contains(c.origins, origin) {
		refuse(w)
		return
	}
	h := w.Header()
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if !listed(allowMethods, r.Header.Get("Access-Control-Request-Method"), false) ||
			!allListed(allowHeaders, r.Header.Get("Access-Control-Request-Headers")) {
			refuse(w)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", allowMethods)
		h.Set("Access-Control-Allow-Headers", allowHeaders)
		h.Add("Vary", "Origin")
		w.WriteHeader(http.StatusOK)
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	c.next.ServeHTTP(w, r)
}

// refuse is Tomcat's answer to an invalid CORS request: 403, an empty text body, no CORS headers.
func refuse(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusForbidden)
}

// proxyCORS answers like the NGINX proxy in front of Live Data: the CORS headers come from its
// configuration and are added only for allowed origins; the status never changes, so a preflight
// always gets 204. Its two knobs reproduce the Live Data field cases: a configuration that
// forgets Access-Control-Allow-Credentials, and one whose header list misses a header.
type proxyCORS struct {
	origins      []string
	credentials  bool
	allowHeaders string
	next         http.Handler
}

func (c proxyCORS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && slices.Contains(c.origins, origin)
	h := w.Header()
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		if c.credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		h.Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if allowed {
			h.Set("Access-Control-Allow-Methods", allowMethods)
			h.Set("Access-Control-Allow-Headers", c.allowHeaders)
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	c.next.ServeHTTP(w, r)
}

// listed reports whether name is an element of the comma-separated list.
func listed(list, name string, foldCase bool) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == name || (foldCase && strings.EqualFold(e, name)) {
			return true
		}
	}
	return false
}

// allListed reports whether every name of the comma-separated request list is in list, ignoring
// case as header names do.
func allListed(list, request string) bool {
	for _, n := range strings.Split(request, ",") {
		if n = strings.TrimSpace(n); n != "" && !listed(list, n, true) {
			return false
		}
	}
	return true
}

// nodeRouter serves one node: its status resource at path, behind its CORS layer.
func nodeRouter(name, path string, cors func(http.Handler) http.Handler) http.Handler {
	r := chi.NewRouter()
	r.Use(cors) // like a servlet filter or a proxy, it sees every request, routed or not
	status := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]string{"node": name, "status": "ok"})
	}
	r.Get(path, status)
	r.Head(path, status)
	return r
}
