package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Monitor is what the scheduled checks keep besides their results: incidents, the outbox of
// their alerts, and the lease that lets one instance at a time run the schedule. Times are kept
// to the microsecond and read back in UTC.
type Monitor interface {
	// OpenIncident stores a new open incident and queues its opening for every receiver, in
	// one transaction, and returns its id. ErrConflict when its key (kind, node, origin, URL)
	// has an open incident already.
	OpenIncident(ctx context.Context, in Incident, receivers []AlertReceiver) (int64, error)
	// CloseIncident closes an open incident and queues its closing for every receiver, in one
	// transaction. ErrNotFound when there is no such open incident.
	CloseIncident(ctx context.Context, id int64, c Closing, receivers []AlertReceiver) error
	// Incident returns one incident; ErrNotFound when there is none.
	Incident(ctx context.Context, id int64) (Incident, error)
	// Incidents lists incidents matching f, newest first.
	Incidents(ctx context.Context, f IncidentFilter) ([]Incident, error)
	// DueDeliveries returns up to limit deliveries that are neither made nor given up and
	// whose time has come by now, soonest first, each with its incident.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// RecordAttempt records one attempt of a delivery. ErrNotFound when there is none.
	RecordAttempt(ctx context.Context, id int64, a Attempt) error
	// Deliveries lists deliveries, newest first: those of one incident, or of all.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// AcquireLease takes the named lease for holder for ttl if it is free or expired, or
	// renews it if holder has it, and reports whether holder has it now. Expiry is judged by
	// the database's clock, so the instances' clocks need not agree.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// ErrConflict is returned when a write would break a rule another record already holds.
var ErrConflict = errors.New("conflict")

// Incident is a monitored key (target kind, node, Finesse origin, URL) whose verdict changed and
// stayed changed: open from OpenedAt until ClosedAt.
type Incident struct {
	ID       int64
	Kind     string
	Node     string
	Origin   string
	Endpoint string // the endpoint's name in the catalogue
	URL      string
	From, To string // the verdicts of the change; From is empty when there was none before
	// The diagnosis of the check that confirmed it: the DevTools reason (or network class),
	// its explanation, the console line and the fixes (JSON, as the fix package writes them).
	Reason      string
	Explanation string
	Console     string
	Fixes       []byte
	OpenedAt    time.Time
	ResultID    int64 // that check's result; retention may have removed it since
	// Zero while open.
	ClosedAt      time.Time
	ClosedTo      string // the verdict that closed it
	ClosedBecause string // ClosedRecovered, ClosedChanged or ClosedUnwatched
	CloseResultID int64
}

// IsOpen reports whether the incident is still open.
func (in Incident) IsOpen() bool { return in.ClosedAt.IsZero() }

// Why an incident closes.
const (
	ClosedRecovered = "recovered" // the origin is allowed again
	ClosedChanged   = "changed"   // it fails in another way now, which opens another incident
	ClosedUnwatched = "unwatched" // the node, origin or endpoint left the configuration
)

// Closing is how an incident closes.
type Closing struct {
	At       time.Time
	To       string // the verdict now
	Because  string // ClosedRecovered, ClosedChanged or ClosedUnwatched
	ResultID int64
}

// IncidentFilter selects incidents. Zero fields do not filter.
type IncidentFilter struct {
	State  string // IncidentOpen or IncidentClosed
	Before int64  // ids below this one: the page after the incident with this id
	Limit  int    // default 50, at most 500
}

// Incident states for IncidentFilter.
const (
	IncidentOpen   = "open"
	IncidentClosed = "closed"
)

// AlertReceiver is where a delivery goes: the receiver's stable ID, and its name for people.
type AlertReceiver struct{ ID, Name string }

// The events a delivery carries.
const (
	EventOpened = "incident.opened"
	EventClosed = "incident.closed"
)

// Delivery is one event of one incident for one receiver: a row of the outbox.
type Delivery struct {
	ID           int64
	IncidentID   int64
	Event        string // EventOpened or EventClosed
	Receiver     string // AlertReceiver.ID
	ReceiverName string
	CreatedAt    time.Time
	Attempts     int
	NextAt       time.Time // when it is tried next
	LastError    string
	DeliveredAt  time.Time // zero until delivered
	GaveUpAt     time.Time // zero unless given up
	Incident     Incident  // set by DueDeliveries
}

// Attempt is the outcome of one try of a delivery.
type Attempt struct {
	At     time.Time
	Err    string    // empty when the receiver took it
	Next   time.Time // after a failure: when to try again
	GiveUp bool      // after a failure: try no more
}

// DeliveryFilter selects deliveries: of one incident (IncidentID), or the newest of all.
type DeliveryFilter struct {
	IncidentID int64
	Limit      int // default 50, at most 500
}

func pageLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}

