package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// Limits of POST /api/v1/results.
const (
	maxResultsBody = 64 << 10
	maxBatch       = 100
	maxMethod      = 32
)

// earliestClientTime is the earliest browser clock a result may report.
var earliestClientTime = time.Unix(0, 0).UTC()

// ResultInput is one result as the gadget reports it.
type ResultInput struct {
	GadgetVersion string   `json:"gadgetVersion"`
	PageOrigin    string   `json:"pageOrigin"`
	TargetKind    string   `json:"targetKind"`
	Node          string   `json:"node"`
	URL           string   `json:"url"`
	Method        string   `json:"method"`
	HeaderNames   []string `json:"headerNames"`
	Credentials   string   `json:"credentials"`
	Verdict       string   `json:"verdict"`
	BrowserError  string   `json:"browserError"`
	DurationMs    float64  `json:"durationMs"`
	UserAgent     string   `json:"userAgent"`
	AgentID       string   `json:"agentId"`
	Extension     string   `json:"extension"`
	Role          string   `json:"role"`
	ClientTime    string   `json:"clientTime"`
}

// Valid returns every problem of the result at once, keyed by field name.
func (in ResultInput) Valid() map[string]string {
	p := map[string]string{}
	text := func(field, v string, max int, required bool) {
		switch {
		case v == "" && required:
			p[field] = "is required"
		case len(v) > max:
			p[field] = fmt.Sprintf("must be at most %d bytes", max)
		case !printable(v):
			p[field] = "must be printable text (no control, bidi or zero-width characters)"
		}
	}
	text("gadgetVersion", in.GadgetVersion, 32, true)
	if o, err := cors.ParseOrigin(in.PageOrigin); err != nil || o != in.PageOrigin || o == cors.NullOrigin {
		p["pageOrigin"] = "must be an origin such as https://finesse.example.com:8445 (scheme, host, port; no path)"
	}
	if _, err := targets.ParseKind(in.TargetKind); err != nil || in.TargetKind != strings.ToLower(in.TargetKind) {
		p["targetKind"] = "must be cuic, livedata, finesse or custom"
	}
	if err := targets.ValidNode(in.Node); err != nil {
		p["node"] = "must be a host name or IP address without port"
	}
	if _, err := targets.ParseURL(in.URL); err != nil {
		p["url"] = err.Error()
	}
	if m, err := cors.NormalizeMethod(in.Method); err != nil || m != in.Method || len(m) > maxMethod {
		p["method"] = fmt.Sprintf("must be an HTTP method as fetch() sends it (e.g. GET), at most %d characters", maxMethod)
	}
	if len(in.HeaderNames) > 50 {
		p["headerNames"] = "must list at most 50 names"
	}
	for i, n := range in.HeaderNames {
		if _, err := cors.ValidateHeader(n, ""); err != nil || len(n) > 100 {
			p[fmt.Sprintf("headerNames[%d]", i)] = "must be a header name"
		}
	}
	if _, err := cors.ParseCredentials(in.Credentials); err != nil {
		p["credentials"] = "must be include, omit or same-origin"
	}
	switch cors.Verdict(in.Verdict) {
	case cors.Allowed, cors.Blocked, cors.Unreachable:
	default:
		p["verdict"] = "must be allowed, blocked or unreachable"
	}
	text("browserError", in.BrowserError, 500, false)
	if in.DurationMs < 0 || in.DurationMs > 600000 || in.DurationMs != in.DurationMs {
		p["durationMs"] = "must be between 0 and 600000"
	}
	text("userAgent", in.UserAgent, 512, false)
	text("agentId", in.AgentID, 64, false)
	text("extension", in.Extension, 32, false)
	text("role", in.Role, 32, false)
	if in.ClientTime != "" {
		t, err := time.Parse(time.RFC3339Nano, in.ClientTime)
		if err != nil {
			p["clientTime"] = "must be an RFC 3339 time such as 2026-11-23T09:30:00Z"
		} else if t = t.UTC(); t.Before(earliestClientTime) || t.Year() > 9999 {
			// Year 1 would be stored as no time at all.
			p["clientTime"] = "must be a time from 1970 to 9999 (UTC)"
		}
	}
	return p
}

