package explain

import (
	"fmt"
	"strings"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/probe"
)

// Nodes groups the findings by node, nodes in order of first appearance.
func (r *Result) Nodes() []NodeFindings {
	var out []NodeFindings
	at := map[string]int{}
	for _, f := range r.Findings {
		i, ok := at[f.Node]
		if !ok {
			i = len(out)
			at[f.Node] = i
			out = append(out, NodeFindings{Node: f.Node})
		}
		out[i].Findings = append(out[i].Findings, f)
	}
	return out
}

// NodeFindings are the findings of one node.
type NodeFindings struct {
	Node     string
	Findings []Finding
}

// Summary is the closing line: how many cross-origin requests, on how many nodes, and their
// verdicts.
func (r *Result) Summary() string {
	count := map[cors.Verdict]int{}
	for _, f := range r.Findings {
		count[f.Verdict]++
	}
	nodes := len(r.Nodes())
	s := fmt.Sprintf("%d cross-origin request%s on %d node%s: %d blocked, %d unreachable, %d allowed",
		len(r.Findings), plural(len(r.Findings)), nodes, plural(nodes), count[cors.Blocked], count[cors.Unreachable], count[cors.Allowed])
	if !r.Complete() {
		s += fmt.Sprintf("; read only in part (%d problem%s): a request in the unread part is not among these", len(r.Problems), plural(len(r.Problems)))
	}
	return s + "."
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Describe says what was read, for the first line.
func (r *Result) Describe() string {
	who := "Chromium (Chrome, Edge)"
	if r.Browser == cors.Firefox {
		who = "Firefox"
	}
	if r.Source == "console" {
		return fmt.Sprintf("Console text, %d lines.", r.Entries)
	}
	creator := ""
	if r.Creator != "" {
		creator = " (creator " + r.Creator + ")"
	}
	return fmt.Sprintf("HAR of %s%s, %d entries.", who, creator, r.Entries)
}

// Text renders the result for a terminal: what was read, then each node's requests, then the
// summary line.
func (r *Result) Text() string {
	var b strings.Builder
	b.WriteString(r.Describe() + "\n")
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "Unreadable: %s\n", p)
	}
	for _, n := range r.Nodes() {
		fmt.Fprintf(&b, "\n%s\n", n.Node)
		for _, f := range n.Findings {
			f.text(&b)
		}
	}
	b.WriteString("\n" + r.Summary() + "\n")
	return b.String()
}

func (f Finding) text(b *strings.Builder) {
	where := ""
	switch {
	case f.Entry != nil:
		where = fmt.Sprintf("entry %d", *f.Entry)
		if f.StartedDateTime != "" {
			where += " at " + f.StartedDateTime
		}
	case f.Line > 0:
		where = fmt.Sprintf("line %d", f.Line)
	}
	method := f.Method
	if method == "" {
		method = "request to"
	}
	fmt.Fprintf(b, "  %s %s (%s, %s)\n", method, f.URL, where, f.Kind)
	switch f.Verdict {
	case cors.Allowed:
		fmt.Fprintf(b, "    allowed: the page could read the response\n")
	case cors.Blocked:
		if f.CorsError != "" {
			fmt.Fprintf(b, "    blocked by CORS: %s (%s)\n", f.CorsError, f.Explanation)
		} else {
			fmt.Fprintf(b, "    blocked by CORS: %s\n", f.Explanation)
		}
	case cors.Unreachable:
		what := "no answer"
		if f.Network != nil && f.Network.Class != "" {
			what = string(f.Network.Class)
			if f.Network.NetError != "" {
				what += " (" + f.Network.NetError + ")"
			}
		}
		fmt.Fprintf(b, "    unreachable: %s: %s\n", what, f.Explanation)
	}
	for _, s := range f.Steps {
		if s.Error != "" {
			fmt.Fprintf(b, "    %-9s %s %s -> %s\n", s.Kind, s.Method, s.URL, s.Error)
			continue
		}
		fmt.Fprintf(b, "    %-9s %s %s -> %d%s\n", s.Kind, s.Method, s.URL, s.Status, probe.CORSSummary(s.Headers))
	}
	if f.Console != "" {
		fmt.Fprintf(b, "    Console: %s\n", f.Console)
	}
	for _, w := range f.Warnings {
		fmt.Fprintf(b, "    Warning: %s\n", w.Message)
	}
	for _, line := range strings.Split(strings.TrimRight(fix.Text(f.Fixes, f.Lang), "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(b, "    %s\n", line)
		}
	}
	for _, l := range f.Limits {
		fmt.Fprintf(b, "    Cannot tell: %s\n", l)
	}
	if f.ProbeCommand != "" {
		fmt.Fprintf(b, "    Settle it live: %s\n", f.ProbeCommand)
	}
}