const incidentColumns = `id, kind, node, origin, endpoint, url, from_verdict, to_verdict, reason, explanation,
	console, fixes, opened_at, result_id, closed_at, closed_to, closed_because, close_result_id`

const deliveryColumns = `id, incident_id, event, receiver, receiver_name, created_at, attempts, next_at, last_error,
	delivered_at, gave_up_at`

const (
	openIncidentOfKeySQL = `SELECT id FROM incidents WHERE kind = $1 AND node = $2 AND origin = $3 AND url = $4 AND closed_at = 0`
	insertIncidentSQL    = `INSERT INTO incidents (kind, node, origin, endpoint, url, from_verdict, to_verdict, reason,
		explanation, console, fixes, opened_at, result_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		RETURNING id`
	closeIncidentSQL = `UPDATE incidents SET closed_at = $2, closed_to = $3, closed_because = $4, close_result_id = $5
		WHERE id = $1 AND closed_at = 0`
	insertDeliverySQL = `INSERT INTO alert_deliveries (incident_id, event, receiver, receiver_name, created_at, next_at)
		VALUES ($1, $2, $3, $4, $5, $5)`
	dueDeliveriesSQL = `SELECT d.id, d.incident_id, d.event, d.receiver, d.receiver_name, d.created_at, d.attempts, d.next_at,
		d.last_error, d.delivered_at, d.gave_up_at, i.id, i.kind, i.node, i.origin, i.endpoint, i.url, i.from_verdict,
		i.to_verdict, i.reason, i.explanation, i.console, i.fixes, i.opened_at, i.result_id, i.closed_at, i.closed_to,
		i.closed_because, i.close_result_id
		FROM alert_deliveries d JOIN incidents i ON i.id = d.incident_id
		WHERE d.delivered_at = 0 AND d.gave_up_at = 0 AND d.next_at <= $1 ORDER BY d.next_at, d.id LIMIT $2`
	deliveredSQL = `UPDATE alert_deliveries SET attempts = attempts + 1, delivered_at = $2, last_error = '' WHERE id = $1`
	failedSQL    = `UPDATE alert_deliveries SET attempts = attempts + 1, last_error = $2, next_at = $3, gave_up_at = $4
		WHERE id = $1`
	// leaseSQL's NOW is the database's clock in Unix microseconds (sqlDB.clock).
	leaseSQL = `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, NOW + $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= NOW
		RETURNING holder`
	releaseLeaseSQL = `DELETE FROM leases WHERE name = $1 AND holder = $2`
)

