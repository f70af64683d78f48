// Package synth makes synthetic results for the demo's history and the scale benchmarks: what a
// contact centre's agents would have reported over days or weeks, with the daily rhythm of
// the floor, target nodes that fail from a given moment on ("every origin fails against
// cuicsub since Tuesday's upgrade"), and the service's diagnosis of each failure. The same
// seed gives the same results, so a benchmark store can be filled again, or resumed.
package synth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// Node is one target node as agents have it in the gadget.
type Node struct {
	Name string       // host name as the gadget reports it, e.g. cuicsub.example.com
	Kind targets.Kind // which product it is
	URLs []string     // what a check tests on it, one result each (Live Data has two ports)
	// Share is the fraction of a check of its kind that includes the node: less than 1 for a
	// node only some agents still have in their list (a decommissioned one). 0 means 1.
	Share float64
}

// Failure is how checks of a node fail, as the browser and the service's probe see it.
type Failure struct {
	Verdict         cors.Verdict // cors.Blocked or cors.Unreachable
	Reason          cors.Reason  // the DevTools CorsError, when blocked
	FailedParameter string       // the header, method or origin value that failed, if any
	NetworkClass    string       // why there was no HTTP answer, when unreachable (probe.NetworkClass: dns, refused, …)
	// Reports are the probe's reports (JSON) by page origin, attached to the diagnoses of the
	// failures from that origin; without one a diagnosis has no report, which is fine for bulk.
	Reports map[string][]byte
}

// Incident makes the checks of one node from one origin (or all) fail in [Start, End).
type Incident struct {
	Node       string    // a Node's Name
	Origin     string    // the page origin that fails; "" for every origin
	Start, End time.Time // zero Start: since before the span; zero End: still failing at Now
	Failure    Failure
}

// Options shape the results. Only Count is required.
type Options struct {
	Now   time.Time     // the end of the span; default time.Now()
	Span  time.Duration // how far back results go; default 7 days
	Count int           // how many results
	Seed  uint64        // the same seed and options give the same results

	Origins   []string   // page origins agents log in on; default DefaultOrigins
	Nodes     []Node     // default DefaultNodes()
	Incidents []Incident // nodes that fail; none by default, so every check is allowed

	Agents        int            // how many agents report; default 40
	AgentPrefix   string         // agent ids are the prefix and a number; default "agent-"
	GadgetVersion string         // default "synthetic": synthetic results say so
	Location      *time.Location // whose business hours the rhythm follows; default UTC
	NoDiagnoses   bool           // leave failures without a diagnosis
}

// Item is one result and, for a failure, the service's diagnosis of it. The diagnosis's
// ResultID is 0: the caller sets it once the result is stored. HeaderNames of every result share
// one slice, which callers must not modify.
type Item struct {
	Result    store.Result
	Diagnosis *store.Diagnosis
}

// DefaultOrigins are the page origins of a Finesse publisher and subscriber.
var DefaultOrigins = []string{"https://finessep.example.com:8445", "https://finesses.example.com:8445"}

// DefaultNodes are the targets of a contact centre of the field case: a CUIC publisher and
// subscriber, two Live Data nodes with their two ports each, both Finesse nodes' REST API,
// and an old CUIC node that a few agents still check although it has left DNS.
func DefaultNodes() []Node {
	cuic := func(host string) []string { return []string{"https://" + host + ":8444/cuic/rest/status/"} }
	liveData := func(host string) []string {
		return []string{"https://" + host + ":12005/", "https://" + host + ":12008/socket.io/"}
	}
	finesse := func(host string) []string { return []string{"https://" + host + ":8445/finesse/api/SystemInfo"} }
	return []Node{
		{Name: "cuicpub.example.com", Kind: targets.CUIC, URLs: cuic("cuicpub.example.com")},
		{Name: "cuicsub.example.com", Kind: targets.CUIC, URLs: cuic("cuicsub.example.com")},
		{Name: "cuic-old.example.com", Kind: targets.CUIC, URLs: cuic("cuic-old.example.com"), Share: 0.05},
		{Name: "livedata-a.example.com", Kind: targets.LiveData, URLs: liveData("livedata-a.example.com")},
		{Name: "livedata-b.example.com", Kind: targets.LiveData, URLs: liveData("livedata-b.example.com")},
		{Name: "finessep.example.com", Kind: targets.Finesse, URLs: finesse("finessep.example.com")},
		{Name: "finesses.example.com", Kind: targets.Finesse, URLs: finesse("finesses.example.com")},
	}
}

