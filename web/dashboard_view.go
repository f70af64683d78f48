package web

// DashboardView is the dashboard: the health matrix, results over time, top reasons and the
// newest failures, for one window.
type DashboardView struct {
	Nav     Nav
	Windows []Link // the windows to choose from; Current marks the shown one
	Sources []Link // whose results: all, the gadget's, the monitor's; Current marks the shown one
	// Monitor is set when the dashboard shows the scheduled checks' results alone.
	Monitor bool
	// OpenIncidents are shown first of all.
	OpenIncidents []IncidentRow
	Since         string // the window's start, UTC
	Totals        []Total
	Origins       []string    // the matrix's columns
	Rows          []MatrixRow // the matrix's rows
	Chart         Chart
	Reasons       []ReasonRow
	// Failures are the newest blocked or unreachable results, whatever the window.
	Failures    []ResultRow
	FailuresURL string
}

// Link is one choice among pages.
type Link struct {
	Label, URL string
	Current    bool
}

// Total is the number of results with one verdict in the window.
type Total struct {
	Verdict, Count, URL string
}

// MatrixRow is one target node.
type MatrixRow struct {
	Kind, Node string
	Cells      []MatrixCell // one per origin, in the order of DashboardView.Origins
}

// MatrixCell is how a node did for one origin.
type MatrixCell struct {
	Verdict  string // of the newest result; empty when the node never had one from this origin
	Age      string // of the newest result, "5 min ago"
	Since    string // how long the newest verdict has held, when it is a failure
	PassRate string // share allowed in the window, "97%"; empty without results in it
	Count    string // results in the window
	URL      string // the matching results
}

// Chart is a stacked bar chart of results over time by verdict, drawn as SVG by the server.
// Coordinates are preformatted user units of a ViewBox-sized drawing.
type Chart struct {
	ViewBox string
	Bars    []ChartBar
	Ticks   []ChartLabel // the time axis
	Scale   []ChartLabel // the count axis
	Lines   []ChartLine  // grid lines
	Empty   bool
}

// ChartBar is one time bucket; Title is its tooltip and its text for screen readers.
type ChartBar struct {
	Title    string
	Segments []ChartSegment
}

// ChartSegment is one verdict's part of a bar.
type ChartSegment struct {
	Verdict, X, Y, Width, Height string
}

// ChartLabel is a text on an axis.
type ChartLabel struct {
	X, Y, Text, Anchor string
}

// ChartLine is a horizontal grid line.
type ChartLine struct {
	X1, X2, Y string
}

// ReasonRow is one reason with how often the service diagnosed it, and on which nodes.
type ReasonRow struct {
	Reason, Count, URL string
	Nodes              []ReasonNode // most diagnoses first
}

// ReasonNode is one target node among a reason's, with how often the reason was diagnosed there
// and a link to those results. A node that serves several kinds of target is one ReasonNode per
// kind, and Label names the kind: "cuicsub.example.com (cuic)".
type ReasonNode struct {
	Label, Count, URL string
}
