package explain

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/shell"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/server/words"
)

// Options say what the recording does not.
type Options struct {
	// Kind chooses the fix advice for every request; "" infers it from each URL (see KindOf).
	Kind targets.Kind
	// Browser overrides the browser the recording came from ("" reads it from the recording).
	Browser cors.Browser
	// Origin is the page's origin for console text that does not name it (Firefox's never does).
	Origin string
	// Console reads the input as console text even if it looks like JSON.
	Console bool
}

// In returns the result with every finding's explanation, warnings and fixes told in l.
func (r *Result) In(l words.Lang) *Result {
	c := *r
	c.Findings = make([]Finding, len(r.Findings))
	for i, f := range r.Findings {
		f.Report = f.Report.In(l)
		c.Findings[i] = f
	}
	return &c
}

// Finding is one cross-origin request explained: the probe's report, and where the request is in
// the recording.
type Finding struct {
	*probe.Report
	// Entry is the index of the request's entry in log.entries (HAR input).
	Entry *int `json:"entry,omitempty"`
	// Line is the line of the console message (console input).
	Line            int    `json:"line,omitempty"`
	StartedDateTime string `json:"startedDateTime,omitempty"`
	// Limits say what the recording cannot tell about this request.
	Limits []string `json:"limits,omitempty"`
	// ProbeCommand is the live check that settles what the recording cannot tell.
	ProbeCommand string `json:"probeCommand,omitempty"`
}

// Result is everything explained in one recording.
type Result struct {
	Source   string       // "har" or "console"
	Browser  cors.Browser // the browser that recorded it
	Creator  string       // the HAR's creator.name
	Entries  int          // HAR entries read, or console lines read
	Findings []Finding
	// Problems are parts of the input that could not be read, each naming the entry.
	Problems []string
}

// Read explains a HAR or console text; it tells them apart by the first character (a HAR is a
// JSON object). The input may be UTF-8 (with or without a byte order mark), UTF-16 with its byte
// order mark, or either compressed with gzip (see openInput). err is set when nothing could be
// explained: empty input (ErrEmpty), binary data (ErrNotText), JSON that is not a HAR
// (ErrNotHAR), broken UTF-16. Result.Problems lists what was skipped otherwise. Every secret of
// the result is redacted (see Redact).
func Read(r io.Reader, opt Options) (*Result, error) {
	return readLimited(r, -1, opt)
}

// readLimited is Read with a limit on the decompressed size of gzip input (none when limit < 0).
func readLimited(r io.Reader, limit int64, opt Options) (*Result, error) {
	in, err := openInput(r, limit)
	if err != nil {
		return nil, err
	}
	var res *Result
	head, _ := in.Peek(512)
	head = bytes.TrimLeft(head, " \t\r\n")
	switch {
	case opt.Console:
		res, err = Console(in, opt)
	case len(head) > 0 && head[0] == '{':
		res, err = HAR(in, opt)
	case jsonArray(head):
		err = fmt.Errorf("%w (the input is a JSON array; a HAR is an object)", ErrNotHAR)
	default:
		res, err = Console(in, opt)
	}
	if in.tooLarge() {
		return nil, ErrTooLarge
	}
	if e := in.err(); e != nil {
		return nil, e
	}
	if res != nil {
		res.Redact()
	}
	return res, err
}

// jsonArray says whether text that starts with [ is a JSON array rather than a console line
// such as "[Violation] …".
func jsonArray(head []byte) bool {
	if len(head) == 0 || head[0] != '[' {
		return false
	}
	rest := bytes.TrimLeft(head[1:], " \t\r\n")
	return len(rest) > 0 && bytes.IndexByte([]byte(`{["]-0123456789`), rest[0]) >= 0
}

// HAR explains every cross-origin request of a HAR file.
func HAR(r io.Reader, opt Options) (*Result, error) {
	rec, err := readHAR(r)
	res := &Result{Source: "har", Creator: rec.Creator, Entries: len(rec.Entries)}
	for i, p := range rec.Problems {
		if i == maxProblems {
			res.Problems = append(res.Problems, fmt.Sprintf("%d more parts of the input could not be read", len(rec.Problems)-i))
			break
		}
		res.Problems = append(res.Problems, p.Error())
	}
	if err != nil {
		if errors.Is(err, ErrNotHAR) || len(rec.Entries) == 0 {
			return res, err
		}
		res.Problems = append(res.Problems, err.Error()+"; the entries before it are explained")
	}
	res.Browser = opt.Browser
	if res.Browser == "" {
		res.Browser = browserOf(rec)
	}
	j := &judge{rec: rec, opt: opt, browser: res.Browser, paired: map[int]bool{}, hop: map[int]bool{}}
	j.index()
	for i := range rec.Entries {
		if f, ok := j.explain(i); ok {
			res.Findings = append(res.Findings, f)
		}
	}
	return res, nil
}

