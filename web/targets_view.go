package web

// TargetsView is the targets page: the catalogue in use, and the form that replaces it whole.
type TargetsView struct {
	Nav    Nav
	Notice string // a save that worked, e.g. "Catalogue saved."
	// Error says why the last save was refused; nothing changed. The page then shows the editor
	// first, with the text as sent and every problem.
	Error    string
	Problems []string
	Targets  []TargetView
	// AllowedDomains are the domains whose hosts the diagnosis may reach besides the nodes.
	AllowedDomains []string
	Editor         string // the text of the editor: the catalogue as indented JSON, or the text sent
	MaxKiB         int    // the largest catalogue the form takes
}

// TargetView is one target of the catalogue.
type TargetView struct {
	ID, Kind, Label string
	Endpoints       []EndpointView
	Method          string
	Credentials     string
	Headers         []Field // the request's headers: name and placeholder value
	Nodes           []string
	Notes           string
}

// EndpointView is one URL a target tests on every node.
type EndpointView struct {
	Name, Port, Path string
	URL              string // the URL on a node, with "{node}" for the node's name
}
