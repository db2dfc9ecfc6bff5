package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/projections/report"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
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
	Resident, Phone      string       // whom to call, for the member who has the order (task page)
	Tel                  template.URL // tel: and the phone's digits, built here from digits only
	Escalation           string       // 社区 or 街道 when escalated, else ""
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
	Community string
	Period    string
	Orders    int
	Rates     []rateView
}

func (h *handler) rates(ctx context.Context, community, period string) (ratesView, error) {
	rv := ratesView{Community: community, Period: period}
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
		lv := laneView{ID: id, Name: nameOr(l.Name, id), Community: nameOr(l.Community, ""), Focused: focus != ""}
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
type orderView struct {
	ID, Number, Title, Description string
	Category, Lane, LaneID         string
	Requester, Phone               string
	Mode, Channel, Priority        string
	Status, StatusCode             string
	Assignee                       string
	Escalation                     string
	Overdue                        bool
	Theme                          string
	SubmittedAt, AcceptBy          string
	CompleteBy                     string
	Rating                         *ratingView
	Version                        uint64
}

type ratingView struct {
	Solved  bool
	Stars   int
	Comment string
	At      string
}

func (h *handler) orderView(ctx context.Context, snap domain.Snapshot[order.State], fullPhone bool) orderView {
	st := snap.State
	req, erased, err := h.svc.Requester(ctx, st)
	if err != nil {
		h.log.Error("open the requester", "order", st.ID, "err", err)
		req, erased = service.Erased, true
	}
	phone := req.Phone
	if !fullPhone && !erased {
		phone = order.MaskPhone(phone)
	}
	v := orderView{
		ID: st.ID, Number: st.Number, Title: st.Title, Description: st.Description,
		Category: h.categoryName(st.Category), Lane: h.laneName(st.Lane), LaneID: st.Lane,
		Requester: req.Name, Phone: phone,
		Mode: modeName(st.Mode), Channel: channelName(st.Channel), Priority: priorityName(st.Priority),
		Status: statusName(st.Status), StatusCode: string(st.Status),
		Escalation: levelName(st.Escalation), Overdue: st.Overdue(), Theme: st.Theme,
		SubmittedAt: shanghai(st.SubmittedAt), AcceptBy: shanghai(st.AcceptBy), CompleteBy: shanghai(st.CompleteBy),
		Version: snap.Version,
	}
	if st.Assignee != "" {
		v.Assignee = h.memberName(st.Assignee)
	}
	if st.Rating != nil {
		v.Rating = &ratingView{Solved: st.Rating.Solved, Stars: st.Rating.Stars, Comment: st.Rating.Comment, At: shanghai(st.Rating.At)}
	}
	return v
}

// candidateView is one member the dispatch dialog proposes.
type candidateView struct {
	ID, Name, Community string
	Reasons             string
	Score               string
	Top                 bool // among the first proposals, shown before "more"
	First               bool
}

// levelOption is a level an order may still be escalated to.
type levelOption struct{ Code, Name string }

type orderPage struct {
	base
	Order       orderView
	Candidates  []candidateView
	More        bool   // candidates beyond the first proposals
	Assign      string // "dispatch", "reassign" or ""
	CanCancel   bool
	CanEscalate bool
	Levels      []levelOption
	CanRate     bool
	CanReopen   bool
	CanNote     bool
	Next        string
	Fragment    bool
}

// topCandidates is how many proposals the dialog shows before "more"; prelimCandidates
// how many it reads ratings for.
const (
	topCandidates    = 6
	prelimCandidates = 30
)

// candidates ranks the members for an order (rank.go), reading the loads from every
// lane's backlog and the ratings of the likeliest members from their records.
func (h *handler) candidates(ctx context.Context, st order.State) ([]candidateView, error) {
	cat, _ := h.svc.Catalog().Lookup(st.Category)
	loads := h.index.Loads()
	facts := map[string]MemberFacts{}
	members := h.svc.Dir.Members()
	for _, m := range members {
		facts[m.ID] = MemberFacts{Load: loads[m.ID]}
	}
	// Ratings come from the records of the likeliest members only: one read each.
	period := projections.Period(h.svc.Now())
	for i, r := range Rank(cat, st.Community, members, facts) {
		if i == prelimCandidates {
			break
		}
		rec, err := h.memberRecord(ctx, r.Member.ID, period)
		if err != nil {
			return nil, err
		}
		if rec != nil {
			facts[r.Member.ID] = MemberFacts{Load: loads[r.Member.ID], Ratings: rec.Ratings, MeanStars: rec.MeanStars}
		}
	}
	ranked := Rank(cat, st.Community, members, facts)
	out := make([]candidateView, 0, len(ranked))
	for _, r := range ranked {
		if r.Member.ID == st.Assignee {
			continue
		}
		out = append(out, candidateView{ID: r.Member.ID, Name: nameOr(r.Member.Name, r.Member.ID), Community: r.Member.Community,
			Reasons: r.Reasons, Score: strconv.FormatFloat(r.Score, 'f', 0, 64), Top: len(out) < topCandidates, First: len(out) == 0})
	}
	return out, nil
}

// stewardOrderPage assembles the steward's page of one order.
func (h *handler) stewardOrderPage(ctx context.Context, r *http.Request, s session, snap domain.Snapshot[order.State]) (orderPage, error) {
	st := snap.State
	p := orderPage{base: h.base(r, &s, "工单 "+st.Number), Order: h.orderView(r.Context(), snap, true), Next: safeNext(r.URL.Query().Get("next"))}
	if p.Next == "" {
		p.Next = "/board"
	}
	switch st.Status {
	case order.StatusOpen:
		p.Assign = "dispatch"
	case order.StatusDispatched, order.StatusAccepted:
		p.Assign = "reassign"
	}
	live := st.Status == order.StatusOpen || st.Status == order.StatusDispatched || st.Status == order.StatusAccepted
	p.CanCancel, p.CanNote = live, st.Status != order.StatusCancelled
	p.CanRate = st.Status == order.StatusCompleted
	p.CanReopen = st.Status == order.StatusCompleted || st.Status == order.StatusClosed
	if live {
		for _, l := range []order.Level{order.LevelCommunity, order.LevelStreet} {
			if rankOf(l) > rankOf(st.Escalation) {
				p.Levels = append(p.Levels, levelOption{Code: string(l), Name: levelName(l)})
			}
		}
		p.CanEscalate = len(p.Levels) > 0
	}
	if p.Assign != "" {
		var err error
		if p.Candidates, err = h.candidates(ctx, st); err != nil {
			return p, err
		}
		p.More = len(p.Candidates) > topCandidates
	}
	return p, nil
}

func rankOf(l order.Level) int {
	switch l {
	case order.LevelCommunity:
		return 1
	case order.LevelStreet:
		return 2
	}
	return 0
}

// stewardSnap loads an order a steward may act on: one of their lanes'.
func (h *handler) stewardSnap(ctx context.Context, s session, id string) (domain.Snapshot[order.State], error) {
	snap, err := h.svc.Order(ctx, id)
	if err != nil {
		return snap, err
	}
	if !s.Actor.StewardOf(snap.State.Lane) {
		return snap, domain.Refuse(domain.KindForbidden, domain.CodeLaneStewardOnly, "only a steward of lane %s may do this", snap.State.Lane)
	}
	return snap, nil
}

func (h *handler) stewardOrder(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleSteward)
	if !ok {
		return
	}
	snap, err := h.stewardSnap(r.Context(), s, r.PathValue("id"))
	var p orderPage
	if err == nil {
		p, err = h.stewardOrderPage(r.Context(), r, s, snap)
	}
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	if r.URL.Query().Get("fragment") == "1" {
		p.Fragment = true
		h.renderTemplate(w, http.StatusOK, "order", "panel", p)
		return
	}
	h.render(w, http.StatusOK, "order", p)
}

