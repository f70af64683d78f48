// Package web holds the admin UI's templ components and its stylesheet. Handlers (server/admin)
// prepare the view models below; the components only render them, and every value is rendered
// through templ's escaping.
package web

import (
	"embed"
	"strings"

	"github.com/corsquickcheck/corscheck/server/shell"
)

// Static is the admin UI's static files (static/admin.css), served by the admin router.
//
//go:embed static
var Static embed.FS

// StylesheetPath is where the admin router serves static/admin.css.
const StylesheetPath = "/admin/static/admin.css"

// Nav is the page header's state.
type Nav struct {
	SignedIn bool
	Current  string // "results", …
}

// Option is one choice of a <select>.
type Option struct {
	Value, Label string
}

// FilterForm is the results filter as the form shows it (the request's query values).
type FilterForm struct {
	Since, Until, Kind, Node, Origin, Verdict, Agent, Reason, Source string
}

// ResultsView is the results page.
type ResultsView struct {
	Nav      Nav
	Filter   FilterForm
	Kinds    []Option
	Verdicts []Option
	Sources  []Option
	Reasons  []Option // suggestions for the reason filter
	// Error says the filter could not be read, and Problems what is wrong with it, one by one.
	// The page then lists no results and offers no export.
	Error    string
	Problems []string
	Total    string // how many results match, in words
	Rows     []ResultRow
	// Internal links, built by the handler (paths under /admin with encoded queries).
	NewestURL, OlderURL     string // OlderURL empty on the last page; NewestURL empty on the first
	ExportCSV, ExportNDJSON string
	ExportCap               int
}

// ResultRow is one line of the results table.
type ResultRow struct {
	ID         int64
	DetailURL  string
	ReceivedAt string
	Kind       string
	Node       string
	PageOrigin string
	Verdict    string
	Agent      string
	Error      string
	Duration   string
	Reason     string
	Source     string // gadget or monitor
}

// Field is one labelled value.
type Field struct {
	Label, Value string
}

// DetailView is one result with the service's diagnoses of it.
type DetailView struct {
	Nav       Nav
	ID        int64
	BackURL   string
	Verdict   string
	Browser   []Field // every field of the result; the page leaves out those without a value
	Diagnoses []DiagnosisView
	CopyText  string // a plain-text summary for tickets
}

// DiagnosisView is the server's view of the same check.
type DiagnosisView struct {
	CreatedAt       string
	URL             string
	Origin          string
	Verdict         string
	Reason          string
	FailedParameter string
	NetworkClass    string
	NetworkMessage  string
	Console         string
	Explanation     string
	Fixes           []FixView
	Exchanges       []ExchangeView // the preflight and the actual request, when sent
	Placeholders    []string       // request headers whose values the service replaced
	Cut             []string       // what the service left out of the report
	ReportError     string         // the stored report could not be read
}

// FixView is what to run on one node.
type FixView struct {
	Node     string
	Summary  string
	Commands []string
	Restart  []string
	Notes    []string
}

// ExchangeView is one request the probe sent and what came back.
type ExchangeView struct {
	Title          string // "Preflight", "Actual request"
	Method, URL    string
	RequestHeaders []Field
	Status         string
	Headers        []Field // the raw response headers, sorted by name
	Error          string
}

// ErrorView is a request that went wrong: its status and what happened, in words for the reader.
type ErrorView struct {
	Nav                    Nav
	Status, Title, Message string
}

// HomeView is what the start page says about this service.
type HomeView struct {
	// Service is the service's public URL (--public-url), "" when it has none.
	Service string
	// GadgetURL is where the service hosts the gadget's XML: under Service, or a path.
	GadgetURL string
	// MetricsHere says /metrics is served on this address, not on --metrics-listen.
	MetricsHere bool
}

// servicePlaceholder stands for the service's address where the page cannot know it.
const servicePlaceholder = "https://<this service>"

// ServiceOrPlaceholder is the service's URL for a command line, or a placeholder for it.
func (v HomeView) ServiceOrPlaceholder() string {
	if v.Service == "" {
		return servicePlaceholder
	}
	return v.Service
}

// BuildCommand is the gadget build command for this service, its address quoted for the shell
// (a --public-url is the admin's text: pasted, it must not run anything).
func (v HomeView) BuildCommand() string {
	return "corscheck gadget build --service " + shell.Quote(v.ServiceOrPlaceholder())
}

// PlainHTTP says the service's public URL is http://, which the agents' browsers block from
// the https desktop as mixed content.
func (v HomeView) PlainHTTP() bool { return strings.HasPrefix(strings.ToLower(v.Service), "http:") }

// GadgetURLOrPlaceholder is the gadget's full URL for a desktop layout, or one with a
// placeholder for the service's address.
func (v HomeView) GadgetURLOrPlaceholder() string {
	if v.Service == "" {
		return servicePlaceholder + v.GadgetURL
	}
	return v.GadgetURL
}