// printable refuses invalid UTF-8, control characters (tabs included) and characters that
// render as nothing, such as bidi controls (U+202E) and zero-width ones (U+200B): these values
// end up in tables, logs and CSV files, where they would make one value read as another.
func printable(s string) bool { return !targets.HasInvisible(s) }

func (in ResultInput) result(now time.Time, client string) store.Result {
	r := store.Result{
		ReceivedAt: now, ClientAddr: client,
		GadgetVersion: in.GadgetVersion, PageOrigin: in.PageOrigin, TargetKind: in.TargetKind,
		Node: strings.ToLower(in.Node), URL: in.URL, Method: in.Method, HeaderNames: lowerAll(in.HeaderNames),
		Credentials: in.Credentials, Verdict: in.Verdict, BrowserError: in.BrowserError,
		DurationMs: in.DurationMs, UserAgent: in.UserAgent, AgentID: in.AgentID, Extension: in.Extension, Role: in.Role,
	}
	if in.ClientTime != "" {
		r.ClientTime, _ = time.Parse(time.RFC3339Nano, in.ClientTime)
	}
	if r.HeaderNames == nil {
		r.HeaderNames = []string{}
	}
	return r
}

func lowerAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

// decodeResults reads one result object or an array of at most maxBatch of them. A bad
// element's fields are named with its index ([2].verdict).
func decodeResults(w http.ResponseWriter, r *http.Request) (_ []ResultInput, batch bool, _ *decodeError) {
	body, derr := readJSON(w, r, maxResultsBody)
	if derr != nil {
		return nil, false, derr
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	var out []ResultInput
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{':
		out = make([]ResultInput, 1)
		if derr := decodeStrict(body, &out[0]); derr != nil {
			return nil, false, derr
		}
	case len(trimmed) > 0 && trimmed[0] == '[':
		batch = true
		if derr := decodeStrict(body, &out); derr != nil {
			return nil, true, derr
		}
		if len(out) == 0 {
			return nil, true, &decodeError{status: http.StatusBadRequest, msg: "the batch is empty"}
		}
		if len(out) > maxBatch {
			return nil, true, &decodeError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("a batch holds at most %d results, got %d", maxBatch, len(out))}
		}
	case len(trimmed) == 0:
		return nil, false, &decodeError{status: http.StatusBadRequest, msg: "the body is empty; send a JSON object"}
	default:
		return nil, false, &decodeError{status: http.StatusBadRequest, msg: "the body must be a result object or an array of them"}
	}
	fields := map[string]string{}
	for i, in := range out {
		prefix := ""
		if batch {
			prefix = fmt.Sprintf("[%d].", i)
		}
		for f, m := range in.Valid() {
			fields[prefix+f] = m
		}
	}
	if len(fields) > 0 {
		return nil, batch, &decodeError{status: http.StatusBadRequest, msg: "invalid result", fields: fields}
	}
	return out, batch, nil
}

// postResults stores the results and answers 201 with their ids once they are committed.
func (s *server) postResults(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		fail(w, http.StatusForbidden, "this origin may not report results; add it to the service's --origins", nil)
		return
	}
	ins, batch, derr := decodeResults(w, r)
	if derr != nil {
		fail(w, derr.status, derr.msg, derr.fields)
		return
	}
	if o := r.Header.Get("Origin"); o != "" {
		for i, in := range ins {
			if in.PageOrigin != o {
				field := "pageOrigin"
				if batch {
					field = fmt.Sprintf("[%d].pageOrigin", i)
				}
				fail(w, http.StatusBadRequest, "invalid result", map[string]string{field: "must equal the Origin the browser sent (" + o + ")"})
				return
			}
		}
	}
	now := s.now().UTC()
	client := s.clientIP(r)
	rs := make([]store.Result, len(ins))
	for i, in := range ins {
		rs[i] = in.result(now, client)
	}
	start := time.Now()
	ids, err := s.store.AddResults(r.Context(), rs)
	s.metrics.ingest.Observe(time.Since(start).Seconds())
	if err != nil {
		internal(w, r, s.log, err)
		return
	}
	for _, res := range rs {
		s.metrics.results.WithLabelValues(res.Verdict).Inc()
	}
	encode(w, http.StatusCreated, map[string][]int64{"ids": ids})
}
