package cors

import (
	"net/url"
	"slices"
	"strings"
)

// Verdict is the answer to "can the page read this response?".
type Verdict string

// The verdicts. Unreachable is never a CORS failure: the request did not get an HTTP answer.
const (
	Allowed     Verdict = "allowed"
	Blocked     Verdict = "blocked"
	Unreachable Verdict = "unreachable"
)

// StepKind tells a preflight from the request the page asked for.
type StepKind string

// The kinds of step.
const (
	PreflightStep StepKind = "preflight"
	ActualStep    StepKind = "actual"
)

// Outgoing is one HTTP request the browser sends.
type Outgoing struct {
	Kind   StepKind
	Method string
	URL    *url.URL
	Header []Header
	// WithCredentials tells whether the browser would attach cookies and HTTP authentication.
	WithCredentials bool
}

// Step is one request and what came back: a response, or a network error.
type Step struct {
	Request  Outgoing
	Response *Response
	Err      error
}

// RoundTrip sends one request without following redirects and returns the response, or an error
// when no HTTP response arrived.
type RoundTrip func(Outgoing) (*Response, error)

// Outcome is the result of Fetch: every step taken and, when the page could not read the
// response, why.
type Outcome struct {
	Steps      []Step
	Failure    *Failure // set when blocked by CORS
	NetErr     error    // set when a request got no HTTP response
	InitialURL string
	FinalURL   string
	Warnings   []Warning
}

// Verdict of the outcome.
func (o *Outcome) Verdict() Verdict {
	switch {
	case o.Failure != nil:
		return Blocked
	case o.NetErr != nil:
		return Unreachable
	}
	return Allowed
}

// Preflighted reports whether any preflight was sent.
func (o *Outcome) Preflighted() bool {
	for _, s := range o.Steps {
		if s.Request.Kind == PreflightStep {
			return true
		}
	}
	return false
}

// maxRedirects is the browser's redirect limit.
const maxRedirects = 20

// NetError is a request that failed without a response the page could be judged on, named as
// Chromium's network stack names it (net::ERR_…): what DevTools shows and what
// Network.loadingFailed carries in errorText. An empty Code means Chromium blocked the request
// before sending it and reports only a blocked reason (mixed content).
type NetError struct {
	Code   string
	Detail string
}

func (e *NetError) Error() string {
	if e.Code == "" {
		return e.Detail
	}
	return e.Detail + " (" + e.Code + ")"
}

// The network errors Fetch returns. Which redirect targets are which was observed in Chromium 156
// (the conformance suite in the probe package).
var (
	ErrTooManyRedirects = &NetError{"net::ERR_TOO_MANY_REDIRECTS", "more than 20 redirects"}
	// ErrUnsafeRedirect: a redirect to data:, file:, about:, blob:, filesystem: or a browser
	// scheme (chrome:, chrome-extension:), which the network stack refuses to follow.
	ErrUnsafeRedirect = &NetError{"net::ERR_UNSAFE_REDIRECT", "redirect to a URL the browser never follows (data:, file:, about:, blob:, …)"}
	// ErrAbortedRedirect: a redirect to view-source:, which the browser cancels.
	ErrAbortedRedirect = &NetError{"net::ERR_ABORTED", "redirect to a view-source: URL, which the browser cancels"}
	// ErrInvalidRedirect: a Location that is not a valid URL (no host, a port above 65535, a
	// broken IPv6 address).
	ErrInvalidRedirect = &NetError{"net::ERR_INVALID_REDIRECT", "the redirect's Location is not a valid URL"}
	// ErrMixedContent: an https page fetching http:// from a host that is not potentially
	// trustworthy; blocked before it is sent. Chromium reports no net error, only the blocked
	// reason mixed-content.
	ErrMixedContent = &NetError{"", "blocked as mixed content: an https page cannot fetch an http:// URL"}
	// ErrMixedContentRedirect: the same, on a redirect hop; the browser cancels the redirect.
	ErrMixedContentRedirect = &NetError{"net::ERR_ABORTED", "blocked as mixed content: a redirect from an https page's request led to an http:// URL"}
)

// Schemes of redirect targets other than http and https: the network stack refuses some outright;
// the others fail the CORS scheme check (CorsDisabledScheme), javascript: and ftp: included.
var (
	unsafeRedirectSchemes  = []string{"data", "file", "about", "blob", "filesystem", "chrome", "chrome-extension", "chrome-untrusted", "devtools"}
	abortedRedirectSchemes = []string{"view-source"}
)

