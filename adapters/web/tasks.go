package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/query"
)

// tasksData is the member's live task list.
type tasksData struct {
	Name      string
	Community string     // the member's community's name
	Mine      []itemView // dispatched to the member, accepted by them, or done awaiting a rating
	Open      []itemView // open orders in the member's community they may claim
	MineCount int        // all of Mine's kind, beyond this page
	OpenCount int
	MineNext  string // the next page's address, "" on the last
	OpenNext  string
	Paged     bool   // a page after the first
	Query     string // the page's parameters, for its live fragment
	Record    recordView
	Seq       uint64
	AsOf      string
	CSRF      string
	Phone     string // the member's own phone, as stewards see it
}

// recordView is the member's month so far.
type recordView struct {
	Period    string
	Completed int
	Minutes   int
	Points    int
	Ratings   int
	MeanStars string
}

type tasksPage struct {
	base
	Tasks   tasksData
	LiveSrc string
}

// memberOf returns the member a member token stands for.
func (h *handler) memberOf(s session) (member.State, error) {
	m, ok := h.svc.Dir.Member(s.Actor.Member)
	if !ok {
		return m, domain.Refuse(domain.KindForbidden, domain.CodeMemberGone, "this token's member no longer exists")
	}
	return m, nil
}

// contact adds what the member needs to do the job: the request's description, and the
// resident's name, whole phone and address while the order is in the member's hands
// (query.SeesPhone); the order is read for it, one per order on the page.
func (h *handler) contact(ctx context.Context, v *itemView, s session, it query.Item) {
	snap, err := h.svc.Order(ctx, it.ID)
	if err != nil {
		h.log.Warn("tasks: read an order", "order", it.ID, "err", err)
		return
	}
	st := snap.State
	v.Description = st.Description
	v.Answers = answersOf(st.Answers)
	if !query.SeesPhone(s.Actor, query.Place{Lane: st.Lane, Community: st.Community, Assignee: st.Assignee}, st.Status) {
		return
	}
	req, erased, err := h.svc.Requester(ctx, st)
	if err != nil || erased {
		return
	}
	v.Resident, v.Phone, v.Address = req.Name, req.Phone, req.Address.String()
	v.Tel = template.URL("tel:" + strings.Map(func(r rune) rune {
		if r == '+' || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, req.Phone))
}

// tasksPageSize is how many orders of each list the task page shows at once.
const tasksPageSize = 30

// laneNames maps every lane's id to its name.
func (h *handler) laneNames() map[string]string {
	out := map[string]string{}
	for _, l := range h.svc.Dir.Lanes() {
		out[l.ID] = nameOr(l.Name, l.ID)
	}
	return out
}

func (h *handler) tasksData(ctx context.Context, s session, params url.Values) (tasksData, error) {
	m, err := h.memberOf(s)
	if err != nil {
		return tasksData{}, err
	}
	// Every lane: a steward may dispatch to a member of another community.
	now := h.svc.Now()
	d := tasksData{Name: nameOr(m.Name, m.ID), Community: h.communityName(m.Community), Seq: h.backlogSeq(), AsOf: shanghaiSeconds(now), CSRF: s.CSRF()}
	// The number stewards call them on, so a member sees it is right.
	if phone, shown, err := h.svc.MemberPhone(ctx, s.Actor, m); err == nil && shown {
		d.Phone = phone
	}
	var all, community []string
	for _, l := range h.svc.Dir.Lanes() {
		all = append(all, l.ID)
		if l.Community == m.Community {
			community = append(community, l.ID)
		}
	}
	names := h.laneNames()
	mine, err := h.index.Backlog(query.BacklogQuery{Lanes: all, Assignee: m.ID, Limit: tasksPageSize, Cursor: params.Get("mine"), Now: now})
	if err != nil {
		return d, err
	}
	for _, it := range mine.Items {
		v := h.itemView(it, names[it.Lane])
		h.contact(ctx, &v, s, it)
		d.Mine = append(d.Mine, v)
	}
	// Counts are every member's in those lanes: the member's own are those matched. The
	// completed orders awaiting a rating past the working list are done, and not matched.
	d.MineCount = mine.Matched
	if mine.Next != "" {
		d.MineNext = "/tasks?mine=" + url.QueryEscape(mine.Next)
	}
	if m.Active && len(community) > 0 {
		open, err := h.index.Backlog(query.BacklogQuery{Lanes: community, Status: string(order.StatusOpen), Limit: tasksPageSize, Cursor: params.Get("open"), Now: now})
		if err != nil {
			return d, err
		}
		for _, it := range open.Items {
			d.Open = append(d.Open, h.itemView(it, names[it.Lane]))
		}
		d.OpenCount = open.Counts.Open
		if open.Next != "" {
			d.OpenNext = "/tasks?open=" + url.QueryEscape(open.Next)
		}
	}
	d.Paged = params.Get("mine") != "" || params.Get("open") != ""
	keep := url.Values{}
	for _, k := range []string{"mine", "open"} {
		if v := params.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	d.Query = keep.Encode()
	period := projections.Period(now)
	d.Record = recordView{Period: period, MeanStars: "—"}
	rec, err := h.memberRecord(ctx, m.ID, period)
	if err != nil {
		return d, err
	}
	if rec != nil {
		d.Record.Completed, d.Record.Minutes, d.Record.Points, d.Record.Ratings = rec.Completed, rec.Minutes, rec.Points, rec.Ratings
		if rec.Ratings > 0 {
			d.Record.MeanStars = fmt.Sprintf("%.1f", rec.MeanStars)
		}
	}
	return d, nil
}

func (h *handler) tasks(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleMember)
	if !ok {
		return
	}
	h.awaitBacklog(r.Context(), parseSeq(r.URL.Query().Get("at")), 3*time.Second)
	h.renderTasks(w, r, s, http.StatusOK, nil)
}

func (h *handler) renderTasks(w http.ResponseWriter, r *http.Request, s session, status int, p *problem) {
	d, err := h.tasksData(r.Context(), s, r.URL.Query())
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	b := h.base(r, &s, "我的任务")
	b.Problem = p
	h.render(w, status, "tasks", tasksPage{base: b, Tasks: d, LiveSrc: "/tasks/events?after=" + strconv.FormatUint(d.Seq, 10)})
}

func (h *handler) tasksFragment(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleMember)
	if !ok {
		return
	}
	h.awaitBacklog(r.Context(), parseSeq(r.URL.Query().Get("at")), 3*time.Second)
	d, err := h.tasksData(r.Context(), s, r.URL.Query())
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	h.renderTemplate(w, http.StatusOK, "tasks", "tasklist", d)
}

func (h *handler) tasksEvents(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleMember)
	if !ok {
		return
	}
	m, err := h.memberOf(s)
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	// The community's lanes, where the member's work and open orders mostly are.
	h.liveChanges(w, r, []feed.Query{{Community: m.Community}})
}

// memberActions are the actions the task list posts.
var memberActions = map[string]bool{"claim": true, "accept": true, "decline": true, "complete": true, "note": true}

func (h *handler) memberAct(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleMember)
	if !ok || !h.parseForm(w, r, &s) {
		return
	}
	action := r.PathValue("action")
	if !memberActions[action] {
		h.fail(w, r, &s, problem{Status: http.StatusNotFound, Title: "没有这个操作"})
		return
	}
	cmd, err := command(action, r.PostForm)
	var snap domain.Snapshot[order.State]
	if err == nil {
		snap, err = h.svc.Act(r.Context(), h.meta(s.Actor), r.PathValue("id"), cmd, 0)
	}
	if err != nil {
		p := h.problemOf(r, err)
		h.renderTasks(w, r, s, p.Status, p)
		return
	}
	http.Redirect(w, r, withParams("/tasks", "ok", action, "at", strconv.FormatUint(snap.Seq, 10)), http.StatusSeeOther)
}
