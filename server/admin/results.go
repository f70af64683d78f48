package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/web"
)

var verdicts = []string{"allowed", "blocked", "unreachable"}

const (
	shownTime = "2006-01-02 15:04:05"
	formTime  = "2006-01-02T15:04:05"
)

// filterForm reads the results filter from the query: the store filter and the form's values.
// Times are UTC; the form sends datetime-local values, scripts may send RFC 3339.
func filterForm(q url.Values) (store.Filter, web.FilterForm, error) {
	form := web.FilterForm{
		Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")),
		Kind: strings.TrimSpace(q.Get("kind")), Node: strings.TrimSpace(q.Get("node")),
		Origin: strings.TrimSpace(q.Get("origin")), Verdict: strings.TrimSpace(q.Get("verdict")),
		Agent: strings.TrimSpace(q.Get("agent")), Reason: strings.TrimSpace(q.Get("reason")),
		Source: strings.TrimSpace(q.Get("source")),
	}
	f := store.Filter{Node: form.Node, PageOrigin: form.Origin, TargetKind: form.Kind,
		Verdict: form.Verdict, AgentID: form.Agent, Reason: form.Reason, Source: form.Source}
	var errs []error
	var err error
	if f.Since, err = parseTime(form.Since); err != nil {
		errs = append(errs, fmt.Errorf("since: %w", err))
	}
	if f.Until, err = parseTime(form.Until); err != nil {
		errs = append(errs, fmt.Errorf("until: %w", err))
	}
	if form.Kind != "" {
		if _, err := targets.ParseKind(form.Kind); err != nil {
			errs = append(errs, err)
		}
	}
	if form.Verdict != "" && !slices.Contains(verdicts, form.Verdict) {
		errs = append(errs, fmt.Errorf("verdict %q must be one of %s", form.Verdict, strings.Join(verdicts, ", ")))
	}
	if form.Source != "" && !slices.Contains(store.Sources, form.Source) {
		errs = append(errs, fmt.Errorf("source %q must be one of %s", form.Source, strings.Join(store.Sources, ", ")))
	}
	if b := q.Get("before"); b != "" {
		// The page after result b; filter sets the cursor's time.
		if f.Before.ID, err = strconv.ParseInt(b, 10, 64); err != nil || f.Before.ID <= 0 {
			errs = append(errs, fmt.Errorf("before %q must be a result id", b))
		}
	}
	return f, form, errors.Join(errs...)
}

// problems lists the errors an errors.Join holds one by one (or err alone).
func problems(err error) []string {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range joined.Unwrap() {
		out = append(out, e.Error())
	}
	return out
}

// errGone is a page cursor whose result retention has removed.
var errGone = errors.New("that page starts at a result that no longer exists: start again from the newest")

// filter reads the request's filter (see filterForm) and completes its page cursor with the time
// of the result it names. Errors other than the request's own come back as dbErr.
func (h *handler) filter(r *http.Request) (f store.Filter, form web.FilterForm, ferr, dbErr error) {
	f, form, ferr = filterForm(r.URL.Query())
	if ferr != nil || f.Before.ID == 0 {
		return f, form, ferr, nil
	}
	res, err := h.store.Result(r.Context(), f.Before.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return f, form, errGone, nil
	case err != nil:
		return f, form, nil, err
	}
	f.Before = res.Cursor()
	return f, form, nil, nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{formTime, "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (YYYY-MM-DDTHH:MM, UTC)", s)
}

