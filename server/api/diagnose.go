package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/egress"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/server/words"
)

// DiagnoseInput asks the service to check one URL for one origin, as the gadget's request. The
// service sends placeholders instead of most header values (see withPlaceholders).
type DiagnoseInput struct {
	URL         string        `json:"url"`
	Origin      string        `json:"origin"`
	Kind        string        `json:"kind"`
	Method      string        `json:"method"`
	Headers     []cors.Header `json:"headers"`
	Credentials string        `json:"credentials"`
	ResultID    int64         `json:"resultId"`
	// Lang is the language of the report's explanation and fixes (en, nl, ko or a locale
	// such as nl_NL); English when empty. What is stored is English.
	Lang string `json:"lang,omitempty"`
}

// DiagnoseOutput is the stored diagnosis and the probe's report.
type DiagnoseOutput struct {
	ID     int64         `json:"id"`
	Report *probe.Report `json:"report"`
}

// request validates the input and returns the request to probe for browser, or every problem.
func (in DiagnoseInput) request(browser cors.Browser) (cors.Request, targets.Kind, map[string]string) {
	p := map[string]string{}
	u, err := targets.ParseURL(in.URL)
	if err != nil {
		p["url"] = err.Error()
	}
	origin, err := cors.ParseOrigin(in.Origin)
	if err != nil || origin != in.Origin {
		p["origin"] = "must be an origin such as https://finesse.example.com:8445"
	}
	kind := targets.Custom
	if in.Kind != "" {
		if kind, err = targets.ParseKind(in.Kind); err != nil {
			p["kind"] = "must be cuic, livedata, finesse or custom"
		}
	}
	if in.Lang != "" {
		if _, err := words.Parse(in.Lang); err != nil {
			p["lang"] = "must be en, nl or ko"
		}
	}
	method := "GET"
	if in.Method != "" {
		if method, err = cors.NormalizeMethod(in.Method); err != nil || !slices.Contains(diagnoseMethods, method) {
			p["method"] = "must be one of " + strings.Join(diagnoseMethods, ", ")
		}
	}
	cred := cors.SameOrigin
	if in.Credentials != "" {
		if cred, err = cors.ParseCredentials(in.Credentials); err != nil {
			p["credentials"] = "must be include, omit or same-origin"
		}
	}
	if len(in.Headers) > 30 {
		p["headers"] = "must hold at most 30 headers"
	}
	var hs []cors.Header
	for i, h := range in.Headers {
		v, err := cors.ValidateHeader(h.Name, h.Value)
		if err != nil || len(h.Name) > 100 || len(v) > 1024 || !printable(v) {
			p[fmt.Sprintf("headers[%d]", i)] = "must be a header name and a printable value of at most 1024 bytes"
			continue
		}
		hs = append(hs, cors.Header{Name: h.Name, Value: v})
	}
	hs, _ = browser.CombineHeaders(hs)
	if in.ResultID < 0 {
		p["resultId"] = "must be a result id"
	}
	if len(p) > 0 {
		return cors.Request{}, "", p
	}
	return cors.Request{URL: u, Origin: origin, Method: method, Header: hs, Credentials: cred, Browser: browser}, kind, nil
}

// postDiagnose probes the URL server-side, stores the diagnosis next to the result it explains
// and answers with the report. Only the endpoints the catalogue lists for a host, at allowed
// addresses, can be probed.
func (s *server) postDiagnose(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		fail(w, http.StatusForbidden, "this origin may not ask for diagnoses; add it to the service's --origins", nil)
		return
	}
	var in DiagnoseInput
	if derr := decodeJSON(w, r, 16<<10, &in); derr != nil {
		fail(w, derr.status, derr.msg, derr.fields)
		return
	}
	browser, err := requestBrowser(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "invalid diagnosis request", map[string]string{"browser": "must be chromium or firefox"})
		return
	}
	req, kind, problems := in.request(browser)
	if problems != nil {
		fail(w, http.StatusBadRequest, "invalid diagnosis request", problems)
		return
	}
	if err := s.catalogue.Get().Reachable(req.URL); err != nil {
		fail(w, http.StatusForbidden, err.Error(), nil)
		return
	}
	var replaced []string
	req.Header, replaced = withPlaceholders(req.Header, req.Browser)
	if err := s.guard.CheckURL(r.Context(), req.URL); err != nil {
		if errors.As(err, new(*egress.Error)) {
			fail(w, http.StatusForbidden, err.Error(), nil)
			return
		}
		fail(w, http.StatusBadGateway, "cannot resolve "+req.URL.Hostname()+": "+err.Error(), nil)
		return
	}
	if in.ResultID > 0 {
		if _, err := s.store.Result(r.Context(), in.ResultID); errors.Is(err, store.ErrNotFound) {
			fail(w, http.StatusBadRequest, "invalid diagnosis request", map[string]string{"resultId": "no such result"})
			return
		} else if err != nil {
			internal(w, r, s.log, err)
			return
		}
	}
	if !s.startDiagnosis(r.Context()) {
		w.Header().Set("Retry-After", "1")
		fail(w, http.StatusServiceUnavailable, fmt.Sprintf(
			"the service is running as many diagnoses as it may (%d); retry in a second", cap(s.diagnosing)), nil)
		return
	}
	start := time.Now()
	rep := s.prober.Check(r.Context(), req, kind)
	s.metrics.observeProbe(time.Since(start))
	rep.Placeholders = replaced
	// The answer is told in the gadget's language, what is stored in English; both are cut
	// before what the node sent is let go.
	_, err = capReport(rep, maxReport)
	told := rep.In(words.Pick(in.Lang))
	if err == nil {
		_, err = capReport(told, maxReport)
	}
	<-s.diagnosing // the reports are cut: what the node sent is no longer held
	if err != nil {
		internal(w, r, s.log, err)
		return
	}
	d, err := StoredDiagnosis(rep, in.ResultID, s.now())
	if err != nil {
		internal(w, r, s.log, err)
		return
	}
	id, err := s.store.AddDiagnosis(r.Context(), d)
	if err != nil {
		internal(w, r, s.log, err)
		return
	}
	encode(w, http.StatusOK, DiagnoseOutput{ID: id, Report: told})
}

