package cors

import (
	"net/http"
	"net/url"
	"testing"
)

// BenchmarkEvaluate measures whole evaluations (preflight check, actual check, console line) of
// the field case's credentialed, preflighted request, and reports evaluations per second.
func BenchmarkEvaluate(b *testing.B) {
	u, _ := url.Parse("https://cuicpub.example:8444/cuic/rest/status/")
	origin := "https://finessep.example:8445"
	req := Request{URL: u, Origin: origin, Method: "GET", Credentials: Include,
		Header: []Header{{"Authorization", "Basic eDp5"}, {"locale", "en_US"}, {"peripheralid", "5000"}}}
	pre := &Response{Status: 200, Header: http.Header{
		"Access-Control-Allow-Origin":      {origin},
		"Access-Control-Allow-Credentials": {"true"},
		"Access-Control-Allow-Methods":     {"GET,POST,PUT,DELETE,OPTIONS,HEAD"},
		"Access-Control-Allow-Headers":     {"referer,peripheralid,origin,locale,accept,authorization,domain,x-requested-with,content-type"},
	}}
	act := &Response{Status: 200, Header: http.Header{
		"Access-Control-Allow-Origin": {origin}, "Access-Control-Allow-Credentials": {"true"}, "Vary": {"Origin"},
	}}
	blocked := &Response{Status: 403, Header: http.Header{}}
	for _, bc := range []struct {
		name string
		rt   RoundTrip
	}{
		{"allowed", func(o Outgoing) (*Response, error) {
			if o.Kind == PreflightStep {
				return pre, nil
			}
			return act, nil
		}},
		{"blocked", func(Outgoing) (*Response, error) { return blocked, nil }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out := Fetch(req, bc.rt)
				if out.Failure != nil {
					_ = ConsoleLine(*out.Failure, out.InitialURL, out.FinalURL, origin)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evaluations/s")
		})
	}
}
