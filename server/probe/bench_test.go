package probe

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// publisher answers like the CUIC publisher of the field case, after delay (the time a node
// across the network takes to answer; zero on loopback).
func publisher(delay time.Duration) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			time.Sleep(delay)
		}
		h := w.Header()
		if o := r.Header.Get("Origin"); o == "https://finessep.example:8445" {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET,POST,PUT,DELETE,OPTIONS,HEAD")
			h.Set("Access-Control-Allow-Headers", "authorization,locale,peripheralid")
			w.WriteHeader(http.StatusOK)
			return
		}
		io.WriteString(w, `{"status":"ok"}`)
	}))
}

// BenchmarkProbeCost compares a probe with the bare HTTP round trips it cannot avoid, measured in
// the same run, and reports the ratios:
//   - probe/raw: against the preflight and the request, one after the other;
//   - probe/bare-same: against the same three exchanges the probe makes, done with a bare client:
//     the preflight and the foreign-origin preflight at once, then the request.
//
// The default mode sends the foreign-origin question; no-extra-checks leaves it out. On loopback
// the server answers at once, so the figures weigh the CPU of both ends on the same two cores;
// "lan" puts the node 1 ms away, as a node across a data-centre network is.
func BenchmarkProbeCost(b *testing.B) {
	for _, net := range []struct {
		name  string
		delay time.Duration
	}{{"loopback", 0}, {"lan", time.Millisecond}} {
		b.Run(net.name, func(b *testing.B) { benchmarkProbeCost(b, net.delay) })
	}
}

func benchmarkProbeCost(b *testing.B, delay time.Duration) {
	srv := publisher(delay)
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/cuic/rest/status/")
	req := cors.Request{URL: u, Origin: "https://finessep.example:8445", Method: "GET", Credentials: cors.Include,
		Header: []cors.Header{{Name: "Authorization", Value: "Basic eDp5"}, {Name: "locale", Value: "en_US"}, {Name: "peripheralid", Value: "5000"}}}
	raw := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	roundTrip := func(method string, h http.Header) {
		r, _ := http.NewRequest(method, u.String(), nil)
		r.Header = h
		resp, err := raw.Do(r)
		if err != nil {
			b.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	preH := http.Header{"Origin": {req.Origin}, "Access-Control-Request-Method": {"GET"},
		"Access-Control-Request-Headers": {"authorization,locale,peripheralid"}, "Accept": {"*/*"}}
	foreignH := http.Header{"Origin": {ForeignOrigin}, "Access-Control-Request-Method": {"GET"},
		"Access-Control-Request-Headers": {"authorization,locale,peripheralid"}, "Accept": {"*/*"}}
	getH := http.Header{"Origin": {req.Origin}, "Authorization": {"Basic eDp5"}, "Locale": {"en_US"}, "Peripheralid": {"5000"}}
	for _, mode := range []struct {
		name   string
		extras bool
	}{{"default", true}, {"no-extra-checks", false}} {
		b.Run(mode.name, func(b *testing.B) {
			p := New(Options{Timeout: 5 * time.Second, NoExtraChecks: !mode.extras})
			defer p.Close()
			var rawTotal, sameTotal, probeTotal time.Duration
			for b.Loop() {
				t0 := time.Now()
				roundTrip("OPTIONS", preH)
				roundTrip("GET", getH)
				t1 := time.Now()
				if mode.extras {
					done := make(chan struct{})
					go func() { roundTrip("OPTIONS", foreignH); close(done) }()
					roundTrip("OPTIONS", preH)
					roundTrip("GET", getH)
					<-done
				} else {
					roundTrip("OPTIONS", preH)
					roundTrip("GET", getH)
				}
				t2 := time.Now()
				rep := p.Check(context.Background(), req, targets.CUIC)
				probeTotal += time.Since(t2)
				rawTotal += t1.Sub(t0)
				sameTotal += t2.Sub(t1)
				if rep.Verdict != cors.Allowed {
					b.Fatalf("verdict %s: %s", rep.Verdict, rep.Text())
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(rawTotal.Nanoseconds())/n, "raw-ns/check")
			b.ReportMetric(float64(probeTotal.Nanoseconds())/n, "probe-ns/check")
			b.ReportMetric(float64(probeTotal)/float64(rawTotal), "probe/raw")
			b.ReportMetric(float64(probeTotal)/float64(sameTotal), "probe/bare-same")
		})
	}
}
