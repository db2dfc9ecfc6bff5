package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/projections/report"
	"github.com/redlane/redlane/query"
)

// itemView is a backlog item as a page shows it.
type itemView struct {
	ID, Number, Title    string
	Category             string
	Priority             string
	Urgent               bool
	Status, StatusCode   string
	Assignee             string // the member's name, "" for nobody
	AssigneeID           string
	Age                  string
	Overdue              bool
	Callback             bool         // completed long ago, awaiting a call-back for its rating
	Returned             bool         // handed back by its member: to dispatch again
	Description          string       // the request in the resident's words (task page)
	Answers              []answerView // the answers to the category's questions (task page)
	Resident, Phone      string       // whom to call, for the member who has the order (task page)
	Address              string       // where to go, when the resident gave it (task page)
	Tel                  template.URL // tel: and the phone's digits, built here from digits only
	Escalation           string       // 社区 or 街道 when escalated, else ""
	SentBack             bool         // sent back down to the lane by the office it was escalated to
	Theme                string
	AcceptBy, CompleteBy string
	Lane                 string // the lane's name
	CanDispatch          bool
}

func (h *handler) itemView(it query.Item, laneName string) itemView {
	v := itemView{
		ID: it.ID, Number: it.Number, Title: it.Title, Category: h.categoryName(it.Category),
		Priority: priorityName(it.Priority), Urgent: it.Priority == order.PriorityUrgent,
		Status: statusName(it.Status), StatusCode: string(it.Status), AssigneeID: it.Assignee,
		Age: age(time.Duration(it.AgeSeconds) * time.Second), Overdue: it.Overdue, Callback: it.Callback, Returned: it.Returned,
		AcceptBy: shanghai(it.AcceptBy), CompleteBy: shanghai(it.CompleteBy), Lane: laneName,
		CanDispatch: it.Status == order.StatusOpen, Theme: it.Theme,
	}
	if it.Assignee != "" {
		v.Assignee = h.memberName(it.Assignee)
	}
	if it.Escalation != "" && it.Escalation != order.LevelLane {
		v.Escalation = levelName(it.Escalation)
	} else {
		v.SentBack = it.SentBack
	}
	return v
}

func (h *handler) categoryName(code string) string {
	if c, ok := h.svc.Catalog().Lookup(code); ok {
		return c.Name
	}
	return code
}

func (h *handler) memberName(id string) string {
	if m, ok := h.svc.Dir.Member(id); ok && m.Name != "" {
		return m.Name
	}
	return id
}

// communityName is what the pages call a community: its registered name, else its id
// with 社区 as before places had names.
func (h *handler) communityName(id string) string {
	if name, ok := h.svc.Dir.CommunityName(id); ok {
		return name
	}
	return feed.CommunityByID(id)
}

func (h *handler) laneName(id string) string {
	if l, ok := h.svc.Dir.Lane(id); ok && l.Name != "" {
		return l.Name
	}
	return id
}

// rateView is one of the three rates.
type rateView struct {
	Label  string
	Text   string  // 86% or —
	Value  float64 // 0..1 for the meter
	Has    bool
	Hits   int
	Sample int
}

// ratesView are a community's three rates for the month.
type ratesView struct {
	Community     string
	CommunityName string
	Period        string
	Orders        int
	Rates         []rateView
}

func (h *handler) rates(ctx context.Context, community, period string) (ratesView, error) {
	rv := ratesView{Community: community, CommunityName: h.communityName(community), Period: period}
	rep, err := h.monthReport(ctx, community, period)
	if err != nil {
		return rv, err
	}
	mk := func(label string, r *float64, hits, sample int) rateView {
		v := rateView{Label: label, Text: percent(r), Hits: hits, Sample: sample, Has: r != nil}
		if r != nil {
			v.Value = *r
		}
		return v
	}
	if rep == nil {
		rep = &report.Report{}
	}
	rv.Orders = rep.Orders
	rv.Rates = []rateView{
		mk("响应率", rep.ResponseRate, rep.Responded, rep.ResponseSample),
		mk("解决率", rep.ResolutionRate, rep.Solved, rep.RatingSample),
		mk("满意率", rep.SatisfactionRate, rep.Satisfied, rep.RatingSample),
	}
	return rv, nil
}

// laneView is one lane on the board.
type laneView struct {
	ID, Name, Community string
	CommunityName       string // what the page shows: the name, never the bare id
	Counts              query.Counts
	Items               []itemView
	Rates               ratesView
	Filters             []filterView // the lists and orders a steward may switch to
	Focused             bool         // the board shows this lane alone, filtered or paged
	Next                string       // the next page's address, "" on the last
	Paged               bool         // this is not the first page
	Shown               string       // what the list shows, in words
}

// filterView is one link of a lane's filter bar.
type filterView struct {
	Label, Href string
	Class       string // c-open, c-dispatched, … c-overdue
	Count       int
	HasCount    bool
	On          bool
	Hot         bool
}

// boardData is the board's live part.
type boardData struct {
	Lanes []laneView
	Seq   uint64 // the backlog's position when read: the live stream resumes after it
	AsOf  string
	Query string // the board's parameters, for its live fragment
}

type boardPage struct {
	base
	Board   boardData
	LiveSrc string
}

// Page sizes of the board: each lane's first screen, and a lane shown alone.
const (
	boardFirst    = 20
	boardPageSize = 50
)