// stewardActions are the actions the steward's pages post.
var stewardActions = map[string]bool{"dispatch": true, "reassign": true, "cancel": true, "escalate": true,
	"reopen": true, "note": true, "rate": true}

func (h *handler) stewardAct(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleSteward)
	if !ok || !h.parseForm(w, r, &s) {
		return
	}
	id, action := r.PathValue("id"), r.PathValue("action")
	if !stewardActions[action] {
		h.fail(w, r, &s, problem{Status: http.StatusNotFound, Title: "没有这个操作"})
		return
	}
	snap, err := h.stewardSnap(r.Context(), s, id)
	if err == nil {
		var cmd order.Command
		if cmd, err = command(action, r.PostForm); err == nil {
			snap, err = h.svc.Act(r.Context(), h.meta(s.Actor), id, cmd, 0)
		}
	}
	if err != nil {
		p := describe(err)
		if p.Status == http.StatusNotFound || p.Status == http.StatusForbidden {
			h.failErr(w, r, &s, err)
			return
		}
		// Show the order again, as it is now, with what went wrong.
		page, perr := h.stewardOrderPage(r.Context(), r, s, h.reload(r.Context(), snap, id))
		if perr != nil {
			h.failErr(w, r, &s, perr)
			return
		}
		page.Problem = h.problemOf(r, err)
		page.Next = nonEmpty(safeNext(r.PostForm.Get("next")), "/board")
		h.render(w, p.Status, "order", page)
		return
	}
	next := nonEmpty(safeNext(r.PostForm.Get("next")), "/board")
	http.Redirect(w, r, withParams(next, "ok", action, "at", strconv.FormatUint(snap.Seq, 10)), http.StatusSeeOther)
}

