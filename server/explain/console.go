package explain

import (
	"bufio"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/words"
)

// errNoAnswer is a request that got no answer, for which the console does not say why.
var errNoAnswer = &probe.NoAnswerError{Detail: "no answer (the console does not say why)"}

// maxConsoleLine bounds one line of pasted console text.
const maxConsoleLine = 1 << 20

var (
	// Chromium prints a failed request's network line beside the CORS line:
	// "GET https://… net::ERR_FAILED 403 (Forbidden)"; other net errors mean no answer.
	chromiumNetLine = regexp.MustCompile(`\b(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS)\s+(https?://\S+)\s+(net::ERR_[A-Z0-9_]+)`)
	chromiumMixed   = regexp.MustCompile(`Mixed Content: The page at '([^']*)' was loaded over HTTPS, but requested an insecure resource '([^']*)'`)
	firefoxMixed    = regexp.MustCompile(`Blocked loading mixed active content “([^”]*)”`)
)

// Console explains console text pasted from Chromium's or Firefox's DevTools: every CORS message
// among any other lines, each with its reason and fix. Network lines of the same URL add nothing;
// network errors without a CORS line are reported as unreachable.
func Console(r io.Reader, opt Options) (*Result, error) {
	res := &Result{Source: "console", Browser: opt.Browser}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxConsoleLine)
	type netLine struct {
		line      int
		url, code string
	}
	var nets []netLine
	blockedURLs := map[string]bool{}
	n, blank := 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			blank++
			continue
		}
		if f, ok := consoleFinding(line, n, opt); ok {
			res.Findings = append(res.Findings, f)
			blockedURLs[f.URL] = true // redacted, as the network lines' URLs are compared
			if f.Browser == cors.Firefox {
				res.Browser = cors.Firefox
			} else if res.Browser == "" {
				res.Browser = cors.Chromium
			}
			continue
		}
		if m := chromiumNetLine.FindStringSubmatch(line); m != nil && m[3] != "net::ERR_FAILED" && m[3] != "net::ERR_ABORTED" {
			nets = append(nets, netLine{n, m[2], m[3]})
		}
	}
	res.Entries = n
	if err := sc.Err(); err != nil {
		res.Problems = append(res.Problems, "line "+strconv.Itoa(n+1)+": "+err.Error())
	} else if n == blank {
		return nil, ErrEmpty
	}
	for _, nl := range nets {
		if blockedURLs[redactURL(nl.url)] {
			continue
		}
		u, err := url.Parse(redactURL(nl.url))
		if err != nil {
			continue
		}
		f := unreachableFinding(u, opt, nl.line, &cors.NetError{Code: nl.code, Detail: "the console shows " + nl.code}, cors.Chromium)
		res.Findings = append(res.Findings, f)
	}
	if res.Browser == "" {
		res.Browser = cors.Chromium
	}
	return res, nil
}

// consoleFinding reads one console line: a CORS message of either browser, a Firefox "did not
// succeed" (no answer), or a mixed-content block.
func consoleFinding(line string, n int, opt Options) (Finding, bool) {
	if f, u, initial, origin, ok := cors.ParseChromiumConsole(line); ok {
		pu, err := url.Parse(redactURL(u))
		if err != nil {
			return Finding{}, false
		}
		text := redactLine(strings.TrimSpace(line[strings.Index(line, "Access to "):]), u, initial)
		return blockedFinding(pu, redactURL(initial), origin, f, cors.Chromium, text, n, opt), true
	}
	if f, u, ok := cors.ParseFirefoxConsole(line); ok {
		pu, err := url.Parse(redactURL(u))
		if err != nil {
			return Finding{}, false
		}
		if f.Reason == cors.CORSDidNotSucceed {
			return unreachableFinding(pu, opt, n, errNoAnswer, cors.Firefox), true
		}
		text := redactLine(strings.TrimSpace(line[strings.Index(line, "Cross-Origin Request Blocked"):]), u)
		return blockedFinding(pu, redactURL(u), opt.Origin, f, cors.Firefox, text, n, opt), true
	}
	if m := chromiumMixed.FindStringSubmatch(line); m != nil {
		if u, err := url.Parse(redactURL(m[2])); err == nil {
			o, _ := cors.ParseOrigin(m[1])
			opt.Origin = o
			return unreachableFinding(u, opt, n, cors.ErrMixedContent, cors.Chromium), true
		}
	}
	if m := firefoxMixed.FindStringSubmatch(line); m != nil {
		if u, err := url.Parse(redactURL(m[1])); err == nil {
			return unreachableFinding(u, opt, n, cors.ErrMixedContent, cors.Firefox), true
		}
	}
	return Finding{}, false
}

// redactLine is a console line with its URLs, as the line's parser read them, redacted, so
// that a URL holding quotes or brackets is redacted whole; then the line as text.
func redactLine(line string, urls ...string) string {
	for _, u := range urls {
		if r := redactURL(u); r != u {
			line = strings.ReplaceAll(line, u, r)
		}
	}
	return redactText(line)
}

func blockedFinding(u *url.URL, initialURL, origin string, f cors.Failure, b cors.Browser, line string, n int, opt Options) Finding {
	kind := opt.Kind
	if kind == "" {
		kind = KindOf(u)
	}
	rep := &probe.Report{
		URL: initialURL, FinalURL: u.String(), Origin: origin, Kind: kind, Node: u.Hostname(),
		Verdict: cors.Blocked, CorsError: f.Reason, FailedParameter: f.FailedParameter,
		Console: line, Explanation: cors.Explain(f, words.English), Steps: []probe.Exchange{}, Warnings: []cors.Warning{},
	}
	if b == cors.Firefox {
		rep.Browser = cors.Firefox
	}
	rep.SetProblem(fix.Problem{Kind: kind, URL: u, Origin: originOrPlaceholder(origin), Reason: f.ChromiumName(), FailedParameter: f.FailedParameter})
	fd := Finding{Report: rep, Line: n}
	var limits []string
	if origin == "" {
		limits = append(limits, "Firefox's console does not name the page's origin: give it with --origin (the Finesse desktop's origin) for exact commands.")
	}
	limits = append(limits, "A console line names the reason but not the request's headers or credentials mode; the probe command checks the node live.")
	fd.Limits = limits
	req := cors.Request{URL: u, Origin: originOrPlaceholder(origin), Method: "GET", Browser: b}
	fd.ProbeCommand = ProbeCommand(req, kind)
	return fd
}

func unreachableFinding(u *url.URL, opt Options, n int, err error, b cors.Browser) Finding {
	kind := opt.Kind
	if kind == "" {
		kind = KindOf(u)
	}
	req := cors.Request{URL: u, Origin: originOrPlaceholder(opt.Origin), Method: "GET", Browser: b}
	rep := probe.Replay(req, kind, func(cors.Outgoing) (*cors.Response, error) { return nil, err })
	if err == cors.ErrMixedContent {
		rep.Verdict = cors.Unreachable
	}
	return Finding{Report: rep, Line: n, ProbeCommand: ProbeCommand(req, kind),
		Limits: []string{"The console shows that no answer arrived, not why; the probe command checks the node live."}}
}

// originOrPlaceholder stands in for an origin the console did not name.
func originOrPlaceholder(o string) string {
	if o == "" {
		return "https://FINESSE-HOST:8445"
	}
	return o
}
