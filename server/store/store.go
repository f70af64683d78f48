// Package store keeps the results browsers report and the service's diagnoses: SQLite in a data
// directory by default, PostgreSQL when one machine is not enough. Both implement Store with the
// same schema and behaviour; a write returns only once it is committed.
package store

import (
	"context"
	"errors"
	"time"
)

// Result is one check of one node as an agent's browser saw it.
type Result struct {
	ID         int64     `json:"id"`
	ReceivedAt time.Time `json:"receivedAt"`          // set by the service
	ClientTime time.Time `json:"clientTime,omitzero"` // the browser's clock, when sent
	ClientAddr string    `json:"clientAddr,omitempty"`

	GadgetVersion string   `json:"gadgetVersion"`
	PageOrigin    string   `json:"pageOrigin"`
	TargetKind    string   `json:"targetKind"`
	Node          string   `json:"node"`
	URL           string   `json:"url"`
	Method        string   `json:"method"`
	HeaderNames   []string `json:"headerNames"`
	Credentials   string   `json:"credentials"`

	Verdict      string  `json:"verdict"` // allowed | blocked | unreachable
	BrowserError string  `json:"browserError,omitempty"`
	DurationMs   float64 `json:"durationMs"`
	UserAgent    string  `json:"userAgent,omitempty"`

	// The Finesse user, when the desktop made them known.
	AgentID   string `json:"agentId,omitempty"`
	Extension string `json:"extension,omitempty"`
	Role      string `json:"role,omitempty"`

	// Source is who checked: SourceGadget (an agent's browser; the default when empty) or
	// SourceMonitor (the service's scheduled check).
	Source string `json:"source"`

	// Reason is set by the store, not by AddResults: the reason of the newest diagnosis of this
	// result (see ReasonOf), empty while there is none.
	Reason string `json:"reason,omitempty"`
}

// The sources of results.
const (
	SourceGadget  = "gadget"
	SourceMonitor = "monitor"
)

// Sources lists the sources in the order users see them.
var Sources = []string{SourceGadget, SourceMonitor}

// sourceOf is r's source, the gadget's when it names none.
func (r *Result) sourceOf() string {
	if r.Source == "" {
		return SourceGadget
	}
	return r.Source
}

// Cursor is a result's place in the newest-first order of Results.
type Cursor struct {
	ReceivedAt time.Time
	ID         int64
}

// IsZero reports whether c is the zero cursor, the start of the list.
func (c Cursor) IsZero() bool { return c.ID == 0 && c.ReceivedAt.IsZero() }

// Cursor is r's place in the newest-first order of Results.
func (r Result) Cursor() Cursor { return Cursor{ReceivedAt: r.ReceivedAt, ID: r.ID} }

// Diagnosis is the service's server-side check of a URL for an origin, stored next to the
// browser result it explains (ResultID 0 when it explains none).
type Diagnosis struct {
	ID              int64     `json:"id"`
	ResultID        int64     `json:"resultId,omitempty"`
	CreatedAt       time.Time `json:"createdAt"`
	URL             string    `json:"url"`
	Origin          string    `json:"origin"`
	Kind            string    `json:"kind"`
	Node            string    `json:"node"`
	Verdict         string    `json:"verdict"`
	Reason          string    `json:"reason,omitempty"` // the DevTools CorsError name
	FailedParameter string    `json:"failedParameter,omitempty"`
	NetworkClass    string    `json:"networkClass,omitempty"`
	Report          []byte    `json:"-"` // the probe's report as JSON
}

// Filter selects results, newest first. Zero fields do not filter. Pagination is by keyset:
// Before, the cursor of the last result of a page, selects the results after it.
type Filter struct {
	Since, Until time.Time // ReceivedAt in [Since, Until), to the microsecond
	Node         string
	PageOrigin   string
	TargetKind   string
	Verdict      string
	AgentID      string
	Reason       string // see Result.Reason
	Source       string // see Result.Source
	Before       Cursor
	Limit        int // default 100, at most 1000
}