// maxProblems bounds the problems a result names; the rest are counted.
const maxProblems = 100

// browserOf tells Chromium's exports (Chrome and Edge write creator WebInspector and mark
// preflights) from Firefox's.
func browserOf(rec *recording) cors.Browser {
	if strings.EqualFold(rec.Creator, "Firefox") {
		return cors.Firefox
	}
	return cors.Chromium
}

// judge pairs and replays the entries of one recording.
type judge struct {
	rec     *recording
	opt     Options
	browser cors.Browser
	// preflights by URL, in order; paired marks the ones given to a request.
	preflights map[string][]int
	requests   map[string][]int // non-preflight entries by URL
	paired     map[int]bool
	hop        map[int]bool // entries that are a later hop of a redirect already explained
	// pageWide is, by pageref, the origin the page's requests name most often in their Origin
	// header, else the origin of its first document.
	pageWide map[string]string
}

func (j *judge) index() {
	j.preflights, j.requests, j.pageWide = map[string][]int{}, map[string][]int{}, map[string]string{}
	counts := map[string]map[string]int{}
	documents := map[string]string{}
	for i, e := range j.rec.Entries {
		if j.isPreflight(e) {
			j.preflights[e.URL] = append(j.preflights[e.URL], i)
		} else {
			j.requests[e.URL] = append(j.requests[e.URL], i)
		}
		if o, err := cors.ParseOrigin(e.RequestHeaders.Get("Origin")); err == nil && o != cors.NullOrigin {
			if counts[e.Pageref] == nil {
				counts[e.Pageref] = map[string]int{}
			}
			counts[e.Pageref][o]++
		}
		if _, ok := documents[e.Pageref]; !ok && e.ResourceType == "document" {
			if u, err := url.Parse(e.URL); err == nil && cors.ValidateURL(u) == nil {
				documents[e.Pageref], _ = cors.SerializeOrigin(u)
			}
		}
	}
	for page, o := range documents {
		j.pageWide[page] = o
	}
	for page, byOrigin := range counts {
		best := ""
		for o, n := range byOrigin {
			if best == "" || n > byOrigin[best] || n == byOrigin[best] && o < best {
				best = o
			}
		}
		j.pageWide[page] = best
	}
}

func (j *judge) isPreflight(e entry) bool {
	return e.Preflight || (e.Method == "OPTIONS" && e.RequestHeaders.Get("Access-Control-Request-Method") != "")
}

// pageOrigin is the origin of the page that sent e: its Origin header, else the page's URL
// (Chromium's page title), else its Referer.
func (j *judge) pageOrigin(e entry) string {
	if o := e.RequestHeaders.Get("Origin"); o != "" && o != cors.NullOrigin {
		if s, err := cors.ParseOrigin(o); err == nil {
			return s
		}
	}
	if j.opt.Origin != "" {
		return j.opt.Origin
	}
	for _, s := range []string{j.rec.Pages[e.Pageref], e.RequestHeaders.Get("Referer")} {
		if u, err := url.Parse(s); err == nil && cors.ValidateURL(u) == nil {
			if o, err := cors.SerializeOrigin(u); err == nil {
				return o
			}
		}
	}
	return ""
}

// crossOriginRequest says whether e is a request the page made with CORS: Chromium says so by the
// resource type, Firefox by the Origin header it recorded; a paired preflight says so for both.
func (j *judge) corsRequest(e entry) bool {
	switch e.ResourceType {
	case "fetch", "xhr", "font":
		return true
	case "":
	default:
		return false
	}
	return e.RequestHeaders.Get("Origin") != "" || len(j.preflights[e.URL]) > 0
}

