package explain

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// entriesJSON is the entries of the field case (fieldHAR), each as JSON text.
func entriesJSON(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, e := range fieldHARBuilder().entries {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// deep is a value nested n levels.
func deep(n int) string {
	return strings.Repeat("[", n) + strings.Repeat("]", n)
}

// One entry nested far too deep is reported, and every other entry is still explained.
func TestDeepEntry(t *testing.T) {
	es := entriesJSON(t)
	bad := `{"_x":` + deep(100_000) + `}`
	es = append(es[:3], append([]string{bad}, es[3:]...)...)
	har := `{"log":{"creator":{"name":"WebInspector"},"pages":[{"id":"page_1","title":"` + desktop + `/desktop/"}],"entries":[` + strings.Join(es, ",") + `]}}`
	res, err := Read(strings.NewReader(har), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "entry 3: nested deeper than 10000 levels") {
		t.Errorf("problems %q", res.Problems)
	}
	if len(res.Findings) != 4 {
		t.Fatalf("%d findings, want the field case's 4:\n%s", len(res.Findings), res.Text())
	}
	if f := byNode(res)["cuicsub.example"]; f.Verdict != cors.Blocked || *f.Entry != 4 {
		t.Errorf("the entry after the deep one: %s entry %d", f.Verdict, *f.Entry)
	}

	// Nesting the reader can check is no problem, wherever it is: the subscriber's request
	// (es[4], after the bad entry) with a value nested just within the limit is explained.
	ok := `{"_x":` + deep(maxDepth-1) + `,` + es[4][1:]
	har = `{"log":{"entries":[` + es[1] + `,` + es[2] + `,` + ok + `]}}`
	if res := read(t, har, Options{}); len(res.Problems) != 0 || len(res.Findings) != 2 || byNode(res)["cuicsub.example"].Verdict != cors.Blocked {
		t.Errorf("nesting within the limit: %q:\n%s", res.Problems, res.Text())
	}
	if res.ExitCode() != 2 {
		t.Errorf("exit %d for input read only in part, want 2", res.ExitCode())
	}
}

// Memory does not grow with depth: skipping a value nested millions of levels deep, before the
// log, allocates about the same as skipping one nested a few levels (the buffers), and the log
// after it is explained.
func TestDeepNestingBoundedMemory(t *testing.T) {
	es := entriesJSON(t)
	log := `"log":{"creator":{"name":"WebInspector"},"entries":[` + es[3] + `,` + es[4] + `]}}`
	alloc := func(depth int) (uint64, *Result) {
		in := []byte(`{"x":` + deep(depth) + `,` + log)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res, err := Read(bytes.NewReader(in), Options{})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		return after.TotalAlloc - before.TotalAlloc, res
	}
	shallow, _ := alloc(10)
	big, res := alloc(4 << 20) // 8 MB of brackets
	t.Logf("allocated %d bytes for depth 10, %d for depth %d", shallow, big, 4<<20)
	if big > shallow+256<<10 || big > 2<<20 {
		t.Errorf("skipping %d levels allocated %d bytes (%d for 10 levels): memory grows with depth", 4<<20, big, shallow)
	}
	if len(res.Findings) != 1 || res.Findings[0].CorsError != cors.PreflightMissingAllowOriginHeader {
		t.Errorf("the log after the deep value:\n%s", res.Text())
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], `the file, at "x": nested deeper than 10000 levels`) {
		t.Errorf("problems %q", res.Problems)
	}
}

// The reader checks the syntax of what it skips, and names where it broke.
func TestSkippedSyntax(t *testing.T) {
	for _, bad := range []string{`[1,]`, `{"a" 1}`, `[}`, `{"a":1]`, `tru`, `01`, `"a\`, `[1 2]`, `{"a":1,}`, `nul`} {
		har := `{"x":` + bad + `,"log":{"entries":[]}}`
		if _, err := Read(strings.NewReader(har), Options{}); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	for _, good := range []string{`[1,-2.5e+3,true,false,null,"a\"b\\",{}]`, `{"a":{"b":[[],{}]}}`, `"\u00e9"`, `0`} {
		har := `{"x":` + good + `,"log":{"entries":[]}}`
		if res, err := Read(strings.NewReader(har), Options{}); err != nil || len(res.Problems) != 0 {
			t.Errorf("%s: %v %q", good, err, res.Problems)
		}
	}
}
