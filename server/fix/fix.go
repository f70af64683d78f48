// Package fix turns a diagnosis into what to do about it: the command to run, on which node, and
// the service to restart (Cisco CLIs for CUIC, Live Data and Finesse), or what a custom server
// must send. The knowledge lives in fixes.json so that it can be corrected without touching code.
package fix

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// Kind is a target kind: which product answers at the URL.
type Kind string

// The target kinds.
const (
	CUIC     Kind = "cuic"
	LiveData Kind = "livedata"
	Finesse  Kind = "finesse"
	Custom   Kind = "custom"
)

// Kinds lists the kinds in the order users see them.
var Kinds = []Kind{CUIC, LiveData, Finesse, Custom}

// ParseKind accepts a kind name.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Kinds, k) {
		return k, nil
	}
	return "", fmt.Errorf("kind %q must be one of cuic, livedata, finesse, custom", s)
}

// Problem is what went wrong, as the probe or the browser saw it.
type Problem struct {
	Kind            Kind
	URL             *url.URL
	Origin          string
	Reason          cors.Reason // set when blocked by CORS
	FailedParameter string
	Network         string // a network error class (see the probe package) when unreachable
	NetworkDetail   string
	// RedirectTo is set when the response that failed was a redirect to this URL.
	RedirectTo string
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

type kindText struct {
	Product     string   `json:"product"`
	CLI         string   `json:"cli"`
	Restart     []string `json:"restart"`
	CertRestart []string `json:"certRestart"` // after a new certificate
	RestartNote string   `json:"restartNote"`
	Nodes       string   `json:"nodes"`
}

type problemText struct {
	Summary     string   `json:"summary"`
	Restart     bool     `json:"restart"`
	CertRestart bool     `json:"certRestart"`
	Cisco       []string `json:"cisco"`
	CiscoNote   string   `json:"ciscoNote"`
	Custom      string   `json:"custom"`
	All         string   `json:"all"`
}

type catalog struct {
	About       string                 `json:"_about"`
	Kinds       map[Kind]kindText      `json:"kinds"`
	Problems    map[string]problemText `json:"problems"`
	RedirectHop string                 `json:"redirectHop"`
	AfterFix    string                 `json:"afterFix"`
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

// For returns the fixes for a problem: one per node (today always the node that failed), or
// nothing when there is no problem.
func For(p Problem) []Fix {
	id := p.Network
	if p.Reason != "" {
		id = reasonProblem[p.Reason.Base()]
	}
	pt, ok := texts.Problems[id]
	if !ok {
		return nil
	}
	kind := p.Kind
	if _, ok := texts.Kinds[kind]; !ok {
		kind = Custom
	}
	kt := texts.Kinds[kind]
	node := ""
	if p.URL != nil {
		node = p.URL.Hostname()
	}
	r := strings.NewReplacer(
		"{origin}", p.Origin, "{node}", node, "{url}", urlString(p.URL),
		"{header}", p.FailedParameter, "{method}", p.FailedParameter, "{value}", valueOf(p),
		"{product}", kt.Product, "{cli}", kt.CLI, "{redirect}", p.RedirectTo,
	)
	f := Fix{Node: node, Summary: r.Replace(pt.Summary)}
	switch {
	case pt.All != "":
		f.Notes = append(f.Notes, r.Replace(pt.All))
	case kind == Custom:
		f.Notes = append(f.Notes, r.Replace(pt.Custom))
	default:
		for _, c := range pt.Cisco {
			f.Commands = append(f.Commands, r.Replace(c))
		}
		if pt.CiscoNote != "" {
			f.Notes = append(f.Notes, r.Replace(pt.CiscoNote))
		}
		if len(f.Commands) > 0 && kt.Nodes != "" {
			f.Notes = append(f.Notes, r.Replace(kt.Nodes))
		}
		if pt.Restart {
			for _, c := range kt.Restart {
				f.Restart = append(f.Restart, r.Replace(c))
			}
			if kt.RestartNote != "" {
				f.Notes = append(f.Notes, r.Replace(kt.RestartNote))
			}
		}
		if pt.CertRestart {
			for _, c := range kt.CertRestart {
				f.Restart = append(f.Restart, r.Replace(c))
			}
		}
	}
	if p.RedirectTo != "" && p.Reason != "" {
		f.Notes = append(f.Notes, r.Replace(texts.RedirectHop))
	}
	if p.Reason != "" && texts.AfterFix != "" {
		f.Notes = append(f.Notes, r.Replace(texts.AfterFix))
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

// Text renders fixes for a terminal or a ticket.
func Text(fs []Fix) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "Fix: %s\n", f.Summary)
		if len(f.Commands) > 0 {
			fmt.Fprintf(&b, "  On %s run:\n", f.Node)
			for _, c := range f.Commands {
				fmt.Fprintf(&b, "    %s\n", c)
			}
		}
		if len(f.Restart) > 0 {
			fmt.Fprintf(&b, "  Then restart (on %s):\n", f.Node)
			for _, c := range f.Restart {
				fmt.Fprintf(&b, "    %s\n", c)
			}
		}
		for _, n := range f.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
	}
	return b.String()
}