// explain judges one entry; ok is false for entries that are not cross-origin requests of the
// page (same-origin, navigations, preflights, later redirect hops).
func (j *judge) explain(pos int) (Finding, bool) {
	e := &j.rec.Entries[pos]
	if j.isPreflight(*e) || j.hop[pos] || !j.corsRequest(*e) {
		return Finding{}, false
	}
	u, err := url.Parse(e.URL)
	if err != nil || cors.ValidateURL(u) != nil {
		return Finding{}, false
	}
	origin := j.pageOrigin(*e)
	if pf := j.bestPreflight(u.String(), e.Method, e.StartedDateTime, false); origin == "" && pf >= 0 {
		origin, _ = cors.ParseOrigin(j.rec.Entries[pf].RequestHeaders.Get("Origin"))
	}
	guessed := false
	if origin == "" {
		// A failed request's entry holds no Origin (Chromium records only provisional
		// headers), and a HAR cut short may lack the page list: the page's other requests
		// say where it was.
		origin, guessed = j.pageWide[e.Pageref], true
	}
	if origin == "" || cors.IsSameOrigin(u, origin) {
		return Finding{}, false
	}
	method, err := cors.NormalizeMethod(e.Method)
	if err != nil {
		return Finding{}, false
	}
	req := cors.Request{URL: u, Origin: origin, Method: method, Browser: j.browser}
	if pf := j.bestPreflight(e.URL, method, e.StartedDateTime, false); pf >= 0 {
		req.Header = requestHeaders(j.rec.Entries[pf], *e)
	}
	kind := j.opt.Kind
	if kind == "" {
		kind = KindOf(u)
	}
	f := Finding{StartedDateTime: e.StartedDateTime}
	idx := e.Index
	f.Entry = &idx
	if guessed {
		f.Limits = append(f.Limits, "The HAR does not record the origin of the page that sent this request; it is taken from the page's other requests ("+origin+").")
	}

	cookies := e.RequestHeaders.Get("Cookie") != ""
	withCred, withUsed, withGap := j.replay(req, cors.Include, kind, pos)
	if cookies {
		f.Report = withCred
		j.markHops(withUsed)
	} else {
		without, withoutUsed, withoutGap := j.replay(req, cors.SameOrigin, kind, pos)
		recorded := j.recordedVerdict(*e)
		switch {
		case sameAnswer(withCred, without):
			f.Report, withGap = withCred, withGap || withoutGap
		case recorded != "" && withCred.Verdict == recorded && without.Verdict != recorded:
			f.Report = withCred
		case recorded != "" && without.Verdict == recorded && withCred.Verdict != recorded:
			f.Report, withGap = without, withoutGap
		default:
			f.Report = withCred
			f.Limits = append(f.Limits, fmt.Sprintf("The HAR does not record the credentials mode: with credentials (cookies, credentials: 'include') the answer is %s; without, %s. Run the probe with the gadget's mode to settle it.",
				describe(withCred), describe(without)))
		}
		j.markHops(withUsed)
		j.markHops(withoutUsed)
	}
	if withGap {
		f.Limits = append(f.Limits, j.gapLimit(*e))
		// The replay stopped at an answer the HAR lacks: where the browser recorded its own
		// verdict, that verdict stands, its reason unnamed.
		if rv := j.recordedVerdict(*e); (rv == cors.Blocked || rv == cors.Allowed) && f.Report.Network != nil && f.Report.Network.Class == probe.NoAnswer {
			f.Report = f.Report.Recorded(rv)
		}
	}
	if j.recordedVerdict(*e) != "" && j.recordedVerdict(*e) != f.Report.Verdict && !withGap {
		f.Limits = append(f.Limits, fmt.Sprintf("The browser recorded this request as %s, but its recorded answers replay as %s: the preflight may have come from the browser's cache, or the credentials mode differs.",
			j.recordedVerdict(*e), f.Report.Verdict))
	}
	if len(f.Limits) > 0 || f.Report.Verdict == cors.Unreachable {
		f.ProbeCommand = ProbeCommand(req, kind)
	}
	return f, true
}

func sameAnswer(a, b *probe.Report) bool {
	return a.Verdict == b.Verdict && a.CorsError == b.CorsError && a.FailedParameter == b.FailedParameter
}

func describe(r *probe.Report) string {
	if r.Verdict == cors.Blocked && r.CorsError != "" {
		return "blocked (" + string(r.CorsError) + ")"
	}
	return string(r.Verdict)
}

// recordedVerdict is what the browser itself said, where the HAR shows it: Chromium marks a
// failed request with status 0 or _error; Firefox's successes and actual-response blocks look
// alike, so only its status 0 says anything.
func (j *judge) recordedVerdict(e entry) cors.Verdict {
	switch {
	case e.Error == "net::ERR_FAILED":
		return cors.Blocked
	case e.Error != "" && e.Error != "net::ERR_ABORTED":
		return cors.Unreachable
	case j.browser == cors.Chromium && e.Status > 0:
		return cors.Allowed
	}
	return ""
}

