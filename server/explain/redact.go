package explain

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/probe"
)

// Redacted replaces every secret value explain shows.
const Redacted = "REDACTED"

// secretParam says whether a query parameter carries a credential: tokens, keys, passwords,
// sessions, signatures and codes, by the names web applications give them.
var secretParam = regexp.MustCompile(`(?i)(token|key|pass|pwd|secret|session|sid|auth|sig|code|jwt|ticket|credential|assertion)`)

// urlInText finds http(s) URLs in free text (console lines, explanations, fix notes).
var urlInText = regexp.MustCompile(`https?://[^\s'"“”‘’<>]+`)

// redactURL replaces the values of secret query parameters, and any user name or password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	changed := false
	if u.User != nil {
		u.User = url.User(Redacted)
		changed = true
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			name, _, hasValue := strings.Cut(p, "=")
			if hasValue && secretParam.MatchString(name) {
				parts[i] = name + "=" + Redacted
				changed = true
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	if !changed {
		return s
	}
	return u.String()
}

// redactText redacts every URL in a text.
func redactText(s string) string {
	return urlInText.ReplaceAllStringFunc(s, redactURL)
}

// redactHeader replaces the values of Authorization, Cookie, Set-Cookie and Proxy-Authorization.
func redactHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		if slices.Contains(secretHeaders, strings.ToLower(k)) {
			vs = slices.Repeat([]string{Redacted}, len(vs))
		} else {
			vs = slices.Clone(vs)
			for i := range vs {
				vs[i] = redactText(vs[i])
			}
		}
		out[k] = vs
	}
	return out
}

// redactExchange redacts one request and its answer.
func redactExchange(s *probe.Exchange) {
	s.URL = redactURL(s.URL)
	s.Error = redactText(s.Error)
	s.Headers = redactHeader(s.Headers)
	hs := make([]cors.Header, len(s.RequestHeaders))
	for k, h := range s.RequestHeaders {
		hs[k] = h
		if slices.Contains(secretHeaders, strings.ToLower(h.Name)) {
			hs[k].Value = Redacted
		} else {
			hs[k].Value = redactText(h.Value)
		}
	}
	s.RequestHeaders = hs
}

// Redact removes every secret from a result before it is shown or stored: the values of
// Authorization, Cookie, Set-Cookie and Proxy-Authorization headers, and tokens in URLs.
func (r *Result) Redact() {
	for i := range r.Findings {
		f := &r.Findings[i]
		rep := f.Report
		rep.URL, rep.FinalURL = redactURL(rep.URL), redactURL(rep.FinalURL)
		rep.Console, rep.Explanation = redactText(rep.Console), redactText(rep.Explanation)
		rep.FailedParameter = redactText(rep.FailedParameter)
		for j := range rep.Steps {
			redactExchange(&rep.Steps[j])
		}
		// Read back from JSON, these are copies rather than pointers into Steps.
		for _, x := range []*probe.Exchange{rep.Preflight, rep.Actual} {
			if x != nil {
				redactExchange(x)
			}
		}
		if rep.Network != nil {
			n := *rep.Network
			n.Message = redactText(n.Message)
			rep.Network = &n
		}
		for j := range rep.Warnings {
			rep.Warnings[j].Message = redactText(rep.Warnings[j].Message)
		}
		for j := range rep.Fixes {
			fx := &rep.Fixes[j]
			fx.Summary = redactText(fx.Summary)
			for k := range fx.Commands {
				fx.Commands[k] = redactText(fx.Commands[k])
			}
			for k := range fx.Notes {
				fx.Notes[k] = redactText(fx.Notes[k])
			}
		}
		for j := range f.Limits {
			f.Limits[j] = redactText(f.Limits[j])
		}
		f.ProbeCommand = redactText(f.ProbeCommand)
	}
	for i := range r.Problems {
		r.Problems[i] = redactText(r.Problems[i])
	}
}
