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
	maxText        = 1 << 10 // one header value, URL, host, message or command, in bytes of JSON
	keptSteps      = 2       // steps kept at each end of a long redirect chain
	keptWarnings   = 20
	// The last cut, which bounds every part whatever the node sent: texts, and items of each list.
	lastText  = 128
	lastItems = 5
)

// capReport returns rep's JSON in at most limit bytes. When it is larger, it cuts the least
// useful parts first, in place, and lists what it cut in rep.Cut: each exchange's response
// headers beyond maxHeaderBytes (the CORS headers first) and long texts in exchanges; then the
// middle of a long redirect chain; then every header; then long texts everywhere, hosts, URLs
// and fixes included; then, as a last resort, every text beyond lastText bytes, every list
// beyond lastItems items and every step but the first and the last. The verdict and the reason
// are never cut. The last cut leaves a report far below maxReport, so a report is never refused
// for its size; an error is one of encoding/json.
//
// A report whose response headers alone exceed limit is not encoded whole first: a node can send
// 256 KiB of headers on each of 21 hops, and encoding those took about 17 MB per diagnosis.
func capReport(rep *probe.Report, limit int) ([]byte, error) {
	for i, shrink := range []func(*probe.Report) string{cutExchanges, cutSteps, dropHeaders, cutTexts, cutLast} {
		if i > 0 || allHeaderBytes(rep) <= limit {
			b, err := json.Marshal(rep)
			if err != nil || len(b) <= limit {
				return b, err
			}
		}
		if note := shrink(rep); note != "" {
			rep.Cut = append(rep.Cut, note)
		}
	}
	return json.Marshal(rep)
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
		x.URL, x.Error = cutText(x.URL, maxText), cutText(x.Error, maxText)
		for i := range x.RequestHeaders {
			x.RequestHeaders[i].Value = cutText(x.RequestHeaders[i].Value, maxText)
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
			v = cutText(v, maxText)
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

// allHeaderBytes is the size of every exchange's response headers, names and values.
func allHeaderBytes(rep *probe.Report) int {
	n := 0
	for _, x := range exchanges(rep) {
		n += headerBytes(x.Headers)
	}
	return n
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
	cutAll(rep, maxText, keptWarnings, -1)
	return fmt.Sprintf("texts longer than %d bytes (they end with …), and warnings after the first %d", maxText, keptWarnings)
}

// cutLast bounds every part of the report, whatever a node sent.
func cutLast(rep *probe.Report) string {
	if n := len(rep.Steps); n > 2 {
		rep.Steps = append(rep.Steps[:1:1], rep.Steps[n-1])
	}
	cutAll(rep, lastText, lastItems, lastItems)
	for _, x := range exchanges(rep) {
		x.Method, x.URL, x.Error = cutText(x.Method, lastText), cutText(x.URL, lastText), cutText(x.Error, lastText)
	}
	return fmt.Sprintf("every step but the first and the last, texts longer than %d bytes, and warnings, fixes and "+
		"their lines after the first %d", lastText, lastItems)
}

// cutAll cuts every text of the report outside its exchanges to size bytes of JSON, keeps the
// first warnings, and the first items fixes and lines of each fix list (all when items < 0).
func cutAll(rep *probe.Report, size, warnings, items int) {
	for _, s := range []*string{&rep.URL, &rep.Origin, &rep.Method, &rep.Node, &rep.FinalURL, &rep.Console,
		&rep.Explanation, &rep.FailedParameter} {
		*s = cutText(*s, size)
	}
	if rep.Network != nil {
		rep.Network.NetError, rep.Network.Message = cutText(rep.Network.NetError, size), cutText(rep.Network.Message, size)
	}
	rep.Warnings = firstOf(rep.Warnings, warnings)
	for i := range rep.Warnings {
		rep.Warnings[i].Message = cutText(rep.Warnings[i].Message, size)
	}
	for i := range rep.Placeholders {
		rep.Placeholders[i] = cutText(rep.Placeholders[i], size)
	}
	rep.Fixes = firstOf(rep.Fixes, items)
	for i := range rep.Fixes {
		f := &rep.Fixes[i]
		f.Node, f.Summary = cutText(f.Node, size), cutText(f.Summary, size)
		f.Commands, f.Restart, f.Notes = firstOf(f.Commands, items), firstOf(f.Restart, items), firstOf(f.Notes, items)
		for _, list := range [][]string{f.Commands, f.Restart, f.Notes} {
			for j := range list {
				list[j] = cutText(list[j], size)
			}
		}
	}
}

// firstOf is the first n items of list; all of them when n < 0.
func firstOf[T any](list []T, n int) []T {
	if n >= 0 && len(list) > n {
		return list[:n]
	}
	return list
}

// cutText cuts s to size bytes of JSON, at a character boundary, and marks the cut with "…".
// Bytes are counted as json.Marshal writes them: <, > and & take six (\u003c), so a text full
// of them is cut sooner.
func cutText(s string, size int) string {
	if len(s) <= size/6 {
		return s
	}
	n := 0
	for i, r := range s {
		n += jsonSize(r)
		if n > size-len("…") {
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