// notRecorded is what the replay answers for a request whose answer the HAR does not hold.
func notRecorded(what string) error {
	return &probe.NoAnswerError{Detail: what + " is not in the HAR"}
}

// replay runs the request through the engine with recorded answers. used lists the entries the
// replay read; gap is set when an answer the engine needed was not recorded.
// first is the position of the request's entry.
func (j *judge) replay(req cors.Request, cred cors.Credentials, kind targets.Kind, first int) (rep *probe.Report, used []int, gap bool) {
	req.Credentials = cred
	after := first
	started := j.rec.Entries[first].StartedDateTime
	rep = probe.Replay(req, kind, func(o cors.Outgoing) (*cors.Response, error) {
		var i int
		if o.Kind == cors.PreflightStep {
			i = j.bestPreflight(o.URL.String(), headerValue(o.Header, "Access-Control-Request-Method"), started, false)
			if i < 0 {
				gap = true
				return nil, notRecorded("the preflight (OPTIONS " + o.URL.String() + ")")
			}
		} else {
			i = j.requestAt(o.URL.String(), o.Method, first, after)
			if i < 0 {
				gap = true
				return nil, notRecorded("the response of " + o.Method + " " + o.URL.String())
			}
			after = i
		}
		used = append(used, i)
		e := j.rec.Entries[i]
		if e.Status == 0 {
			if e.Error != "" && e.Error != "net::ERR_FAILED" && e.Error != "net::ERR_ABORTED" {
				return nil, &cors.NetError{Code: e.Error, Detail: "the browser recorded " + e.Error}
			}
			gap = true
			return nil, notRecorded("the response of " + o.Method + " " + o.URL.String() + " (status 0)")
		}
		return &cors.Response{Status: e.Status, Header: e.ResponseHeaders}, nil
	})
	return rep, used, gap
}

// requestAt finds the entry answering a request: the request itself first, then the next entry
// for that URL and method after the previous hop (positions in the recording, not HAR indexes).
func (j *judge) requestAt(u, method string, first, after int) int {
	if j.rec.Entries[first].URL == u && after == first && !j.hop[first] {
		return first
	}
	for _, i := range j.requests[u] {
		if i > after && strings.EqualFold(j.rec.Entries[i].Method, method) {
			return i
		}
	}
	return -1
}

// markHops records the entries a request's replay read: its preflights are paired, and the
// entries of its later redirect hops are not requests of their own.
func (j *judge) markHops(used []int) {
	for k, i := range used {
		switch {
		case j.isPreflight(j.rec.Entries[i]):
			j.paired[i] = true
		case k > 0:
			j.hop[i] = true
		}
	}
}

// bestPreflight is the preflight for url and method closest in time to the request (Chromium
// lists it after the request; Firefox before). take marks it as used.
func (j *judge) bestPreflight(u, method, started string, take bool) int {
	t0, _ := time.Parse(time.RFC3339Nano, started)
	best, bestGap := -1, math.Inf(1)
	for _, i := range j.preflights[u] {
		e := j.rec.Entries[i]
		if j.paired[i] || (method != "" && e.RequestHeaders.Get("Access-Control-Request-Method") != method) {
			continue
		}
		t, _ := time.Parse(time.RFC3339Nano, e.StartedDateTime)
		if gap := math.Abs(t.Sub(t0).Seconds()); gap < bestGap {
			best, bestGap = i, gap
		}
	}
	if take && best >= 0 {
		j.paired[best] = true
	}
	return best
}

// requestHeaders are the headers the page set, as the preflight names them
// (Access-Control-Request-Headers) with the values the request carried where it recorded them.
func requestHeaders(pf, req entry) []cors.Header {
	var out []cors.Header
	for _, n := range strings.Split(pf.RequestHeaders.Get("Access-Control-Request-Headers"), ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		v := req.RequestHeaders.Get(n)
		if v == "" {
			v = "1" // a sanitized or provisional entry: only the name matters for CORS
		}
		out = append(out, cors.Header{Name: n, Value: v})
	}
	return out
}

func headerValue(h []cors.Header, name string) string {
	for _, x := range h {
		if strings.EqualFold(x.Name, name) {
			return x.Value
		}
	}
	return ""
}