// DefaultIncidents are the failures of the field, for DefaultNodes and DefaultOrigins seen at
// now: an upgrade of cuicsub three days ago dropped its allowed origins, so every origin has
// failed against it since; from twelve to eight days ago livedata-b allowed the
// publisher's origin only; and cuic-old no longer resolves.
func DefaultIncidents(now time.Time) []Incident {
	day := 24 * time.Hour
	return []Incident{
		{Node: "cuicsub.example.com", Start: now.Add(-3 * day),
			Failure: Failure{Verdict: cors.Blocked, Reason: cors.PreflightMissingAllowOriginHeader}},
		{Node: "livedata-b.example.com", Origin: DefaultOrigins[1], Start: now.Add(-12 * day), End: now.Add(-8 * day),
			Failure: Failure{Verdict: cors.Blocked, Reason: cors.PreflightAllowOriginMismatch, FailedParameter: DefaultOrigins[0]}},
		{Node: "cuic-old.example.com", Failure: Failure{Verdict: cors.Unreachable, NetworkClass: "dns"}},
	}
}

// userAgents are browsers agents' desktops run, with their share and the message fetch()
// rejects with when a request fails.
var userAgents = []struct {
	ua, fetchError string
	share          float64
}{
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36", chromeError, 0.55},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36", chromeError, 0.1},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0", chromeError, 0.25},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0", "TypeError: NetworkError when attempting to fetch resource.", 0.1},
}

const chromeError = "TypeError: Failed to fetch"

// timeoutMs is the gadget's check timeout; a check without an answer by then is unreachable.
const timeoutMs = 10000

// kindShare is how often agents test each kind: Live Data gadgets are what stay blank.
var kindShare = map[targets.Kind]float64{targets.LiveData: 0.5, targets.CUIC: 0.35, targets.Finesse: 0.15, targets.Custom: 0.05}

// hourly is the floor's activity by local hour: agents log in from 8, test most in the
// morning, and a small night shift remains.
var hourly = [24]float64{
	0.04, 0.03, 0.03, 0.03, 0.03, 0.05, 0.15, 0.5, 1.6, 1.3, 1.1, 1, 0.8, 1, 1, 0.9, 0.8, 0.6, 0.35, 0.2, 0.12, 0.08, 0.06, 0.05,
}

// Check reports every problem of the options at once.
func (o Options) Check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if o.Count < 0 {
		bad("count %d is negative", o.Count)
	}
	if o.Span < 0 || o.Agents < 0 {
		bad("span and agents must not be negative")
	}
	o = o.withDefaults()
	if len(o.Origins) == 0 || len(o.Nodes) == 0 {
		bad("no origins or no nodes")
	}
	for _, origin := range o.Origins {
		if p, err := cors.ParseOrigin(origin); err != nil || p != origin {
			bad("origin %q is not an origin such as https://finesse.example.com:8445", origin)
		}
	}
	names := map[string]bool{}
	for _, n := range o.Nodes {
		names[n.Name] = true
		if n.Name == "" || len(n.URLs) == 0 {
			bad("node %q needs a name and a URL", n.Name)
		}
		if _, err := targets.ParseKind(string(n.Kind)); err != nil {
			bad("node %s: %v", n.Name, err)
		}
		if n.Share < 0 || n.Share > 1 {
			bad("node %s: share %g is not in [0, 1]", n.Name, n.Share)
		}
		for _, u := range n.URLs {
			if pu, err := url.Parse(u); err != nil || pu.Host == "" {
				bad("node %s: %q is not an absolute URL", n.Name, u)
			}
		}
	}
	for _, in := range o.Incidents {
		if !names[in.Node] {
			bad("incident: no node %q", in.Node)
		}
		switch f := in.Failure; f.Verdict {
		case cors.Blocked:
			if f.Reason == "" {
				bad("incident on %s: blocked needs a reason", in.Node)
			}
		case cors.Unreachable:
			if f.NetworkClass == "" {
				bad("incident on %s: unreachable needs a network class", in.Node)
			}
		default:
			bad("incident on %s: verdict must be blocked or unreachable", in.Node)
		}
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Microsecond) // what the store keeps
	if o.Span == 0 {
		o.Span = 7 * 24 * time.Hour
	}
	if o.Origins == nil {
		o.Origins = DefaultOrigins
	}
	if o.Nodes == nil {
		o.Nodes = DefaultNodes()
	}
	if o.Agents == 0 {
		o.Agents = 40
	}
	if o.AgentPrefix == "" {
		o.AgentPrefix = "agent-"
	}
	if o.GadgetVersion == "" {
		o.GadgetVersion = "synthetic"
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return o
}