// Store is where results and diagnoses live. Times are kept to the microsecond and read back
// in UTC; empty HeaderNames read back as an empty, non-nil slice and an empty Report as nil.
type Store interface {
	// AddResults stores the results in one transaction and returns their ids, in order, once
	// it has committed. ReceivedAt must be set.
	AddResults(ctx context.Context, rs []Result) ([]int64, error)
	// AddDiagnosis stores a diagnosis once committed and returns its id; a diagnosis of a
	// result also sets that result's Reason.
	AddDiagnosis(ctx context.Context, d Diagnosis) (int64, error)
	// Results lists results matching f, newest first: by ReceivedAt, then by id.
	Results(ctx context.Context, f Filter) ([]Result, error)
	// Result returns one result; ErrNotFound when there is none.
	Result(ctx context.Context, id int64) (Result, error)
	// Diagnoses returns the diagnoses of a result, newest first.
	Diagnoses(ctx context.Context, resultID int64) ([]Diagnosis, error)
	// CountResults counts the results matching f (Limit and Before ignored).
	CountResults(ctx context.Context, f Filter) (int64, error)
	// CountResultsUpTo is CountResults that stops at upTo: a page can say "10,000 or more"
	// at the cost of reading 10,000 index entries, however many results there are.
	CountResultsUpTo(ctx context.Context, f Filter, upTo int64) (int64, error)
	// Summary returns the dashboard's figures for the hours from since on, counted in periods
	// of step (a whole number of hours; periods start at multiples of step since the Unix
	// epoch, so a day is a UTC day), of the results of one source ("" for all). Its cost
	// depends on the number of nodes, origins and periods, not on the number of results.
	Summary(ctx context.Context, since time.Time, step time.Duration, source string) (Summary, error)
	// DeleteBefore removes results (and their diagnoses) received before t; retention.
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)
	// InitSetting stores value under key unless the key already has one, and returns the value
	// that is stored now: the first instance to start decides, the others agree.
	InitSetting(ctx context.Context, key, value string) (string, error)
	// PutSetting stores value under key, replacing any value.
	PutSetting(ctx context.Context, key, value string) error
	// Setting returns the value under key; ErrNotFound when there is none.
	Setting(ctx context.Context, key string) (string, error)
	// SettingVersion returns a number that changes whenever PutSetting replaces the value
	// under key (instances poll it to notice a change); ErrNotFound when there is none.
	SettingVersion(ctx context.Context, key string) (int64, error)
	// AddSession stores an admin session by the hash of its token, and removes the sessions
	// that expired by now.
	AddSession(ctx context.Context, hash string, expires, now time.Time) error
	// SessionExpires returns when the session with this hash expires; ErrNotFound when there
	// is none.
	SessionExpires(ctx context.Context, hash string) (time.Time, error)
	// DeleteSession removes a session (signing out); removing one that is gone is no error.
	DeleteSession(ctx context.Context, hash string) error
	// AddAPIToken stores a token (ID and LastUsedAt are ignored) and returns its id.
	AddAPIToken(ctx context.Context, t APIToken) (int64, error)
	// APITokens lists the tokens, oldest first.
	APITokens(ctx context.Context) ([]APIToken, error)
	// APIToken returns one token; ErrNotFound when there is none.
	APIToken(ctx context.Context, id int64) (APIToken, error)
	// UseAPIToken records when a token was last used.
	UseAPIToken(ctx context.Context, id int64, at time.Time) error
	// DeleteAPIToken revokes a token; ErrNotFound when there is none.
	DeleteAPIToken(ctx context.Context, id int64) error
	// Monitor is where the scheduled checks keep incidents, the alert outbox and their lease
	// (see monitor.go).
	Monitor
	// AddCase keeps an explained recording (see Case) and returns its id.
	AddCase(ctx context.Context, c Case) (int64, error)
	// Cases lists the newest cases, at most limit (default 100), without their findings.
	Cases(ctx context.Context, limit int) ([]Case, error)
	// Case returns one case with its findings; ErrNotFound when there is none.
	Case(ctx context.Context, id int64) (Case, error)
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close drains queued writes, then closes the database.
	Close() error
}

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// ErrClosed is returned by writes that arrive after Close.
var ErrClosed = errors.New("store closed")
