// Package fix turns a diagnosis into what to do about it: the command to run, on which node, and
// the service to restart (Cisco CLIs for CUIC, Live Data and Finesse), or what a custom server
// must send, in the diagnosis's language. The commands live in fixes.json and the sentences
// around them in server/words, so that both can be corrected without touching code.
package fix

import (
	_ "embed"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/server/words"
)

// Problem is what went wrong, as the probe or the browser saw it.
type Problem struct {
	Kind            targets.Kind
	URL             *url.URL
	Origin          string
	Reason          cors.Reason // set when blocked by CORS
	FailedParameter string
	Network         string // a network error class (see the probe package) when unreachable
	NetworkDetail   string
	// Unnamed is set when the browser blocked the request by CORS but the reason is not known
	// (a recording that lacks the answers the reason depends on).
	Unnamed bool
	// RedirectTo is set when the response that failed was a redirect to this URL.
	RedirectTo string
	Lang       words.Lang // of the sentences; English when empty
}

// Fix is what to do about a problem.
type Fix struct {
	Node     string   `json:"node"`
	Summary  string   `json:"summary"`
	Commands []string `json:"commands,omitempty"` // to run on Node, in order
	Restart  []string `json:"restart,omitempty"`  // then, on Node
	Notes    []string `json:"notes,omitempty"`
}

//go:embed fixes.json
var catalogJSON []byte

type kindCommands struct {
	Product     string   `json:"product"`
	CLI         string   `json:"cli"`
	Restart     []string `json:"restart"`
	CertRestart []string `json:"certRestart"` // after a new certificate
}

type problemCommands struct {
	Restart     bool     `json:"restart"`
	CertRestart bool     `json:"certRestart"`
	Cisco       []string `json:"cisco"`
}

type catalog struct {
	About    string                        `json:"_about"`
	Kinds    map[targets.Kind]kindCommands `json:"kinds"`
	Problems map[string]problemCommands    `json:"problems"`
}

var texts = mustLoad(catalogJSON)

func mustLoad(b []byte) catalog {
	var c catalog
	if err := json.Unmarshal(b, &c); err != nil {
		panic("fix: fixes.json: " + err.Error())
	}
	return c
}

// reasonProblem maps each CORS reason to the problem that explains it.
var reasonProblem = map[cors.Reason]string{
	cors.MissingAllowOriginHeader:             "origin-not-allowed",
	cors.AllowOriginMismatch:                  "origin-not-allowed",
	cors.MultipleAllowOriginValues:            "multiple-origins",
	cors.InvalidAllowOriginValue:              "invalid-origin-value",
	cors.WildcardOriginNotAllowed:             "wildcard-with-credentials",
	cors.InvalidAllowCredentials:              "credentials-not-allowed",
	cors.HeaderDisallowedByPreflightResponse:  "header-not-allowed",
	cors.MethodDisallowedByPreflightResponse:  "method-not-allowed",
	cors.PreflightInvalidStatus:               "preflight-status",
	cors.PreflightDisallowedRedirect:          "preflight-redirect",
	cors.InvalidAllowMethodsPreflightResponse: "invalid-allow-methods",
	cors.InvalidAllowHeadersPreflightResponse: "invalid-allow-list",
	cors.RedirectContainsCredentials:          "redirect",
	cors.CorsDisabledScheme:                   "redirect",
	cors.InvalidResponse:                      "preflight-network",
}

// unnamedProblem is the problem of a request blocked by CORS for a reason not known.
const unnamedProblem = "cors-unnamed"

// For returns the fixes for a problem: one per node (today always the node that failed), or
// nothing when there is no problem.
func For(p Problem) []Fix {
	id := p.Network
	switch {
	case p.Reason != "":
		id = reasonProblem[p.Reason.Base()]
	case p.Unnamed:
		id = unnamedProblem
	}
	pt, ok := texts.Problems[id]
	if !ok {
		return nil
	}
	kind := p.Kind
	if _, ok := texts.Kinds[kind]; !ok {
		kind = targets.Custom
	}
	kt := texts.Kinds[kind]
	l := p.Lang
	if l == "" {
		l = words.English
	}
	node := ""
	if p.URL != nil {
		node = p.URL.Hostname()
	}
	product := kt.Product
	if product == "" {
		product = words.Say(l, "kind."+string(kind)+".product", nil)
	}
	vars := map[string]string{
		"origin": p.Origin, "node": node, "url": urlString(p.URL),
		"header": p.FailedParameter, "method": p.FailedParameter, "value": valueOf(p),
		"product": product, "cli": kt.CLI, "redirect": p.RedirectTo,
	}
	// say gives the sentence of key in the problem's language, when there is one.
	say := func(key string) (string, bool) {
		if !words.Has(key) {
			return "", false
		}
		return words.Say(l, key, vars), true
	}
	summary, _ := say("fix." + id + ".summary")
	f := Fix{Node: node, Summary: summary}
	note := func(key string) {
		if n, ok := say(key); ok {
			f.Notes = append(f.Notes, n)
		}
	}
	switch {
	case words.Has("fix." + id + ".all"):
		note("fix." + id + ".all")
	case kind == targets.Custom:
		note("fix." + id + ".custom")
	default:
		for _, c := range pt.Cisco {
			f.Commands = append(f.Commands, words.Fill(c, vars))
		}
		note("fix." + id + ".ciscoNote")
		if len(f.Commands) > 0 {
			note("kind." + string(kind) + ".nodes")
		}
		if pt.Restart {
			for _, c := range kt.Restart {
				f.Restart = append(f.Restart, words.Fill(c, vars))
			}
			note("kind." + string(kind) + ".restartNote")
		}
		if pt.CertRestart {
			for _, c := range kt.CertRestart {
				f.Restart = append(f.Restart, words.Fill(c, vars))
			}
		}
	}
	if p.RedirectTo != "" && p.Reason != "" {
		note("fix.redirectHop")
	}
	if p.Reason != "" {
		note("fix.afterFix")
	}
	return []Fix{f}
}

func valueOf(p Problem) string {
	if p.Reason != "" {
		return p.FailedParameter
	}
	return p.NetworkDetail
}

func urlString(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.String()
}

// Text renders fixes for a terminal or a ticket, in l.
func Text(fs []Fix, l words.Lang) string {
	var b strings.Builder
	line := func(indent, key string, vars map[string]string) {
		b.WriteString(indent + words.Say(l, key, vars) + "\n")
	}
	for _, f := range fs {
		line("", "label.fix", map[string]string{"summary": f.Summary})
		if len(f.Commands) > 0 {
			line("  ", "label.runOn", map[string]string{"node": f.Node})
			for _, c := range f.Commands {
				b.WriteString("    " + c + "\n")
			}
		}
		if len(f.Restart) > 0 {
			line("  ", "label.thenRestart", map[string]string{"node": f.Node})
			for _, c := range f.Restart {
				b.WriteString("    " + c + "\n")
			}
		}
		for _, n := range f.Notes {
			b.WriteString("  " + n + "\n")
		}
	}
	return b.String()
}
