package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/web"
)

// incidentsPage is how many closed incidents a page lists; every open one is listed.
const incidentsPage = 50

// incidents answers GET /admin/incidents[?before=<id>]: the open incidents, then the newest
// closed ones, a page at a time.
func (h *handler) incidents(w http.ResponseWriter, r *http.Request) {
	var before int64
	if b := r.URL.Query().Get("before"); b != "" {
		var err error
		if before, err = strconv.ParseInt(b, 10, 64); err != nil || before <= 0 {
			h.errorPage(w, r, http.StatusBadRequest, "The page start "+strconv.Quote(b)+" must be an incident number.")
			return
		}
	}
	ctx := r.Context()
	v := web.IncidentsView{Nav: web.Nav{SignedIn: true, Current: "incidents"}, Monitoring: h.monitoring}
	open, err := h.allOpenIncidents(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	now := h.now()
	for _, in := range open {
		v.Open = append(v.Open, incidentRow(in, now))
	}
	closed, err := h.store.Incidents(ctx, store.IncidentFilter{State: store.IncidentClosed, Before: before, Limit: incidentsPage})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, in := range closed {
		v.Closed = append(v.Closed, incidentRow(in, now))
	}
	if len(closed) == incidentsPage {
		v.OlderURL = "/admin/incidents?before=" + strconv.FormatInt(closed[len(closed)-1].ID, 10)
	}
	h.render(w, r, http.StatusOK, web.IncidentsPage(v))
}

// maxOpenShown bounds the open incidents a page lists (a whole data centre down is still one
// screen of them, newest first).
const maxOpenShown = 500

func (h *handler) allOpenIncidents(r *http.Request) ([]store.Incident, error) {
	return h.store.Incidents(r.Context(), store.IncidentFilter{State: store.IncidentOpen, Limit: maxOpenShown})
}

// incident answers GET /admin/incidents/<id>.
func (h *handler) incident(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, http.StatusNotFound, "There is no such incident.")
		return
	}
	ctx := r.Context()
	in, err := h.store.Incident(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "There is no such incident.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	deliveries, err := h.store.Deliveries(ctx, store.DeliveryFilter{IncidentID: id})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	v := web.IncidentView{Nav: web.Nav{SignedIn: true, Current: "incidents"}, Incident: incidentRow(in, h.now()),
		URL: in.URL, Explanation: in.Explanation, Console: in.Console}
	var fixes []fix.Fix
	if json.Unmarshal(in.Fixes, &fixes) == nil {
		v.Fixes = fixViews(fixes)
	}
	if _, err := h.store.Result(ctx, in.ResultID); err == nil {
		v.EvidenceURL = "/admin/results/" + strconv.FormatInt(in.ResultID, 10)
	}
	if in.CloseResultID > 0 {
		if _, err := h.store.Result(ctx, in.CloseResultID); err == nil {
			v.CloseURL = "/admin/results/" + strconv.FormatInt(in.CloseResultID, 10)
		}
	}
	for i := len(deliveries) - 1; i >= 0; i-- { // in the order they were queued
		v.Deliveries = append(v.Deliveries, deliveryRow(deliveries[i]))
	}
	h.render(w, r, http.StatusOK, web.IncidentPage(v))
}

// incidentRow shows an incident in a list.
func incidentRow(in store.Incident, now time.Time) web.IncidentRow {
	from := in.From
	if from == "" {
		from = "first check"
	}
	row := web.IncidentRow{
		ID: in.ID, URL: "/admin/incidents/" + strconv.FormatInt(in.ID, 10), Node: in.Node, Kind: in.Kind,
		Origin: in.Origin, Endpoint: in.Endpoint, Change: from + " → " + in.To, To: in.To, Reason: in.Reason,
		Opened: in.OpenedAt.UTC().Format(shownTime),
	}
	end := now
	if !in.IsOpen() {
		end = in.ClosedAt
		row.Closed, row.Because = in.ClosedAt.UTC().Format(shownTime), in.ClosedBecause
	}
	row.Duration = lasted(end.Sub(in.OpenedAt))
	return row
}

// lasted is a duration as people say it: "3 min", "2 h 5 min", "4 days".
func lasted(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h " + strconv.Itoa(int(d%time.Hour/time.Minute)) + " min"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days"
}

// deliveryRow shows one alert's delivery.
func deliveryRow(d store.Delivery) web.DeliveryRow {
	row := web.DeliveryRow{Event: d.Event, Receiver: d.ReceiverName, Attempts: strconv.Itoa(d.Attempts), Error: d.LastError}
	switch {
	case !d.DeliveredAt.IsZero():
		row.State, row.When = "delivered", d.DeliveredAt.UTC().Format(shownTime)
	case !d.GaveUpAt.IsZero():
		row.State, row.When = "gave up", d.GaveUpAt.UTC().Format(shownTime)
	case d.Attempts == 0:
		row.State, row.When = "queued", d.NextAt.UTC().Format(shownTime)
	default:
		row.State, row.When = "retrying", "next at "+d.NextAt.UTC().Format(shownTime)
	}
	return row
}
