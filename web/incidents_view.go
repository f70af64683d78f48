package web

// VantageNote says where the service's own checks run, on every page that shows them.
const VantageNote = "Scheduled checks run from the corscheck service's own network: they catch configuration " +
	"drift on the nodes (an origin missing on one node after an upgrade). What agents' browsers can reach is " +
	"what the gadget reports."

// IncidentsView is the incidents page: the open incidents, then the newest closed ones.
type IncidentsView struct {
	Nav      Nav
	Open     []IncidentRow
	Closed   []IncidentRow
	OlderURL string // the next page of closed incidents; empty on the last
	// Monitoring says whether the scheduled checks run (--monitor-interval above 0).
	Monitoring bool
}

// IncidentRow is one incident in a list.
type IncidentRow struct {
	ID       int64
	URL      string // its page
	Node     string
	Kind     string
	Origin   string
	Endpoint string
	Change   string // "allowed → blocked"
	To       string // the failing verdict
	Reason   string
	Opened   string
	Closed   string // empty while open
	Because  string // why it closed
	Duration string // how long it was (or has been) open
}

// IncidentView is one incident: the change, why, the fix, the evidence and its alerts.
type IncidentView struct {
	Nav         Nav
	Incident    IncidentRow
	URL         string
	Explanation string
	Console     string
	Fixes       []FixView
	EvidenceURL string // the result that confirmed it; empty when retention removed it
	CloseURL    string // the result that closed it
	Deliveries  []DeliveryRow
}

// DeliveryRow is one alert to one receiver.
type DeliveryRow struct {
	Event    string // opened or closed
	Receiver string
	State    string // delivered, retrying, gave up
	When     string // when delivered, given up, or next tried
	Attempts string
	Error    string
}
