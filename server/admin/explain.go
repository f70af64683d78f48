package admin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/explain"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/web"
)

// maxExplainField bounds the small fields of the Explain form.
const maxExplainField = 1024

// explainPage shows the form and the saved cases.
func (h *handler) explainPage(w http.ResponseWriter, r *http.Request) {
	h.renderExplain(w, r, http.StatusOK, web.ExplainView{})
}

// renderExplain fills in what every Explain page shows and renders it.
func (h *handler) renderExplain(w http.ResponseWriter, r *http.Request, status int, v web.ExplainView) {
	v.Nav = web.Nav{SignedIn: true, Current: "explain"}
	v.LimitMB = int(h.explainLimit >> 20)
	v.Kinds = []web.Option{{Value: "auto", Label: "from each URL (CUIC 8444, Live Data 12005/12008, Finesse 8445)"}}
	for _, k := range targets.Kinds {
		v.Kinds = append(v.Kinds, web.Option{Value: string(k), Label: string(k)})
	}
	v.Browsers = []web.Option{{Value: "", Label: "from the recording"}, {Value: "chromium", Label: "Chrome or Edge"}, {Value: "firefox", Label: "Firefox"}}
	if v.CaseTitle == "" {
		cs, err := h.store.Cases(r.Context(), 50)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		for _, c := range cs {
			v.Cases = append(v.Cases, web.CaseRow{Title: c.Title, Created: formatTime(c.CreatedAt),
				URL: "/admin/explain/cases/" + strconv.FormatInt(c.ID, 10)})
		}
	}
	h.render(w, r, status, web.ExplainPage(v))
}

// explainUpload explains an uploaded HAR file or pasted console text. The upload is read as a
// stream (the form's small fields come first), redacted, shown, and forgotten.
func (h *handler) explainUpload(w http.ResponseWriter, r *http.Request) {
	v := web.ExplainView{}
	fail := func(status int, msg string) {
		v.Error = msg
		h.renderExplain(w, r, status, v)
	}
	limit := h.explainLimit + 64<<10 // the recording and the form around it
	if r.ContentLength > limit {
		fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("The upload is larger than %d MB.", h.explainLimit>>20))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		fail(http.StatusBadRequest, "The form could not be read.")
		return
	}
	var opt explain.Options
	var res *explain.Result
	name := ""
	for res == nil {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail(http.StatusBadRequest, "The form could not be read.")
			return
		}
		switch part.FormName() {
		case "kind", "browser", "origin":
			val, err := smallField(part)
			if err != nil {
				fail(http.StatusBadRequest, "The form could not be read.")
				return
			}
			if msg := setOption(&opt, &v, part.FormName(), val); msg != "" {
				fail(http.StatusBadRequest, msg)
				return
			}
		case "console":
			text, err := io.ReadAll(io.LimitReader(part, h.explainLimit+1))
			if err != nil {
				fail(http.StatusBadRequest, "The form could not be read.")
				return
			}
			if strings.TrimSpace(string(text)) == "" {
				continue
			}
			o := opt
			o.Console = true
			name = "console text"
			res, err = explain.ReadAtMost(bytes.NewReader(text), h.explainLimit, o)
			if err != nil {
				fail(explainStatus(err), explainError(err, h.explainLimit))
				return
			}
		case "har":
			file := bufio.NewReader(part)
			if _, err := file.Peek(1); part.FileName() == "" || err != nil {
				continue // no file chosen, or an empty one
			}
			name = part.FileName()
			res, err = explain.ReadAtMost(file, h.explainLimit, opt)
			if err != nil {
				fail(explainStatus(err), explainError(err, h.explainLimit))
				return
			}
		}
	}
	if res == nil {
		fail(http.StatusBadRequest, "Choose a HAR file or paste console text.")
		return
	}
	findings, err := json.Marshal(res.JSON())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	explainedView(&v, res)
	if len(findings) <= store.MaxCaseFindings {
		v.SaveJSON = string(findings)
		v.SaveTitle = truncateRunes(name+" · "+h.now().UTC().Format("2006-01-02 15:04")+" UTC", store.MaxCaseTitle)
	} else {
		v.Notice = "This recording has too many findings to be saved as a case."
	}
	status := http.StatusOK
	if !res.Complete() {
		status = http.StatusUnprocessableEntity
		v.Error = "The recording was read only in part (the problems are below). The findings are of what could be read: a request in the unread part is not among them."
		v.SaveTitle = truncateRunes("PARTIAL "+v.SaveTitle, store.MaxCaseTitle)
	}
	h.renderExplain(w, r, status, v)
}

// smallField reads a short form value.
func smallField(p *multipart.Part) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, maxExplainField+1))
	if err != nil || len(b) > maxExplainField {
		return "", errors.New("field too long")
	}
	return strings.TrimSpace(string(b)), nil
}