// agent is one user of the desktop: where they log in, with which browser.
type agent struct {
	id, extension, role, origin, addr, userAgent, fetchError string
	skew                                                     time.Duration // their PC's clock
}

// kindGroup is the nodes of one kind, which one check tests together.
type kindGroup struct {
	kind  targets.Kind
	share float64
	nodes []int // indices into Options.Nodes
}

// planned is one result of a bucket, before its time decides its verdict.
type planned struct {
	at       int64 // microseconds into the bucket
	seq      int32 // order within the bucket, so a check's results stay together
	agent    int32
	node, ep int32
}

// generator holds what every result reuses: strings, the header list, the incidents by node.
type generator struct {
	o           Options
	rng         *rand.Rand
	agents      []agent
	groups      []kindGroup
	headerNames []string
	incidents   [][]Incident // by node index
}

// Generate returns the results in ReceivedAt order, all in (Now-Span, Now], with the
// diagnoses of failures unless NoDiagnoses.
func Generate(o Options) (iter.Seq[Item], error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	o = o.withDefaults()
	return func(yield func(Item) bool) {
		g := newGenerator(o)
		g.run(yield)
	}, nil
}

func newGenerator(o Options) *generator {
	g := &generator{o: o, rng: rand.New(rand.NewPCG(o.Seed, 0x636f727363686b21)), // "corschk!"
		headerNames: []string{"authorization", "locale", "peripheralid"}}
	width := max(2, len(strconv.Itoa(o.Agents)))
	for i := range o.Agents {
		ua := pick(g.rng, len(userAgents), func(j int) float64 { return userAgents[j].share })
		a := agent{
			id:         fmt.Sprintf("%s%0*d", o.AgentPrefix, width, i+1),
			extension:  strconv.Itoa(2001 + i),
			role:       "Agent",
			origin:     o.Origins[g.rng.IntN(len(o.Origins))],
			addr:       fmt.Sprintf("10.20.%d.%d", 30+i/200, 10+i%200),
			userAgent:  userAgents[ua].ua,
			fetchError: userAgents[ua].fetchError,
			skew:       time.Duration(g.rng.NormFloat64() * float64(1500*time.Millisecond)),
		}
		if i%12 == 0 {
			a.role = "Supervisor"
		}
		g.agents = append(g.agents, a)
	}
	for i, n := range o.Nodes {
		j := slices.IndexFunc(g.groups, func(k kindGroup) bool { return k.kind == n.Kind })
		if j < 0 {
			g.groups = append(g.groups, kindGroup{kind: n.Kind, share: kindShare[n.Kind]})
			j = len(g.groups) - 1
		}
		g.groups[j].nodes = append(g.groups[j].nodes, i)
	}
	g.incidents = make([][]Incident, len(o.Nodes))
	for _, in := range o.Incidents {
		for i, n := range o.Nodes {
			if n.Name == in.Node {
				g.incidents[i] = append(g.incidents[i], in)
			}
		}
	}
	return g
}

// run spreads Count results over hourly buckets by the floor's rhythm, then fills each bucket
// with whole checks (one agent testing every node of a kind at once) at random moments.
func (g *generator) run(yield func(Item) bool) {
	o := g.o
	start := o.Now.Add(-o.Span)
	const bucket = time.Hour
	n := int((o.Span + bucket - 1) / bucket)
	weights := make([]float64, n)
	total := 0.0
	for i := range weights {
		from := start.Add(time.Duration(i) * bucket)
		length := min(bucket, o.Now.Sub(from))
		local := from.Add(length / 2).In(o.Location)
		w := hourly[local.Hour()] * float64(length) / float64(bucket)
		if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.2
		}
		weights[i] = w
		total += w
	}
	var plan []planned
	cum, given := 0.0, 0
	for i, w := range weights {
		cum += w
		upto := int(math.Floor(float64(o.Count) * cum / total))
		if i == n-1 {
			upto = o.Count
		}
		count := upto - given
		given = upto
		if count <= 0 {
			continue
		}
		from := start.Add(time.Duration(i) * bucket)
		length := min(bucket, o.Now.Sub(from)).Microseconds()
		plan = g.plan(plan[:0], count, length)
		for _, p := range plan {
			// (from, from+length]: the span ends at Now, included.
			at := from.Add(time.Duration(p.at+1) * time.Microsecond)
			if !yield(g.item(p, at)) {
				return
			}
		}
	}
}

