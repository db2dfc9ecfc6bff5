package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/query"
)

// auditRoutes are the auditor's routes.
func (a *API) auditRoutes() []Route {
	return []Route{
		{"GET /api/v1/audit/orders/{id}", a.auditOrder},
	}
}

// auditStory is the reply of GET /api/v1/audit/orders/{id}.
type auditStory struct {
	Order  string             `json:"order"`
	AsOf   *time.Time         `json:"as_of"`  // null: now
	Seq    uint64             `json:"seq"`    // the last event folded into state; 0 when none
	State  *orderView         `json:"state"`  // null when the order did not exist yet
	Events []query.StoryEvent `json:"events"` // up to as_of, in order
	Later  int                `json:"later"`  // events after as_of, not shown
}

// auditOrder serves an order's whole story, and its state as of a moment: for auditors
// and the stewards of the order's lane. The requester's phone is masked, in the state
// and in the events' data, for everyone but the lane's stewards, as everywhere.
//
//	GET /api/v1/audit/orders/{id}?as_of=2026-11-27T14:00:00+08:00&format=json|csv
//
// as_of takes RFC 3339, or "2026-11-27 14:00" (and with seconds) in Asia/Shanghai. The
// state is the fold of the order's events up to the first stamped after as_of.
func (a *API) auditOrder(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	var asOf *time.Time
	if s := q.Get("as_of"); s != "" {
		t, err := query.ParseTime(s)
		if err != nil {
			a.fail(w, r, domain.Invalid("as_of", `must be RFC 3339 (2026-11-27T06:00:00Z) or "2026-11-27 14:00" in Asia/Shanghai`))
			return
		}
		asOf = &t
	}
	format := q.Get("format")
	if format == "" && strings.Contains(r.Header.Get("Accept"), "text/csv") {
		format = "csv"
	}
	if format != "" && format != "json" && format != "csv" {
		a.fail(w, r, domain.Invalid("format", "must be json or csv"))
		return
	}
	id := r.PathValue("id")
	snap, err := a.svc.Order(r.Context(), id)
	if err == nil {
		err = forbidUnless(actor.Role == domain.RoleAuditor || actor.StewardOf(snap.State.Lane),
			domain.CodeReadNotAllowed, "only auditors and the lane's stewards read an order's audit trail")
	}
	var recs []domain.Recorded
	if err == nil {
		recs, err = a.svc.History(r.Context(), id)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	upto := query.StoryUpTo(recs, asOf)
	story := auditStory{Order: id, AsOf: asOf, Later: len(recs) - upto}
	then, err := a.svc.Orders.Fold(domain.Snapshot[order.State]{ID: id}, recs[:upto])
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if then.Exists() {
		v, err := a.view(r.Context(), then, actor)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		story.State, story.Seq = &v, then.Seq
	}
	unmasked := actor.StewardOf(snap.State.Lane)
	story.Events = query.Story(recs[:upto], a.storyNames(snap.State.Lane, recs[:upto]), unmasked)
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="order-`+id+`.csv"`)
		w.WriteHeader(http.StatusOK)
		_ = query.WriteStoryCSV(w, story.Events)
		return
	}
	writeJSON(w, http.StatusOK, story)
}

// storyNames are the lane's, its places' and the members' names from the directory.
func (a *API) storyNames(laneID string, recs []domain.Recorded) query.StoryNames {
	names := query.StoryNames{Members: map[string]member.Profile{}}
	if l, ok := a.svc.Dir.Lane(laneID); ok {
		names.Lane, names.Place = l.ID, lane.Registered{Name: l.Name, Community: l.Community, Street: l.Street, Station: l.Station}
		names.CommunityName, _ = a.svc.Dir.CommunityName(l.Community)
		names.StreetName, _ = a.svc.Dir.StreetName(l.Street)
	}
	for _, id := range query.StoryMembers(recs) {
		if m, ok := a.svc.Dir.Member(id); ok {
			names.Members[id] = m.Profile
		}
	}
	return names
}