// requestBrowser is the browser whose rules and words the diagnosis uses: the query's browser
// parameter when given (for scripts), else the browser that sends the request, by its
// User-Agent: the gadget asks from the agent's own browser.
func requestBrowser(r *http.Request) (cors.Browser, error) {
	if b := r.URL.Query().Get("browser"); b != "" {
		return cors.ParseBrowser(b)
	}
	return cors.BrowserOfUserAgent(r.Header.Get("User-Agent")), nil
}

// startDiagnosis takes room for one more diagnosis, waiting up to diagnoseWait; false when
// there is none, or the request ended while waiting.
func (s *server) startDiagnosis(ctx context.Context) bool {
	select {
	case s.diagnosing <- struct{}{}:
		return true
	default:
	}
	wait := time.NewTimer(s.diagnoseWait)
	defer wait.Stop()
	select {
	case s.diagnosing <- struct{}{}:
		return true
	case <-wait.C:
	case <-ctx.Done():
	}
	return false
}

// diagnoseMethods are the methods the diagnosis sends: those of RFC 9110 that fetch() sends.
// fetch() accepts other tokens too, but no gadget uses them, and each is one more way to act on
// a node.
var diagnoseMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// Placeholders the diagnosis sends instead of the caller's header values.
const (
	placeholderAuthorization = "Basic Y29yc2NoZWNrOnByb2Jl" // user corscheck, password probe
	// placeholderValue is CORS-unsafe for every header name (it has a colon), so a header
	// that needed a preflight still does.
	placeholderValue = "corscheck:placeholder"
)

// withPlaceholders replaces the values of the headers that make the request need a preflight
// with fixed placeholders, and names the headers it changed. A CORS decision depends on these
// headers' names, not their values; values that CORS safelists (Accept: */*, Content-Type:
// text/plain, …) are kept, because they decide whether a preflight is sent. So the service never
// forwards a caller's Authorization or token to a node, and the verdict stays the same.
func withPlaceholders(hs []cors.Header, b cors.Browser) ([]cors.Header, []string) {
	unsafe := b.UnsafeHeaderNames(hs)
	var replaced []string
	out := make([]cors.Header, len(hs))
	for i, h := range hs {
		out[i] = h
		if !slices.Contains(unsafe, strings.ToLower(h.Name)) {
			continue
		}
		out[i].Value = placeholderValue
		if strings.EqualFold(h.Name, "Authorization") {
			out[i].Value = placeholderAuthorization
		}
		if out[i].Value != h.Value {
			replaced = append(replaced, h.Name)
		}
	}
	return out, replaced
}

// getTargets serves the catalogue for the gadget's dropdown (allowed domains stay private).
func (s *server) getTargets(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Origin")
	encode(w, http.StatusOK, map[string]any{"targets": s.catalogue.Get().WithLists().Targets})
}

// putTargets replaces the catalogue after validating it whole.
func (s *server) putTargets(w http.ResponseWriter, r *http.Request) {
	var c targets.Catalogue
	if derr := decodeJSON(w, r, 256<<10, &c); derr != nil {
		fail(w, derr.status, derr.msg, derr.fields)
		return
	}
	if err := s.catalogue.Replace(r.Context(), c); err != nil {
		if invalid, ok := errors.AsType[*targets.InvalidError](err); ok {
			fail(w, http.StatusBadRequest, invalid.Error(), nil)
			return
		}
		internal(w, r, s.log, err)
		return
	}
	encode(w, http.StatusOK, c.WithLists())
}
