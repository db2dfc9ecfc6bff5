package httpapi

import (
	"context"
	"net/http"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/campaign"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/schedule"
	"github.com/redlane/redlane/service"
)

type scheduleRequest struct {
	ID          string         `json:"id"`
	Lane        string         `json:"lane"`
	Category    string         `json:"category"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Requester   requesterView  `json:"requester"`
	Priority    order.Priority `json:"priority"`
	Every       schedule.Every `json:"every"`
	Weekday     int            `json:"weekday"`
	Day         int            `json:"day"`
	At          string         `json:"at"`
	From        string         `json:"from"`
	Until       string         `json:"until"`
	Theme       string         `json:"theme"`
}

func (a *API) defineSchedule(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	var req scheduleRequest
	if err == nil {
		err = readBody(w, r, &req)
	}
	var st schedule.State
	if err == nil {
		st, err = a.svc.DefineSchedule(r.Context(), a.meta(r, actor), req.ID, schedule.Define{
			Lane: req.Lane, Category: req.Category, Title: req.Title, Description: req.Description,
			Requester: order.Requester{Name: req.Requester.Name, Phone: req.Requester.Phone}, Priority: req.Priority,
			Every: req.Every, Weekday: req.Weekday, Day: req.Day, At: req.At, From: req.From, Until: req.Until, Theme: req.Theme,
		})
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a.scheduleView(r.Context(), st, actor))
}

// scheduleView opens the requester and masks the phone for all but the lane's stewards.
func (a *API) scheduleView(ctx context.Context, s schedule.State, actor domain.Actor) schedule.State {
	req, erased, err := a.svc.ScheduleRequester(ctx, s)
	if err != nil {
		a.log.Error("open a schedule's requester", "schedule", s.ID, "err", err)
		req, erased = service.Erased, true
	}
	if !actor.StewardOf(s.Lane) && !erased {
		req.Phone = order.MaskPhone(req.Phone)
	}
	s.Requester, s.Sealed = req, nil
	return s
}

type eraseRequest struct {
	Phone  string `json:"phone"`
	Member string `json:"member"`
}

// erase forgets a resident by their phone, or a member's phone by the member's id
// (crypto-shredding): admin only.
func (a *API) erase(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	var req eraseRequest
	if err == nil {
		err = forbidUnless(actor.Role == domain.RoleAdmin, domain.CodeAdminOnly, "only an admin erases a resident")
	}
	if err == nil {
		err = readBody(w, r, &req)
	}
	var resident string
	switch {
	case err != nil:
	case req.Member != "" && req.Phone != "":
		err = domain.Invalid("member", "give a phone or a member, not both")
	case req.Member != "":
		resident, err = a.svc.EraseMemberPhone(r.Context(), actor, req.Member)
	default:
		resident, err = a.svc.EraseResident(r.Context(), actor, req.Phone)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"resident": resident, "status": "erased"})
}

func (a *API) listSchedules(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items := []schedule.State{}
	for _, s := range a.svc.Dir.Schedules() {
		// A schedule names its resident as an order does: list it only to those who may
		// read its lane's orders.
		l, _ := a.svc.Dir.Lane(s.Lane)
		if !a.mayRead(actor, order.State{Lane: s.Lane, Community: l.Community}) {
			continue
		}
		items = append(items, a.scheduleView(r.Context(), s, actor))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (a *API) cancelSchedule(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	var body struct {
		Reason string `json:"reason"`
	}
	if err == nil {
		err = readBody(w, r, &body)
	}
	if err == nil {
		err = a.svc.CancelSchedule(r.Context(), a.meta(r, actor), r.PathValue("id"), body.Reason)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type campaignRequest struct {
	ID         string   `json:"id"`
	Theme      string   `json:"theme"`
	Community  string   `json:"community"`
	From       string   `json:"from"`
	Until      string   `json:"until"`
	Categories []string `json:"categories"`
}

func (a *API) launchCampaign(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	var req campaignRequest
	if err == nil {
		err = readBody(w, r, &req)
	}
	var st campaign.State
	if err == nil {
		st, err = a.svc.LaunchCampaign(r.Context(), a.meta(r, actor), req.ID, campaign.Launch{
			Theme: req.Theme, Community: req.Community, From: req.From, Until: req.Until, Categories: req.Categories,
		})
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, st)
}

func (a *API) listCampaigns(w http.ResponseWriter, r *http.Request) {
	if _, err := a.actor(r); err != nil {
		a.fail(w, r, err)
		return
	}
	items := a.svc.Dir.Campaigns()
	if items == nil {
		items = []campaign.State{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (a *API) endCampaign(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	var body struct {
		Reason string `json:"reason"`
	}
	if err == nil {
		err = readBody(w, r, &body)
	}
	if err == nil {
		err = a.svc.EndCampaign(r.Context(), a.meta(r, actor), r.PathValue("id"), body.Reason)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
