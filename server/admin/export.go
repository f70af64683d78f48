package admin

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

var csvHeader = []string{"id", "received_at", "client_time", "client_addr", "gadget_version",
	"page_origin", "target_kind", "node", "url", "method", "header_names", "credentials", "verdict",
	"browser_error", "duration_ms", "user_agent", "agent_id", "extension", "role", "reason", "source"}

func (h *handler) exportCSV(w http.ResponseWriter, r *http.Request) {
	var cw *csv.Writer
	h.export(w, r, "csv", "text/csv; charset=utf-8", func() error {
		cw = csv.NewWriter(w)
		return cw.Write(csvHeader)
	}, func(res store.Result) error {
		return cw.Write([]string{
			strconv.FormatInt(res.ID, 10), csvTime(res.ReceivedAt), csvTime(res.ClientTime),
			cell(res.ClientAddr), cell(res.GadgetVersion), cell(res.PageOrigin), cell(res.TargetKind),
			cell(res.Node), cell(res.URL), cell(res.Method), cell(strings.Join(res.HeaderNames, " ")),
			cell(res.Credentials), cell(res.Verdict), cell(res.BrowserError),
			strconv.FormatFloat(res.DurationMs, 'f', -1, 64), cell(res.UserAgent), cell(res.AgentID),
			cell(res.Extension), cell(res.Role), cell(res.Reason), cell(res.Source),
		})
	}, func() error {
		cw.Flush()
		return cw.Error()
	})
}

func (h *handler) exportNDJSON(w http.ResponseWriter, r *http.Request) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	h.export(w, r, "ndjson", "application/x-ndjson", func() error { return nil },
		func(res store.Result) error { return enc.Encode(res) }, func() error { return nil })
}

// export streams every result matching the request's filter, newest first, in keyset pages,
// up to exportCap rows.
func (h *handler) export(w http.ResponseWriter, r *http.Request, ext, contentType string,
	start func() error, row func(store.Result) error, flush func() error) {
	f, _, err, dbErr := h.filter(r)
	if dbErr != nil {
		h.serverError(w, r, dbErr)
		return
	}
	if err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "The filter could not be read: "+err.Error())
		return
	}
	name := "corscheck-results-" + h.now().UTC().Format("20060102T150405Z") + "." + ext
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if err := start(); err != nil {
		h.log.WarnContext(r.Context(), "admin: export", "err", err)
		return
	}
	ctx := r.Context()
	rc := http.NewResponseController(w)
	// A large export outlasts the server's WriteTimeout; give it longer (ignored when the
	// ResponseWriter cannot, such as a recorder in tests).
	_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Minute))
	n := 0
	for n < exportCap {
		f.Limit = min(exportPage, exportCap-n)
		rs, err := h.store.Results(ctx, f)
		if err != nil {
			if n == 0 {
				w.Header().Del("Content-Disposition")
				h.serverError(w, r, err)
				return
			}
			// The status is sent: all we can do is stop and log.
			h.log.ErrorContext(ctx, "admin: export cut short", "rows", n, "err", err)
			return
		}
		for _, res := range rs {
			if err := row(res); err != nil {
				h.log.WarnContext(ctx, "admin: export", "err", err)
				return
			}
		}
		n += len(rs)
		if err := flush(); err != nil {
			h.log.WarnContext(ctx, "admin: export", "err", err)
			return
		}
		rc.Flush()
		if len(rs) < f.Limit {
			return
		}
		f.Before = rs[len(rs)-1].Cursor()
	}
	h.log.InfoContext(ctx, "admin: export stopped at the cap", "rows", n, "cap", exportCap)
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// cell keeps a browser-supplied value from being read as a formula by a spreadsheet: one that
// starts with a formula character, in its ASCII, full-width (＝1+1, which spreadsheets read as
// =1+1) or small form, gets a leading '. Blank and invisible characters before it do not hide it.
func cell(s string) string {
	start := strings.TrimLeftFunc(s, func(r rune) bool { return targets.HasBlank(string(r)) && r != '\t' && r != '\r' })
	if r, _ := utf8.DecodeRuneInString(start); start != "" && strings.ContainsRune(formulaStarts, r) {
		return "'" + s
	}
	return s
}

// formulaStarts are the characters that make a spreadsheet read a cell as a formula.
const formulaStarts = "=+-@\t\r" + "\uff1d\uff0b\uff0d\uff20" + "\ufe66\ufe62\ufe63\ufe6b"
