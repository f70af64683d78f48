package web

// ExplainView is the Explain page: the upload form, what the last upload or a saved case held,
// and the saved cases.
type ExplainView struct {
	Nav      Nav
	Error    string
	Notice   string
	LimitMB  int
	Kinds    []Option
	Browsers []Option
	// The form's values, kept when a form is answered with an error.
	Kind, Browser, Origin string
	// Set once something was explained.
	Explained bool
	Describe  string
	Summary   string
	Problems  []string
	Nodes     []ExplainNode
	// SaveJSON is the redacted findings, posted back to save them as a case (the service keeps
	// nothing until then); empty when showing a saved case.
	SaveJSON  string
	SaveTitle string
	// CaseTitle is set when showing a saved case.
	CaseTitle string
	Cases     []CaseRow
}

// ExplainNode is the findings of one node.
type ExplainNode struct {
	Node     string
	Findings []ExplainFinding
}

// ExplainFinding is one request of the recording, shown as the result detail page shows a
// diagnosis.
type ExplainFinding struct {
	Where        string // "entry 4 at 2026-11-03T09:00:00Z", "line 3"
	Request      string // "GET https://…"
	Browser      string // Chromium or Firefox: whose words
	Diagnosis    DiagnosisView
	Limits       []string
	ProbeCommand string
}

// CaseRow is one saved case in the list.
type CaseRow struct {
	Title, Created, URL string
}