// Fetch runs fetch(req) as Chromium does with mode "cors": preflight when needed, the request,
// the CORS check on every response, and redirects, tainting the origin after a cross-origin hop.
// rt performs each HTTP exchange; Fetch itself does no I/O.
func Fetch(req Request, rt RoundTrip) Outcome {
	out := Outcome{InitialURL: req.URL.String()}
	b := req.Browser
	checkAccess, checkPreflight := CheckAccess, CheckPreflight
	if b == Firefox {
		checkAccess, checkPreflight = firefoxCheckAccess, firefoxCheckPreflight
	}
	// Firefox preflights every hop of a redirected request once one hop needed a preflight.
	forcePreflight := false
	u := req.URL
	method := req.Method
	header := req.Header
	tainted := false
	for hop := 0; ; hop++ {
		out.FinalURL = u.String()
		if hop > maxRedirects {
			out.NetErr = ErrTooManyRedirects
			return out
		}
		if MixedContent(req.Origin, u) {
			out.NetErr = ErrMixedContent
			if hop > 0 {
				out.NetErr = ErrMixedContentRedirect
			}
			return out
		}
		origin := req.Origin
		if tainted {
			origin = NullOrigin
		}
		corsFlag := tainted || !IsSameOrigin(u, req.Origin)
		if corsFlag && (forcePreflight || b.NeedsPreflight(method, header)) {
			forcePreflight = b == Firefox
			pfOrigin := origin
			if b == Firefox {
				// Firefox's preflight keeps the page's origin after a cross-origin redirect;
				// only the request itself then says Origin: null (observed in ESR 153).
				pfOrigin = req.Origin
			}
			pf := Outgoing{Kind: PreflightStep, Method: "OPTIONS", URL: u, Header: b.PreflightHeader(method, header, pfOrigin)}
			resp, err := rt(pf)
			out.Steps = append(out.Steps, Step{Request: pf, Response: resp, Err: err})
			if err != nil {
				out.NetErr = err
				return out
			}
			// The network stack reads a redirect's Location before CORS sees the preflight.
			if _, err := resp.Location(u); err != nil {
				out.NetErr = err
				return out
			}
			if b == Firefox {
				if err := firefoxPreflightRedirect(resp, u, pfOrigin, req.Credentials); err != nil {
					out.NetErr = err
					return out
				}
			}
			f, warns := checkPreflight(resp, pfOrigin, method, header, req.Credentials)
			out.Warnings = append(out.Warnings, warns...)
			if f != nil {
				out.Failure = f
				return out
			}
		}
		act := Outgoing{Kind: ActualStep, Method: method, URL: u, Header: actualHeader(header, origin, method, corsFlag),
			WithCredentials: req.Credentials == Include || (req.Credentials == SameOrigin && !corsFlag)}
		resp, err := rt(act)
		out.Steps = append(out.Steps, Step{Request: act, Response: resp, Err: err})
		if err != nil {
			out.NetErr = err
			return out
		}
		if corsFlag {
			if f := checkAccess(resp, origin, req.Credentials); f != nil {
				out.Failure = f
				return out
			}
		}
		if b == Firefox && firefoxEmptyLocation(resp) {
			out.NetErr = ErrFirefoxEmptyLocation
			return out
		}
		next, err := resp.Location(u)
		if err != nil {
			out.NetErr = err
			return out
		}
		if next == nil {
			return out
		}
		if b == Firefox && next.Scheme != "http" && next.Scheme != "https" {
			err, f := firefoxRedirectScheme(u, next, resp.Status)
			out.NetErr, out.Failure = err, f
			if f != nil {
				out.FinalURL = next.String()
			}
			return out
		}
		switch {
		case slices.Contains(unsafeRedirectSchemes, next.Scheme):
			out.NetErr = ErrUnsafeRedirect
			return out
		case slices.Contains(abortedRedirectSchemes, next.Scheme):
			out.NetErr = ErrAbortedRedirect
			return out
		case next.Scheme != "http" && next.Scheme != "https":
			out.FinalURL = next.String()
			out.Failure = &Failure{Reason: CorsDisabledScheme}
			if req.Browser == Firefox {
				out.Failure = &Failure{Reason: CORSRequestNotHttp, Status: resp.Status}
			}
			return out
		}
		if next.User != nil && (tainted || !IsSameOrigin(next, req.Origin)) && b == Firefox {
			out.NetErr = ErrFirefoxRedirectCredentials
			return out
		}
		if next.User != nil && (tainted || !IsSameOrigin(next, req.Origin)) {
			// Chromium leaves failedParameter empty here (checked in the conformance suite).
			out.Failure = &Failure{Reason: RedirectContainsCredentials}
			return out
		}
		crossHop := !sameOriginURL(next, u)
		if crossHop && !IsSameOrigin(u, req.Origin) {
			tainted = true
		}
		method, header = redirectMethod(resp.Status, method, header)
		if crossHop {
			header = without(header, "authorization")
		}
		u = next
	}
}

// actualHeader is what the page's request carries: its own headers and, for a CORS request or a
// method other than GET and HEAD, the Origin header.
func actualHeader(h []Header, origin, method string, corsFlag bool) []Header {
	out := append([]Header(nil), h...)
	if corsFlag || (method != "GET" && method != "HEAD") {
		out = append(out, Header{"Origin", origin})
	}
	return append(out, Header{"Sec-Fetch-Mode", "cors"})
}

// redirectMethod applies the Fetch standard's method change: 301/302 turn POST into GET, 303
// turns anything but GET and HEAD into GET; the body and its headers are dropped then.
func redirectMethod(status int, method string, h []Header) (string, []Header) {
	if ((status == 301 || status == 302) && method == "POST") || (status == 303 && method != "GET" && method != "HEAD") {
		for _, n := range []string{"content-type", "content-encoding", "content-language", "content-location"} {
			h = without(h, n)
		}
		return "GET", h
	}
	return method, h
}

func without(h []Header, lowerName string) []Header {
	var out []Header
	for _, x := range h {
		if strings.ToLower(x.Name) != lowerName {
			out = append(out, x)
		}
	}
	return out
}

func sameOriginURL(a, b *url.URL) bool {
	oa, err1 := SerializeOrigin(a)
	ob, err2 := SerializeOrigin(b)
	return err1 == nil && err2 == nil && oa == ob
}
