package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/store"
)

// maxReport bounds the JSON of a diagnosis report that the service stores and returns. A node
// decides how much a report holds (the audit got 1.3 MB from 20 redirects with 58 KB of headers
// each); a whole report is seldom above 10 KB.
const maxReport = 64 << 10

// Limits of the parts of a report that is too large.
const (
	maxHeaderBytes = 4 << 10 // response headers of one exchange
	maxText        = 1 << 10 // one header value, URL, message or command, in bytes of JSON
	keptSteps      = 2       // steps kept at each end of a long redirect chain
	keptWarnings   = 20
)

// capReport returns rep's JSON in at most limit bytes. When it is larger, it cuts the least
// useful parts first, in place, and lists what it cut in rep.Cut: each exchange's response
// headers beyond maxHeaderBytes (the CORS headers first) and long texts in exchanges; then the
// middle of a long redirect chain; then every header; then long texts everywhere. The verdict,
// the reason and the fixes are never cut.
func capReport(rep *probe.Report, limit int) ([]byte, error) {
	for _, shrink := range []func(*probe.Report) string{cutExchanges, cutSteps, dropHeaders, cutTexts} {
		b, err := json.Marshal(rep)
		if err != nil || len(b) <= limit {
			return b, err
		}
		if note := shrink(rep); note != "" {
			rep.Cut = append(rep.Cut, note)
		}
	}
	b, err := json.Marshal(rep)
	if err != nil || len(b) <= limit {
		return b, err
	}
	return nil, fmt.Errorf("the report is %d bytes after every cut, above %d", len(b), limit)
}

// StoredDiagnosis is rep as the store keeps it: the diagnosis of the result resultID (0 for
// none), made at at, with the report's JSON capped (see capReport, which may cut rep). The
// diagnosis API and the monitor's checks store their reports alike with it.
func StoredDiagnosis(rep *probe.Report, resultID int64, at time.Time) (store.Diagnosis, error) {
	body, err := capReport(rep, maxReport)
	if err != nil {
		return store.Diagnosis{}, err
	}
	d := store.Diagnosis{
		ResultID: resultID, CreatedAt: at.UTC(), URL: rep.URL, Origin: rep.Origin, Kind: string(rep.Kind),
		Node: rep.Node, Verdict: string(rep.Verdict), Reason: string(rep.CorsError), FailedParameter: rep.FailedParameter,
		Report: body,
	}
	if rep.Network != nil {
		d.NetworkClass = string(rep.Network.Class)
	}
	return d, nil
}

// exchanges are every exchange of the report: the steps and the preflight and actual request,
// which usually point into the steps (each is listed once).
func exchanges(rep *probe.Report) []*probe.Exchange {
	var out []*probe.Exchange
	for i := range rep.Steps {
		out = append(out, &rep.Steps[i])
	}
	for _, x := range []*probe.Exchange{rep.Preflight, rep.Actual} {
		if x != nil && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func cutExchanges(rep *probe.Report) string {
	cut := 0
	for _, x := range exchanges(rep) {
		before := x.Headers
		x.Headers = capHeaders(x.Headers, maxHeaderBytes)
		x.URL, x.Error = cutText(x.URL), cutText(x.Error)
		for i := range x.RequestHeaders {
			x.RequestHeaders[i].Value = cutText(x.RequestHeaders[i].Value)
		}
		if len(x.Headers) != len(before) || headerBytes(x.Headers) != headerBytes(before) {
			cut++
		}
	}
	if cut == 0 {
		return ""
	}
	return fmt.Sprintf("the response headers of %d exchanges, cut to %d bytes each (CORS headers first; long values end with …)",
		cut, maxHeaderBytes)
}

// capHeaders keeps headers of h up to limit bytes: the CORS headers, Location and Vary first,
// then the others by name, each value cut to maxText.
func capHeaders(h http.Header, limit int) http.Header {
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if ra, rb := corsRelevant(a), corsRelevant(b); ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	out := http.Header{}
	size := 0
	for _, n := range names {
		for _, v := range h[n] {
			v = cutText(v)
			if size+len(n)+len(v) > limit {
				return out
			}
			size += len(n) + len(v)
			out[n] = append(out[n], v)
		}
	}
	return out
}

func corsRelevant(name string) bool {
	return strings.HasPrefix(name, "Access-Control-") || name == "Location" || name == "Vary"
}

func headerBytes(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	return n
}

// cutSteps keeps the first and the last keptSteps steps of a long redirect chain.
func cutSteps(rep *probe.Report) string {
	n := len(rep.Steps)
	if n <= 2*keptSteps {
		return ""
	}
	rep.Steps = append(rep.Steps[:keptSteps:keptSteps], rep.Steps[n-keptSteps:]...)
	return fmt.Sprintf("steps %d to %d of %d (the middle of the redirect chain)", keptSteps+1, n-keptSteps, n)
}

func dropHeaders(rep *probe.Report) string {
	for _, x := range exchanges(rep) {
		x.Headers, x.RequestHeaders = nil, []cors.Header{}
	}
	return "every request and response header"
}

func cutTexts(rep *probe.Report) string {
	for _, s := range []*string{&rep.URL, &rep.FinalURL, &rep.Console, &rep.Explanation, &rep.FailedParameter} {
		*s = cutText(*s)
	}
	if rep.Network != nil {
		rep.Network.Message = cutText(rep.Network.Message)
	}
	if len(rep.Warnings) > keptWarnings {
		rep.Warnings = rep.Warnings[:keptWarnings]
	}
	for i := range rep.Warnings {
		rep.Warnings[i].Message = cutText(rep.Warnings[i].Message)
	}
	for i := range rep.Fixes {
		f := &rep.Fixes[i]
		f.Summary = cutText(f.Summary)
		for _, list := range [][]string{f.Commands, f.Restart, f.Notes} {
			for j := range list {
				list[j] = cutText(list[j])
			}
		}
	}
	return fmt.Sprintf("texts longer than %d bytes (they end with …), and warnings after the first %d", maxText, keptWarnings)
}

// cutText cuts s to maxText bytes of JSON, at a character boundary, and marks the cut with "…".
// Bytes are counted as json.Marshal writes them: <, > and & take six (\u003c), so a text full
// of them is cut sooner.
func cutText(s string) string {
	if len(s) <= maxText/6 {
		return s
	}
	size := 0
	for i, r := range s {
		size += jsonSize(r)
		if size > maxText-len("…") {
			return s[:i] + "…"
		}
	}
	return s
}

// jsonSize is how many bytes json.Marshal writes for r.
func jsonSize(r rune) int {
	switch {
	case r == '<' || r == '>' || r == '&' || r < 0x20 || r == '\u2028' || r == '\u2029' || r == utf8.RuneError:
		return 6
	case r == '"' || r == '\\':
		return 2
	}
	return utf8.RuneLen(r)
}