// micros stores a time as Unix microseconds, the zero time as 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicrosOrZero reads micros back.
func fromMicrosOrZero(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

func (a portable) OpenIncident(ctx context.Context, in Incident, receivers []AlertReceiver) (int64, error) {
	if in.Kind == "" || in.Node == "" || in.Origin == "" || in.URL == "" || in.To == "" || in.OpenedAt.IsZero() {
		return 0, errors.New("store: an incident needs a kind, node, origin, URL, verdict and opening time")
	}
	fixes := in.Fixes
	if len(fixes) == 0 {
		fixes = []byte("[]")
	}
	var id int64
	err := a.db.tx(ctx, func(db sqlDB) error {
		var open int64
		switch err := db.queryRow(ctx, openIncidentOfKeySQL, in.Kind, in.Node, in.Origin, in.URL).Scan(&open); {
		case err == nil:
			return fmt.Errorf("%w: incident %d of %s %s for %s is open", ErrConflict, open, in.Kind, in.URL, in.Origin)
		case !errors.Is(err, ErrNotFound):
			return err
		}
		var err error
		id, err = db.insert(ctx, insertIncidentSQL, in.Kind, in.Node, in.Origin, in.Endpoint, in.URL, in.From, in.To,
			in.Reason, in.Explanation, in.Console, string(fixes), micros(in.OpenedAt), in.ResultID)
		if err != nil {
			return err
		}
		return queueDeliveries(ctx, db, id, EventOpened, in.OpenedAt, receivers)
	})
	return id, err
}

func (a portable) CloseIncident(ctx context.Context, id int64, c Closing, receivers []AlertReceiver) error {
	if c.At.IsZero() || c.To == "" || c.Because == "" {
		return errors.New("store: closing an incident needs a time, a verdict and a reason")
	}
	return a.db.tx(ctx, func(db sqlDB) error {
		n, err := db.exec(ctx, closeIncidentSQL, id, micros(c.At), c.To, c.Because, c.ResultID)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: no open incident %d", ErrNotFound, id)
		}
		return queueDeliveries(ctx, db, id, EventClosed, c.At, receivers)
	})
}

func queueDeliveries(ctx context.Context, db sqlDB, incident int64, event string, at time.Time, receivers []AlertReceiver) error {
	for _, r := range receivers {
		if _, err := db.exec(ctx, insertDeliverySQL, incident, event, r.ID, r.Name, micros(at)); err != nil {
			return err
		}
	}
	return nil
}

func scanIncident(row scanner) (Incident, error) {
	var in Incident
	var fixes string
	var opened, closed int64
	if err := row.Scan(&in.ID, &in.Kind, &in.Node, &in.Origin, &in.Endpoint, &in.URL, &in.From, &in.To, &in.Reason,
		&in.Explanation, &in.Console, &fixes, &opened, &in.ResultID, &closed, &in.ClosedTo, &in.ClosedBecause,
		&in.CloseResultID); err != nil {
		return Incident{}, err
	}
	in.Fixes, in.OpenedAt, in.ClosedAt = []byte(fixes), fromMicros(opened), fromMicrosOrZero(closed)
	return in, nil
}

