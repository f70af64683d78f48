package cors

import (
	"errors"
	"fmt"
	"net/url"
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

// ErrTooManyRedirects is the network error after more than 20 redirects.
var ErrTooManyRedirects = errors.New("too many redirects (ERR_TOO_MANY_REDIRECTS)")

// ErrUnsafeRedirect is the network error of a redirect to a scheme fetch() cannot follow
// (data:, ftp:, javascript:, …); Chromium reports net::ERR_UNSAFE_REDIRECT, not a CORS error.
var ErrUnsafeRedirect = errors.New("redirect to a scheme that cannot be fetched (ERR_UNSAFE_REDIRECT)")

// Fetch runs fetch(req) as Chromium does with mode "cors": preflight when needed, the request,
// the CORS check on every response, and redirects, tainting the origin after a cross-origin hop.
// rt performs each HTTP exchange; Fetch itself does no I/O.
func Fetch(req Request, rt RoundTrip) Outcome {
	out := Outcome{InitialURL: req.URL.String()}
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
		origin := req.Origin
		if tainted {
			origin = NullOrigin
		}
		corsFlag := tainted || !IsSameOrigin(u, req.Origin)
		if corsFlag && NeedsPreflight(method, header) {
			pf := Outgoing{Kind: PreflightStep, Method: "OPTIONS", URL: u, Header: PreflightHeader(method, header, origin)}
			resp, err := rt(pf)
			out.Steps = append(out.Steps, Step{Request: pf, Response: resp, Err: err})
			if err != nil {
				out.NetErr = err
				return out
			}
			f, warns := CheckPreflight(resp, origin, method, header, req.Credentials)
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
			if f := CheckAccess(resp, origin, req.Credentials); f != nil {
				out.Failure = f
				return out
			}
		}
		next, err := resp.Location(u)
		if err != nil {
			out.NetErr = fmt.Errorf("invalid redirect location: %w", err)
			return out
		}
		if next == nil {
			return out
		}
		if next.Scheme != "http" && next.Scheme != "https" {
			out.NetErr = ErrUnsafeRedirect
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