// query encodes the form (and a keyset position) for links; empty values are left out.
func query(form web.FilterForm, before int64) string {
	q := url.Values{}
	for k, v := range map[string]string{"since": form.Since, "until": form.Until, "kind": form.Kind,
		"node": form.Node, "origin": form.Origin, "verdict": form.Verdict, "agent": form.Agent,
		"reason": form.Reason, "source": form.Source} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func (h *handler) results(w http.ResponseWriter, r *http.Request) {
	f, form, ferr, dbErr := h.filter(r)
	if dbErr != nil {
		h.serverError(w, r, dbErr)
		return
	}
	v := web.ResultsView{Nav: web.Nav{SignedIn: true, Current: "results"}, Filter: form}
	for _, k := range targets.Kinds {
		v.Kinds = append(v.Kinds, web.Option{Value: string(k), Label: string(k)})
	}
	for _, vd := range verdicts {
		v.Verdicts = append(v.Verdicts, web.Option{Value: vd, Label: vd})
	}
	v.Sources = sourceOptions()
	v.Reasons = knownReasons()
	if ferr != nil {
		v.Error, v.Problems = "The filter could not be read:", problems(ferr)
		h.render(w, r, http.StatusBadRequest, web.ResultsPage(v))
		return
	}
	v.ExportCap, v.ExportCSV, v.ExportNDJSON = exportCap, "/admin/export.csv"+query(form, 0), "/admin/export.ndjson"+query(form, 0)
	ctx := r.Context()
	f.Limit = h.pageSize
	rs, err := h.store.Results(ctx, f)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	// Counting stops at countCap, so the page costs the same at ten million results.
	total, err := h.store.CountResultsUpTo(ctx, f, countCap+1)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	v.Total = countText(total)
	for _, res := range rs {
		v.Rows = append(v.Rows, resultRow(res))
	}
	if !f.Before.IsZero() {
		v.NewestURL = "/admin/results" + query(form, 0)
	}
	if len(rs) == h.pageSize {
		v.OlderURL = "/admin/results" + query(form, rs[len(rs)-1].ID)
	}
	h.render(w, r, http.StatusOK, web.ResultsPage(v))
}

// resultRow is one line of a results table.
func resultRow(res store.Result) web.ResultRow {
	return web.ResultRow{
		ID: res.ID, DetailURL: "/admin/results/" + strconv.FormatInt(res.ID, 10),
		ReceivedAt: res.ReceivedAt.UTC().Format(shownTime), Kind: res.TargetKind, Node: res.Node,
		PageOrigin: res.PageOrigin, Verdict: res.Verdict, Agent: agent(res), Error: res.BrowserError,
		Duration: strconv.FormatFloat(res.DurationMs, 'f', 0, 64), Reason: res.Reason, Source: res.Source,
	}
}

// sourceLabels say who checked, in the UI's words.
var sourceLabels = map[string]string{store.SourceGadget: "agents' browsers (gadget)", store.SourceMonitor: "scheduled checks (service)"}

func sourceOptions() []web.Option {
	var out []web.Option
	for _, s := range store.Sources {
		out = append(out, web.Option{Value: s, Label: sourceLabels[s]})
	}
	return out
}

// countCap is where the results page stops counting.
const countCap = 1_000

// countText says how many results match, "more than 1,000" past countCap.
func countText(n int64) string {
	if n > countCap {
		return "More than " + thousands(countCap) + " matching results"
	}
	if n == 1 {
		return "1 matching result"
	}
	return thousands(n) + " matching results"
}

// thousands writes n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// knownReasons are the reasons a result can have: Chromium's CORS error names and the network
// classes, offered as suggestions by the reason filter.
func knownReasons() []web.Option {
	var out []web.Option
	for _, r := range slices.Concat(cors.Reasons, cors.BrowserOnlyReasons) {
		out = append(out, web.Option{Value: string(r), Label: "CORS: " + string(r)})
	}
	for _, c := range probe.NetworkClasses {
		out = append(out, web.Option{Value: string(c), Label: "network: " + string(c)})
	}
	return out
}

// fixViews shows fixes: what to run on which node, then what to restart.
func fixViews(fs []fix.Fix) []web.FixView {
	var out []web.FixView
	for _, f := range fs {
		out = append(out, web.FixView{Node: f.Node, Summary: f.Summary, Commands: f.Commands, Restart: f.Restart, Notes: f.Notes})
	}
	return out
}

func agent(r store.Result) string {
	s := r.AgentID
	if r.Extension != "" {
		if s != "" {
			s += " "
		}
		s += "(ext " + r.Extension + ")"
	}
	return s
}

func (h *handler) result(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, http.StatusNotFound, "There is no such result; retention may have removed it.")
		return
	}
	ctx := r.Context()
	res, err := h.store.Result(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "There is no such result; retention may have removed it.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	ds, err := h.store.Diagnoses(ctx, id)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, web.ResultDetail(detailView(res, ds)))
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(shownTime+".000") + " UTC"
}

func detailView(res store.Result, ds []store.Diagnosis) web.DetailView {
	v := web.DetailView{
		Nav: web.Nav{SignedIn: true, Current: "results"}, ID: res.ID, BackURL: "/admin/results",
		Verdict: res.Verdict,
		Browser: []web.Field{
			{Label: "Received", Value: formatTime(res.ReceivedAt)},
			{Label: "Browser clock", Value: formatTime(res.ClientTime)},
			{Label: "Client address", Value: res.ClientAddr},
			{Label: "Gadget version", Value: res.GadgetVersion},
			{Label: "Page origin", Value: res.PageOrigin},
			{Label: "Target kind", Value: res.TargetKind},
			{Label: "Node", Value: res.Node},
			{Label: "URL", Value: res.URL},
			{Label: "Method", Value: res.Method},
			{Label: "Request headers", Value: strings.Join(res.HeaderNames, ", ")},
			{Label: "Credentials", Value: res.Credentials},
			{Label: "Verdict", Value: res.Verdict},
			{Label: "Browser error", Value: res.BrowserError},
			{Label: "Duration", Value: strconv.FormatFloat(res.DurationMs, 'f', 1, 64) + " ms"},
			{Label: "User agent", Value: res.UserAgent},
			{Label: "Agent", Value: res.AgentID},
			{Label: "Extension", Value: res.Extension},
			{Label: "Role", Value: res.Role},
			{Label: "Reason (from the diagnosis)", Value: res.Reason},
		},
	}
	for _, d := range ds {
		v.Diagnoses = append(v.Diagnoses, diagnosisView(d))
	}
	v.CopyText = copyText(res, v.Diagnoses)
	return v
}

