package api

import (
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

var (
	requestSeries = regexp.MustCompile(`(?m)^corscheck_http_requests_total\{(.*)\} `)
	seriesLabel   = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)
)

// requestLabels scrapes /metrics and returns the values each label of
// corscheck_http_requests_total takes, and the number of series.
func (e *testEnv) requestLabels() (map[string]map[string]bool, int) {
	e.t.Helper()
	_, body := e.do("GET", "/metrics", "", nil, nil)
	values := map[string]map[string]bool{}
	series := requestSeries.FindAllStringSubmatch(string(body), -1)
	for _, s := range series {
		for _, l := range seriesLabel.FindAllStringSubmatch(s[1], -1) {
			if values[l[1]] == nil {
				values[l[1]] = map[string]bool{}
			}
			values[l[1]][l[2]] = true
		}
	}
	return values, len(series)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// The audit sent invented methods (and paths): each became a series that stayed in memory for
// good. Methods outside the standard set count as OTHER, routes are patterns, statuses classes.
func TestMetricsLabelsStayBounded(t *testing.T) {
	e := newEnv(t, envOptions{})
	for i := range 300 {
		path := []string{"/healthz", "/api/v1/results", fmt.Sprintf("/no/such/%d", i), fmt.Sprintf("/api/v1/admin/x%d", i)}[i%4]
		e.do(fmt.Sprintf("INVENTED%d", i), path, "", nil, nil)
	}
	e.do("GET", "/api/v1/targets", "", nil, nil)
	e.do("OPTIONS", "/healthz", "", nil, nil)
	values, _ := e.requestLabels()
	if n := len(values["method"]); n > 20 || !values["method"]["OTHER"] || !values["method"]["GET"] {
		t.Errorf("%d distinct method values, want at most 20 with OTHER and GET: %v", n, values["method"])
	}
	for route := range values["route"] {
		if strings.Contains(route, "/no/such/") || strings.Contains(route, "/x") {
			t.Errorf("a raw path became a route label: %q", route)
		}
	}
	if len(values["route"]) > 10 {
		t.Errorf("%d route values: %v", len(values["route"]), values["route"])
	}
	for status := range values["status"] {
		if !regexp.MustCompile(`^[1-5]xx$`).MatchString(status) {
			t.Errorf("status label %q is not a class", status)
		}
	}

	// Huge methods: neither new series nor memory that stays. Kept, 40 methods of 900 KB would
	// hold 36 MB.
	_, before := e.requestLabels()
	heapBefore := heapInUse()
	huge := strings.Repeat("M", 900<<10)
	for i := range 40 {
		if resp, _ := e.do(huge[:len(huge)-i], "/healthz", "", nil, nil); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("a 900 KB method: %s", resp.Status)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	heapAfter := heapInUse()
	_, after := e.requestLabels()
	if after > before+1 {
		t.Errorf("series grew from %d to %d", before, after)
	}
	grown := int64(heapAfter) - int64(heapBefore)
	if grown > 12<<20 {
		t.Errorf("the heap grew by %d MB after 40 requests with 900 KB methods", grown>>20)
	}
	t.Logf("series %d → %d; heap in use %+.1f MB after 40 requests with 900 KB methods", before, after, float64(grown)/(1<<20))
}