// reload returns the order as it stands now, or snap when it cannot be read.
func (h *handler) reload(ctx context.Context, snap domain.Snapshot[order.State], id string) domain.Snapshot[order.State] {
	if fresh, err := h.svc.Order(ctx, id); err == nil {
		return fresh
	}
	return snap
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// withParams adds query parameters to a local path.
func withParams(path string, kv ...string) string {
	u, err := url.Parse(path)
	if err != nil {
		return path
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// command makes an order command from an action's form.
func command(action string, f url.Values) (order.Command, error) {
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	switch action {
	case "dispatch":
		return order.Dispatch{Member: order.MemberRef{ID: get("member")}}, nil
	case "reassign":
		return order.Reassign{Member: order.MemberRef{ID: get("member")}, Reason: get("reason")}, nil
	case "claim":
		return order.Claim{}, nil
	case "accept":
		return order.Accept{}, nil
	case "decline":
		return order.Decline{Reason: get("reason")}, nil
	case "complete":
		minutes, err := strconv.Atoi(get("minutes"))
		if err != nil {
			return nil, domain.Invalid("minutes", "must be between 1 and 10080")
		}
		return order.Complete{Note: get("note"), Minutes: minutes}, nil
	case "rate":
		c := order.Rate{Comment: get("comment")}
		switch get("solved") {
		case "yes":
			c.Solved = new(true)
		case "no":
			c.Solved = new(false)
		}
		c.Stars, _ = strconv.Atoi(get("stars"))
		return c, nil
	case "cancel":
		return order.Cancel{Reason: get("reason")}, nil
	case "escalate":
		return order.Escalate{Level: order.Level(get("level")), Reason: get("reason")}, nil
	case "reopen":
		return order.Reopen{Reason: get("reason")}, nil
	case "note":
		internal := get("internal")
		return order.Note{Text: get("text"), Internal: internal == "1" || internal == "on" || internal == "true"}, nil
	}
	return nil, domain.Refuse(domain.KindNotFound, domain.CodeActionNotFound, "no such action")
}