func diagnosisView(d store.Diagnosis) web.DiagnosisView {
	v := web.DiagnosisView{
		CreatedAt: formatTime(d.CreatedAt), URL: d.URL, Origin: d.Origin, Verdict: d.Verdict,
		Reason: d.Reason, FailedParameter: d.FailedParameter, NetworkClass: d.NetworkClass,
	}
	if len(d.Report) == 0 {
		return v
	}
	var rep probe.Report
	if err := json.Unmarshal(d.Report, &rep); err != nil {
		v.ReportError = "The stored report could not be read: " + err.Error()
		return v
	}
	return reportView(v, &rep)
}

// reportView adds what a probe report says to the view of a diagnosis: the console line, the
// explanation, the fixes and the exchanges.
func reportView(v web.DiagnosisView, rep *probe.Report) web.DiagnosisView {
	v.Console, v.Explanation, v.Placeholders, v.Cut = rep.Console, rep.Explanation, rep.Placeholders, rep.Cut
	if rep.Network != nil {
		v.NetworkMessage = rep.Network.Message
	}
	v.Fixes = fixViews(rep.Fixes)
	for _, e := range []struct {
		title string
		x     *probe.Exchange
	}{{"Preflight", rep.Preflight}, {"Actual request", rep.Actual}} {
		if e.x != nil {
			v.Exchanges = append(v.Exchanges, exchangeView(e.title, e.x))
		}
	}
	return v
}

func exchangeView(title string, x *probe.Exchange) web.ExchangeView {
	v := web.ExchangeView{Title: title, Method: x.Method, URL: x.URL, Error: x.Error, Status: "no response"}
	if x.Status != 0 {
		v.Status = strconv.Itoa(x.Status) + " " + http.StatusText(x.Status)
	}
	for _, h := range x.RequestHeaders {
		v.RequestHeaders = append(v.RequestHeaders, web.Field{Label: h.Name, Value: h.Value})
	}
	names := make([]string, 0, len(x.Headers))
	for name := range x.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, val := range x.Headers[name] {
			v.Headers = append(v.Headers, web.Field{Label: name, Value: val})
		}
	}
	return v
}

// copyText is a plain-text summary to paste into a ticket.
func copyText(res store.Result, ds []web.DiagnosisView) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("CORS Quick Check result %d, received %s", res.ID, formatTime(res.ReceivedAt))
	line("Browser: %s %s (%s) from %s: %s", res.Method, res.URL, res.TargetKind, res.PageOrigin, res.Verdict)
	if res.BrowserError != "" {
		line("Browser error: %s", res.BrowserError)
	}
	if a := agent(res); a != "" {
		line("Agent: %s", a)
	}
	if res.UserAgent != "" {
		line("User agent: %s", res.UserAgent)
	}
	for _, d := range ds {
		line("")
		line("Service diagnosis, %s: %s", d.CreatedAt, d.Verdict)
		for _, f := range []web.Field{{Label: "Reason", Value: d.Reason}, {Label: "Failed parameter", Value: d.FailedParameter},
			{Label: "Network", Value: strings.TrimSpace(d.NetworkClass + " " + d.NetworkMessage)},
			{Label: "Console", Value: d.Console}} {
			if f.Value != "" {
				line("%s: %s", f.Label, f.Value)
			}
		}
		for _, f := range d.Fixes {
			line("Fix on %s: %s", f.Node, f.Summary)
			for _, c := range f.Commands {
				line("  %s", c)
			}
			if len(f.Restart) > 0 {
				line("  then restart: %s", strings.Join(f.Restart, "; "))
			}
		}
		for _, e := range d.Exchanges {
			line("%s: %s %s -> %s", e.Title, e.Method, e.URL, e.Status)
			for _, h := range e.Headers {
				line("  %s: %s", h.Label, h.Value)
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