// setOption reads one option of the form into opt and keeps it for the form; it returns what is
// wrong with it.
func setOption(opt *explain.Options, v *web.ExplainView, name, val string) string {
	var err error
	switch name {
	case "kind":
		v.Kind = val
		if val != "" && val != "auto" {
			if opt.Kind, err = targets.ParseKind(val); err != nil {
				return "The target kind must be one of the list."
			}
		}
	case "browser":
		v.Browser = val
		if val != "" {
			if opt.Browser, err = cors.ParseBrowser(val); err != nil {
				return "The browser must be Chrome, Edge or Firefox."
			}
		}
	case "origin":
		v.Origin = val
		if val != "" {
			if opt.Origin, err = cors.ParseOrigin(val); err != nil {
				return "The page origin must be an origin such as https://finesse.example.com:8445."
			}
		}
	}
	return ""
}

func explainStatus(err error) int {
	if errors.Is(err, explain.ErrTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func explainError(err error, limit int64) string {
	if errors.Is(err, explain.ErrTooLarge) {
		return fmt.Sprintf("The recording is larger than %d MB.", limit>>20)
	}
	return "The recording cannot be read: " + err.Error()
}

// explainedView turns a redacted result into the page's view.
func explainedView(v *web.ExplainView, res *explain.Result) {
	v.Explained, v.Describe, v.Summary, v.Problems = true, res.Describe(), res.Summary(), res.Problems
	for _, n := range res.Nodes() {
		node := web.ExplainNode{Node: n.Node}
		for _, f := range n.Findings {
			node.Findings = append(node.Findings, findingView(f))
		}
		v.Nodes = append(v.Nodes, node)
	}
}

func findingView(f explain.Finding) web.ExplainFinding {
	ef := web.ExplainFinding{Limits: f.Limits, ProbeCommand: f.ProbeCommand, Browser: "Chromium's words (Chrome, Edge)",
		Request: strings.TrimSpace(f.Method + " " + f.URL)}
	if f.Browser == cors.Firefox {
		ef.Browser = "Firefox's words"
	}
	switch {
	case f.Entry != nil:
		ef.Where = "HAR entry " + strconv.Itoa(*f.Entry)
		if f.StartedDateTime != "" {
			ef.Where += " at " + f.StartedDateTime
		}
	case f.Line > 0:
		ef.Where = "console line " + strconv.Itoa(f.Line)
	}
	d := web.DiagnosisView{URL: f.URL, Origin: f.Origin, Verdict: string(f.Verdict), Reason: string(f.CorsError),
		FailedParameter: f.FailedParameter}
	if f.Network != nil {
		d.NetworkClass = string(f.Network.Class)
	}
	ef.Diagnosis = reportView(d, f.Report)
	return ef
}

// saveCase keeps the findings of an explained recording. They come back from the page, where
// anyone could have edited them, so they are trusted in nothing: they are read as findings and
// every string of every field is redacted again before they are stored.
func (h *handler) saveCase(w http.ResponseWriter, r *http.Request) {
	v := web.ExplainView{}
	if err := readForm(w, r, store.MaxCaseFindings+64<<10); err != nil {
		v.Error = "The case could not be saved: it is too large."
		h.renderExplain(w, r, http.StatusRequestEntityTooLarge, v)
		return
	}
	title := strings.TrimSpace(r.PostForm.Get("title"))
	if title == "" || !utf8.ValidString(title) || len(title) > store.MaxCaseTitle || strings.ContainsFunc(title, isControl) {
		v.Error = "The case was not saved: its title must be 1 to 200 bytes of text."
		h.renderExplain(w, r, http.StatusBadRequest, v)
		return
	}
	dec := json.NewDecoder(strings.NewReader(r.PostForm.Get("findings")))
	dec.DisallowUnknownFields()
	res := &explain.Result{}
	if err := dec.Decode(&res.Findings); err != nil || dec.More() {
		v.Error = "The case was not saved: its findings could not be read. Explain the recording again."
		h.renderExplain(w, r, http.StatusBadRequest, v)
		return
	}
	for _, f := range res.Findings {
		if f.Report == nil {
			v.Error = "The case was not saved: its findings could not be read. Explain the recording again."
			h.renderExplain(w, r, http.StatusBadRequest, v)
			return
		}
	}
	res.Redact()
	body, err := json.Marshal(res.JSON())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	id, err := h.store.AddCase(r.Context(), store.Case{Title: title, CreatedAt: h.now().UTC(), Findings: body})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/explain/cases/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// showCase shows a saved case as it was explained.
func (h *handler) showCase(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, http.StatusNotFound, "There is no such case.")
		return
	}
	c, err := h.store.Case(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "There is no such case.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	res := &explain.Result{Source: "case"}
	v := web.ExplainView{CaseTitle: c.Title}
	if err := json.Unmarshal(c.Findings, &res.Findings); err != nil {
		v.Error = "The case's findings could not be read: " + err.Error()
		h.renderExplain(w, r, http.StatusOK, v)
		return
	}
	res.Redact() // a case saved before a redaction rule was added gets it too
	explainedView(&v, res)
	v.Describe = "Saved " + formatTime(c.CreatedAt)
	h.renderExplain(w, r, http.StatusOK, v)
}

// truncateRunes cuts s to at most n bytes without splitting a character.
func truncateRunes(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