// plan lays count results of whole checks over a bucket of length microseconds, in time order.
func (g *generator) plan(plan []planned, count int, length int64) []planned {
	for len(plan) < count {
		at := g.rng.Int64N(length)
		a := int32(g.rng.IntN(len(g.agents)))
		grp := g.groups[pick(g.rng, len(g.groups), func(j int) float64 { return max(g.groups[j].share, 0.01) })]
		first := len(plan)
		for _, ni := range grp.nodes {
			if s := g.o.Nodes[ni].Share; s > 0 && s < 1 && g.rng.Float64() >= s {
				continue
			}
			for ep := range g.o.Nodes[ni].URLs {
				if len(plan) < count {
					plan = append(plan, planned{at: at, seq: int32(len(plan)), agent: a, node: int32(ni), ep: int32(ep)})
				}
			}
		}
		if len(plan) == first { // every node of the kind was left out: test the first
			plan = append(plan, planned{at: at, seq: int32(len(plan)), agent: a, node: int32(grp.nodes[0])})
		}
	}
	slices.SortFunc(plan, func(x, y planned) int {
		return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.seq, y.seq))
	})
	return plan
}

// item builds the result of p received at at, its verdict from the incidents then.
func (g *generator) item(p planned, at time.Time) Item {
	a := &g.agents[p.agent]
	n := &g.o.Nodes[p.node]
	r := store.Result{
		ReceivedAt: at, ClientAddr: a.addr,
		GadgetVersion: g.o.GadgetVersion, PageOrigin: a.origin, TargetKind: string(n.Kind), Node: n.Name,
		URL: n.URLs[p.ep], Method: "GET", HeaderNames: g.headerNames, Credentials: string(cors.Include),
		UserAgent: a.userAgent, AgentID: a.id, Extension: a.extension, Role: a.role, Source: store.SourceGadget,
	}
	// The gadget stamps the report when the check is done, by the agent's clock; it arrives a
	// few milliseconds later.
	r.ClientTime = at.Add(a.skew - time.Duration(1+g.rng.IntN(20))*time.Millisecond).Truncate(time.Microsecond)
	f := g.failure(int(p.node), a.origin, at)
	if f == nil {
		r.Verdict = string(cors.Allowed)
		r.DurationMs = g.millis(25, 60) // preflight and GET
		return Item{Result: r}
	}
	r.Verdict = string(f.Verdict)
	r.BrowserError = a.fetchError
	switch {
	case f.Verdict == cors.Blocked:
		r.DurationMs = g.millis(10, 25) // the preflight only
	case f.NetworkClass == "timeout":
		r.DurationMs = timeoutMs
		r.BrowserError = "TimeoutError: no answer within " + strconv.Itoa(timeoutMs) + " ms"
	case f.NetworkClass == "refused":
		r.DurationMs = g.millis(1, 3)
	default:
		r.DurationMs = g.millis(15, 60)
	}
	if g.o.NoDiagnoses {
		return Item{Result: r}
	}
	// The gadget asks for the diagnosis as soon as the check failed; the probe takes a moment.
	d := &store.Diagnosis{
		CreatedAt: at.Add(time.Duration(g.millis(40, 150) * float64(time.Millisecond))).Truncate(time.Microsecond),
		URL:       r.URL, Origin: r.PageOrigin, Kind: r.TargetKind, Node: r.Node, Verdict: r.Verdict,
		Reason: string(f.Reason), FailedParameter: f.FailedParameter, NetworkClass: f.NetworkClass,
		Report: f.Reports[r.PageOrigin],
	}
	return Item{Result: r, Diagnosis: d}
}

// failure is how a check of node from origin at t fails, or nil when it is allowed.
func (g *generator) failure(node int, origin string, t time.Time) *Failure {
	for i := range g.incidents[node] {
		in := &g.incidents[node][i]
		if (in.Origin == "" || in.Origin == origin) && !t.Before(in.Start) && (in.End.IsZero() || t.Before(in.End)) {
			return &in.Failure
		}
	}
	return nil
}