// gapLimit says what is missing and why; the verdict says the same (see Report.Recorded).
func (j *judge) gapLimit(e entry) string {
	switch {
	case e.Status == 0 && j.browser == cors.Chromium && e.Error == "net::ERR_FAILED":
		return "Chromium blocked this request (status 0, net::ERR_FAILED), but the HAR holds no answer to judge (the preflight came from the browser's cache, or the export left it out), so the reason cannot be named from it. Run the probe command, or ask for a HAR recorded with Disable cache ticked."
	case e.Status == 0 && j.browser == cors.Firefox:
		causes := "a name that does not resolve, a refused or closed connection, a certificate it does not trust and a timeout look alike in its HAR"
		if len(j.preflights[e.URL]) == 0 {
			causes = "a name that does not resolve, a refused or closed connection, a certificate it does not trust, a timeout, and a refused preflight the export left out look alike in its HAR"
		}
		return "Firefox records no reason when no answer arrives (status 0, no error field): " + causes + ". The probe command tells which."
	}
	return "An answer the replay needs is not in the HAR (a preflight answered from the browser's cache, or a filtered export), so the verdict is the one the browser recorded, where it recorded one."
}

// KindOf infers the target kind from a URL: CUIC on 8444 (or 443 under /cuic/), Live Data on
// 12005 and 12008, Finesse on 8445, custom otherwise.
func KindOf(u *url.URL) targets.Kind {
	port := u.Port()
	if port == "" && u.Scheme == "https" {
		port = "443"
	}
	switch {
	case port == "8444", port == "443" && strings.HasPrefix(u.Path, "/cuic/"):
		return targets.CUIC
	case port == "12005", port == "12008":
		return targets.LiveData
	case port == "8445":
		return targets.Finesse
	}
	return targets.Custom
}

// ProbeCommand is the `corscheck probe` command line that checks req live.
func ProbeCommand(req cors.Request, kind targets.Kind) string {
	args := []string{"corscheck", "probe", "--origin", shell.Quote(req.Origin)}
	if req.Method != "GET" {
		args = append(args, "--method", shell.Quote(req.Method))
	}
	for _, h := range req.Header {
		args = append(args, "-H", shell.Quote(h.Name+": "+redactHeaderValue(h.Name, h.Value)))
	}
	cred := req.Credentials
	if cred == "" || cred == cors.SameOrigin {
		cred = cors.Include // what Finesse gadgets send; the HAR does not say
	}
	args = append(args, "--credentials", string(cred), "--kind", string(kind))
	if req.Browser == cors.Firefox {
		args = append(args, "--browser", "firefox")
	}
	return strings.Join(append(args, shell.Quote(redactURL(req.URL.String()))), " ")
}

// Complete says whether the whole input was read. When it was not, the findings are those of
// what could be read, and a request in the unread part is not among them.
func (r *Result) Complete() bool { return len(r.Problems) == 0 }

// ExitCode is the CLI's exit code for the findings: 2 when part of the input could not be read
// (whatever the findings of the rest: a request in the unread part may be blocked), else 1 when
// something is blocked, else 3 when something is unreachable, else 0.
func (r *Result) ExitCode() int {
	if !r.Complete() {
		return probe.ExitUsage
	}
	code := probe.ExitAllowed
	for _, f := range r.Findings {
		switch f.Verdict {
		case cors.Blocked:
			return probe.ExitBlocked
		case cors.Unreachable:
			code = probe.ExitUnreachable
		}
	}
	return code
}

// DefaultLimit is the largest recording the service reads unless configured otherwise.
const DefaultLimit = 50 << 20

// ErrTooLarge is input beyond the limit given to ReadAtMost.
var ErrTooLarge = errors.New("the recording is larger than the limit")

// ReadAtMost is Read for input from others (an upload): it reads at most limit bytes, and
// decompresses at most limit bytes, failing with ErrTooLarge beyond either.
func ReadAtMost(r io.Reader, limit int64, opt Options) (*Result, error) {
	lr := &limitedReader{r: r, left: limit}
	res, err := readLimited(lr, limit, opt)
	if lr.over {
		return nil, ErrTooLarge
	}
	return res, err
}

// limitedReader fails once more than left bytes are asked of it, and remembers that it did.
type limitedReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One more byte tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.over = true
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// JSON is the findings as `corscheck explain --json` prints them: an array, never null.
func (r *Result) JSON() []Finding {
	if r.Findings == nil {
		return []Finding{}
	}
	return r.Findings
}