// boardData cuts the board: each of the steward's lanes with its first screen of orders,
// most urgent first; or, with ?lane=, that lane alone, filtered, sorted and paged as the
// parameters say (status, overdue, category, assignee, sort, cursor).
func (h *handler) boardData(ctx context.Context, s session, params url.Values) (boardData, error) {
	now := h.svc.Now()
	period := projections.Period(now)
	d := boardData{Seq: h.backlogSeq(), AsOf: shanghaiSeconds(now), Query: boardParams(params).Encode()}
	lanes := s.Actor.Lanes
	focus := params.Get("lane")
	if focus != "" {
		if !s.Actor.StewardOf(focus) {
			return d, domain.Refuse(domain.KindForbidden, domain.CodeReadNotAllowed, "only the lane's stewards read its backlog")
		}
		lanes = []string{focus}
	}
	rates := map[string]ratesView{}
	for _, id := range lanes {
		l, _ := h.svc.Dir.Lane(id)
		lv := laneView{ID: id, Name: nameOr(l.Name, id), Community: l.Community, CommunityName: h.communityName(l.Community), Focused: focus != ""}
		var q query.BacklogQuery
		var err error
		if lv.Focused {
			q, err = query.ParseBacklogQuery(params, id, now)
			if err != nil {
				return d, err
			}
			if params.Get("limit") == "" {
				q.Limit = boardPageSize
			}
		} else {
			q = query.BacklogQuery{Lane: id, Sort: query.SortUrgency, Limit: boardFirst, Now: now}
		}
		page, err := h.index.Backlog(q)
		if err != nil {
			return d, err
		}
		lv.Counts, lv.Paged = page.Counts, q.Cursor != ""
		for _, it := range page.Items {
			lv.Items = append(lv.Items, h.itemView(it, lv.Name))
		}
		lv.Filters, lv.Shown = laneFilters(id, q, page.Counts, lv.Focused)
		if page.Next != "" {
			next := boardParams(params)
			next.Set("lane", id)
			next.Set("cursor", page.Next)
			lv.Next = "/board?" + next.Encode()
		}
		if lv.Community != "" {
			rv, ok := rates[lv.Community]
			if !ok {
				if rv, err = h.rates(ctx, lv.Community, period); err != nil {
					return d, err
				}
				rates[lv.Community] = rv
			}
			lv.Rates = rv
		}
		d.Lanes = append(d.Lanes, lv)
	}
	return d, nil
}

// boardParams keeps the board's own parameters of a request.
func boardParams(in url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"lane", "status", "overdue", "category", "assignee", "sort", "cursor", "limit"} {
		if v := in.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// laneFilters makes a lane's filter bar: its lists with their counts, "overdue only" and
// the two sorts; and says in words what the list shows.
func laneFilters(lane string, q query.BacklogQuery, c query.Counts, focused bool) ([]filterView, string) {
	link := func(status string, overdue bool, sort string) string {
		v := url.Values{"lane": {lane}}
		if status != "" {
			v.Set("status", status)
		}
		if overdue {
			v.Set("overdue", "true")
		}
		if sort != "" && sort != query.SortUrgency {
			v.Set("sort", sort)
		}
		return "/board?" + v.Encode()
	}
	status, sort := q.Status, q.Sort
	lists := []struct {
		label, status string
		n             int
	}{
		{"全部在办", "", c.Live - c.Callback},
		{"待派单", string(order.StatusOpen), c.Open},
		{"已派单", string(order.StatusDispatched), c.Dispatched},
		{"办理中", string(order.StatusAccepted), c.Accepted},
		{"待评价", string(order.StatusCompleted), c.Completed},
		{"待回访", query.StatusCallback, c.Callback},
	}
	class := func(status string) string {
		if status == "" {
			return "c-live"
		}
		return "c-" + status
	}
	var out []filterView
	shown := "全部在办"
	for _, l := range lists {
		on := focused && status == l.status && !q.Overdue
		if !focused && l.status == "" {
			on = true
		}
		if on || (status == l.status && focused) {
			shown = l.label
		}
		out = append(out, filterView{Label: l.label, Href: link(l.status, false, sort), Class: class(l.status), Count: l.n, HasCount: true, On: on})
	}
	out = append(out, filterView{Label: "超时", Href: link(status, true, sort), Class: "c-overdue", Count: c.Overdue, HasCount: true, On: focused && q.Overdue, Hot: c.Overdue > 0})
	if q.Overdue {
		shown += " · 只看超时"
	}
	out = append(out,
		filterView{Label: "按紧急排序", Href: link(status, q.Overdue, query.SortUrgency), Class: "sort", On: sort != query.SortAge},
		filterView{Label: "按时间排序", Href: link(status, q.Overdue, query.SortAge), Class: "sort", On: sort == query.SortAge})
	if sort == query.SortAge {
		shown += " · 先到先办"
	} else {
		shown += " · 超时、紧急、时限近的在前"
	}
	return out, shown
}

func (h *handler) board(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleSteward)
	if !ok {
		return
	}
	h.awaitBacklog(r.Context(), parseSeq(r.URL.Query().Get("at")), 3*time.Second)
	d, err := h.boardData(r.Context(), s, r.URL.Query())
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	h.render(w, http.StatusOK, "board", boardPage{base: h.base(r, &s, "驿站工作台"), Board: d,
		LiveSrc: "/board/events?after=" + strconv.FormatUint(d.Seq, 10)})
}

func (h *handler) boardFragment(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleSteward)
	if !ok {
		return
	}
	h.awaitBacklog(r.Context(), parseSeq(r.URL.Query().Get("at")), 3*time.Second)
	d, err := h.boardData(r.Context(), s, r.URL.Query())
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	h.renderTemplate(w, http.StatusOK, "board", "backlog", d)
}

func (h *handler) boardEvents(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleSteward)
	if !ok {
		return
	}
	qs := make([]feed.Query, len(s.Actor.Lanes))
	for i, l := range s.Actor.Lanes {
		qs[i] = feed.Query{Lane: l}
	}
	h.liveChanges(w, r, qs)
}

// orderView is one order as the steward's page shows it.