func (a portable) Incident(ctx context.Context, id int64) (Incident, error) {
	return scanIncident(a.db.queryRow(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE id = $1", id))
}

func (a portable) Incidents(ctx context.Context, f IncidentFilter) ([]Incident, error) {
	var conds []string
	var args []any
	switch f.State {
	case IncidentOpen:
		conds = append(conds, "closed_at = 0")
	case IncidentClosed:
		conds = append(conds, "closed_at <> 0")
	case "":
	default:
		return nil, fmt.Errorf("store: incident state %q is not open or closed", f.State)
	}
	if f.Before > 0 {
		args = append(args, f.Before)
		conds = append(conds, fmt.Sprintf("id < $%d", len(args)))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	rs, done, err := a.db.query(ctx, fmt.Sprintf("SELECT %s FROM incidents%s ORDER BY id DESC LIMIT %d",
		incidentColumns, where, pageLimit(f.Limit)), args...)
	if err != nil {
		return nil, err
	}
	defer done()
	return collect(rs, scanIncident, 16)
}

func scanDelivery(row scanner, withIncident bool) (Delivery, error) {
	var d Delivery
	var created, next, delivered, gaveUp int64
	dest := []any{&d.ID, &d.IncidentID, &d.Event, &d.Receiver, &d.ReceiverName, &created, &d.Attempts, &next,
		&d.LastError, &delivered, &gaveUp}
	var in Incident
	var fixes string
	var opened, closed int64
	if withIncident {
		dest = append(dest, &in.ID, &in.Kind, &in.Node, &in.Origin, &in.Endpoint, &in.URL, &in.From, &in.To, &in.Reason,
			&in.Explanation, &in.Console, &fixes, &opened, &in.ResultID, &closed, &in.ClosedTo, &in.ClosedBecause,
			&in.CloseResultID)
	}
	if err := row.Scan(dest...); err != nil {
		return Delivery{}, err
	}
	d.CreatedAt, d.NextAt = fromMicros(created), fromMicros(next)
	d.DeliveredAt, d.GaveUpAt = fromMicrosOrZero(delivered), fromMicrosOrZero(gaveUp)
	if withIncident {
		in.Fixes, in.OpenedAt, in.ClosedAt = []byte(fixes), fromMicros(opened), fromMicrosOrZero(closed)
		d.Incident = in
	}
	return d, nil
}

func (a portable) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	rs, done, err := a.db.query(ctx, dueDeliveriesSQL, micros(now), pageLimit(limit))
	if err != nil {
		return nil, err
	}
	defer done()
	return collect(rs, func(r scanner) (Delivery, error) { return scanDelivery(r, true) }, 8)
}

func (a portable) RecordAttempt(ctx context.Context, id int64, at Attempt) error {
	var n int64
	var err error
	if at.Err == "" {
		n, err = a.db.exec(ctx, deliveredSQL, id, micros(at.At))
	} else {
		gaveUp := time.Time{}
		if at.GiveUp {
			gaveUp = at.At
		}
		n, err = a.db.exec(ctx, failedSQL, id, at.Err, micros(at.Next), micros(gaveUp))
	}
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

func (a portable) Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	query, args := "SELECT "+deliveryColumns+" FROM alert_deliveries", []any{}
	if f.IncidentID > 0 {
		query, args = query+" WHERE incident_id = $1", append(args, f.IncidentID)
	}
	rs, done, err := a.db.query(ctx, fmt.Sprintf("%s ORDER BY id DESC LIMIT %d", query, pageLimit(f.Limit)), args...)
	if err != nil {
		return nil, err
	}
	defer done()
	return collect(rs, func(r scanner) (Delivery, error) { return scanDelivery(r, false) }, 8)
}

func (a portable) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, errors.New("store: a lease needs a name, a holder and a positive time to live")
	}
	held := false
	err := a.db.tx(ctx, func(db sqlDB) error {
		var got string
		err := db.queryRow(ctx, strings.ReplaceAll(leaseSQL, "NOW", db.clock()), name, holder, ttl.Microseconds()).Scan(&got)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil // another holder's lease has not expired
		case err != nil:
			return err
		}
		held = got == holder
		return nil
	})
	return held, err
}

func (a portable) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := a.db.exec(ctx, releaseLeaseSQL, name, holder)
	return err
}

// The databases' clocks in Unix microseconds, for leases.
const (
	sqliteClock   = `CAST(unixepoch('subsec') * 1000000 AS INTEGER)`
	postgresClock = `CAST(extract(epoch FROM clock_timestamp()) * 1000000 AS bigint)`
)

func (d sqliteDB) clock() string { return sqliteClock }
func (d pgDB) clock() string     { return postgresClock }

// tx runs fn in one transaction on the writer connection.
func (d sqliteDB) tx(ctx context.Context, fn func(sqlDB) error) error {
	db, ok := d.writer.(*sql.DB)
	if !ok {
		return errors.New("store: a transaction inside a transaction")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(sqliteDB{writer: tx, readers: tx}); err != nil {
		return err
	}
	return tx.Commit()
}

// tx runs fn in one transaction (a savepoint inside one).
func (d pgDB) tx(ctx context.Context, fn func(sqlDB) error) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error { return fn(pgDB{tx}) })
}
