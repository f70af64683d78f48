package alert

import (
	"fmt"
	"time"

	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// Schema names the version of Event's JSON form, which the generic webhook receives. Fields may
// be added within a version; none is removed or changes meaning.
const Schema = "corscheck.alert/v1"

// The events, as the outbox names them.
const (
	Opened = store.EventOpened
	Closed = store.EventClosed
)

// Event is one alert: an incident opened or closed. Its JSON form is what the generic webhook
// receives (docs/monitoring.md describes every field). It is the same on every attempt, so a
// receiver may compare deliveries byte for byte, or by IdempotencyKey.
type Event struct {
	Schema         string    `json:"schema"`
	IdempotencyKey string    `json:"idempotencyKey"`
	Event          string    `json:"event"`      // Opened or Closed
	OccurredAt     time.Time `json:"occurredAt"` // when the incident opened, or closed
	Incident       Incident  `json:"incident"`
}

// Incident is what an event says about its incident.
type Incident struct {
	ID       int64        `json:"id"`
	Node     string       `json:"node"`
	Origin   string       `json:"origin"`
	Kind     targets.Kind `json:"kind"`
	Endpoint string       `json:"endpoint"`
	URL      string       `json:"url"`
	// From and To are the change that opened the incident: the verdicts allowed, blocked or
	// unreachable; From is empty when the monitor had no verdict before (it had just started).
	From string `json:"from"`
	To   string `json:"to"`
	// Reason is the DevTools name of the CORS error, or the network class when unreachable.
	Reason      string    `json:"reason"`
	Explanation string    `json:"explanation,omitempty"`
	Console     string    `json:"console,omitempty"`
	Fixes       []fix.Fix `json:"fixes"`
	OpenedAt    time.Time `json:"openedAt"`
	ResultID    int64     `json:"resultId"` // the check that confirmed the change
	// Set in a Closed event: when, to which verdict (allowed on recovery, another failure when
	// it changed), why (recovered, changed, unwatched) and the check that showed it.
	ClosedAt      *time.Time `json:"closedAt,omitempty"`
	ClosedTo      string     `json:"closedTo,omitempty"`
	ClosedBecause string     `json:"closedBecause,omitempty"`
	CloseResultID int64      `json:"closeResultId,omitempty"`
	// Link opens the incident in the admin UI; empty without --public-url.
	Link string `json:"link,omitempty"`
	// Vantage says where the check ran: the service's own network, not the agents' browsers.
	Vantage string `json:"vantage"`
}

// VantageService is Incident.Vantage for the service's own checks.
const VantageService = "service"

// Key is the idempotency key of an event: stable for the incident and the event, and different
// for every database (install), so that two services alerting one receiver never collide.
func Key(install string, incident int64, event string) string {
	return fmt.Sprintf("corscheck-%s-incident-%d-%s", install, incident, shortEvent(event))
}

func shortEvent(event string) string {
	if event == Closed {
		return "closed"
	}
	return "opened"
}

// Title is the event in one line, e.g. "cuicsub.example.com: blocked (was allowed) for
// https://finessep.example.com:8445".
func (e Event) Title() string {
	in := e.Incident
	if e.Event == Closed {
		switch in.ClosedBecause {
		case "recovered":
			return fmt.Sprintf("Resolved: %s: %s again for %s", in.Node, in.ClosedTo, in.Origin)
		case "unwatched":
			return fmt.Sprintf("Closed: %s is no longer watched for %s", in.Node, in.Origin)
		}
		return fmt.Sprintf("Closed: %s: now %s for %s", in.Node, in.ClosedTo, in.Origin)
	}
	was := ""
	if in.From != "" {
		was = " (was " + in.From + ")"
	}
	return fmt.Sprintf("%s: %s%s for %s", in.Node, in.To, was, in.Origin)
}