// millis is a duration around typical with a long tail, as network times have, rounded to
// the millisecond as the gadget reports it.
func (g *generator) millis(base, typical float64) float64 {
	return math.Round(base + typical*g.rng.ExpFloat64())
}

// pick chooses an index in [0, n) with the given weights.
func pick(rng *rand.Rand, n int, weight func(int) float64) int {
	total := 0.0
	for i := range n {
		total += weight(i)
	}
	x := rng.Float64() * total
	for i := range n {
		if x -= weight(i); x < 0 {
			return i
		}
	}
	return n - 1
}

// Fill stores the results of o in st, batch results per AddResults call (default 5000: one
// transaction each), then the diagnoses of the failures, pointing at their results. progress,
// when set, is called with the number of results stored after every batch.
func Fill(ctx context.Context, st store.Store, o Options, batch int, progress func(done int)) error {
	return FillFrom(ctx, st, o, 0, batch, progress)
}

// diagnosisWriters is how many diagnoses are written at once: each AddDiagnosis is one row,
// and the store's group commit puts concurrent ones in one transaction.
const diagnosisWriters = 32

// FillFrom is Fill leaving out the first skip results, which an earlier fill with the same
// options stored: the generator is deterministic, so the fill resumes where it stopped. (The
// diagnoses of the results stored just before an interruption may be missing.)
func FillFrom(ctx context.Context, st store.Store, o Options, skip, batch int, progress func(done int)) error {
	items, err := Generate(o)
	if err != nil {
		return err
	}
	if batch <= 0 {
		batch = 5000
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	diagnoses := make(chan store.Diagnosis, 4*batch)
	var writers sync.WaitGroup
	for range diagnosisWriters {
		writers.Go(func() {
			for d := range diagnoses {
				if ctx.Err() != nil {
					continue // drain
				}
				if _, err := st.AddDiagnosis(ctx, d); err != nil {
					cancel(fmt.Errorf("synth: diagnosis of result %d: %w", d.ResultID, err))
				}
			}
		})
	}
	finish := func(err error) error {
		close(diagnoses)
		writers.Wait()
		if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
			err = cause
		}
		if err == nil {
			err = ctx.Err()
		}
		return err
	}

	rs := make([]store.Result, 0, batch)
	type pending struct {
		i int
		d *store.Diagnosis
	}
	var ds []pending
	done := skip
	flush := func() error {
		if len(rs) == 0 {
			return nil
		}
		ids, err := st.AddResults(ctx, rs)
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				return cause
			}
			return fmt.Errorf("synth: %w", err)
		}
		for _, p := range ds {
			d := *p.d
			d.ResultID = ids[p.i]
			select {
			case diagnoses <- d:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		done += len(rs)
		rs, ds = rs[:0], ds[:0]
		if progress != nil {
			progress(done)
		}
		return nil
	}
	seen := 0
	for it := range items {
		if seen++; seen <= skip {
			continue
		}
		if it.Diagnosis != nil {
			ds = append(ds, pending{len(rs), it.Diagnosis})
		}
		rs = append(rs, it.Result)
		if len(rs) == batch {
			if err := flush(); err != nil {
				return finish(err)
			}
		}
	}
	return finish(flush())
}

// FillSetting is the store setting where a fill (server/synth/fill) records its plan, so that
// an interrupted fill resumes with the same results and a benchmark can make a small store
// shaped like the big one.
const FillSetting = "synth_fill"

// FillPlan is what a fill makes: Options with the default origins, nodes and incidents.
type FillPlan struct {
	Now     time.Time `json:"now"`
	Span    string    `json:"span"` // as ParseSpan reads it
	Seed    uint64    `json:"seed"`
	Results int       `json:"results"`
}

// Options are the generator's options for the plan, with count results.
func (p FillPlan) Options(count int) (Options, error) {
	span, err := ParseSpan(p.Span)
	if err != nil {
		return Options{}, err
	}
	return Options{Now: p.Now, Span: span, Count: count, Seed: p.Seed, Incidents: DefaultIncidents(p.Now)}, nil
}

// ParseSpan reads a duration, with d for days (30d).
func ParseSpan(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("span %q: want a number of days such as 30d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("span %q: want a duration such as 30d or 36h", s)
	}
	return d, nil
}

// FormatSpan writes a span as ParseSpan reads it, in days when it is whole days.
func FormatSpan(d time.Duration) string {
	const day = 24 * time.Hour
	if d%day == 0 {
		return strconv.Itoa(int(d/day)) + "d"
	}
	return d.String()
}
