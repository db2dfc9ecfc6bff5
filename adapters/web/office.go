package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/query"
)

// The offices' pages (兜底): a community's or a street office's board of the orders
// escalated to it in its places, and an order page whose actions are the office's:
// dispatch within the order's community, send up to the street (community level only),
// send back down, close.

// officePageSize is how many escalated orders a page of the board shows.
const officePageSize = 20

// officeLevel is the level an office works at.
func officeLevel(role domain.Role) order.Level {
	if role == domain.RoleStreet {
		return order.LevelStreet
	}
	return order.LevelCommunity
}

// officeItem is an escalated order as the board shows it.
type officeItem struct {
	ID, Number, Title  string
	Category           string
	Status, StatusCode string
	Urgent, Overdue    bool
	Lane, Community    string // names, never ids
	Since              string // when it came to this level (Asia/Shanghai)
	Reason             string // why it came
	SentBack           bool   // sent back down from the street
	Assignee           string
}

type officeBoardPage struct {
	base
	Heading string // 社区兜底工作台 or 街道兜底工作台
	Places  string // the office's places, by name
	LiveSrc string // the board's live changes (Server-Sent Events)
	List    officeList
}

// officeList is the board's list, which the page redraws live (/escalations/list).
type officeList struct {
	Items  []officeItem
	Total  int
	AsOf   string
	Next   string
	Paged  bool
	Cursor string // the page shown, "" for the first
	Seq    uint64 // the index's position the list was cut at
}

// officeOrderPage is an escalated order with the office's actions.
type officeOrderPage struct {
	base
	Order       orderView
	Mine        bool   // the order is with this office: it may act
	Assign      string // "dispatch", "reassign" or ""
	Candidates  []candidateView
	CanEscalate bool // community level: send on up to the street
	Live        bool
}

func (h *handler) officeBoard(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleCommunity, domain.RoleStreet)
	if !ok {
		return
	}
	// After an action, the board waits (briefly) for the index to hold it.
	h.awaitBacklog(r.Context(), parseSeq(r.URL.Query().Get("at")), 3*time.Second)
	list, err := h.officeList(s, r.URL.Query().Get("cursor"))
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	p := officeBoardPage{base: h.base(r, &s, "兜底工作台"), List: list,
		LiveSrc: "/escalations/events?after=" + strconv.FormatUint(list.Seq, 10)}
	var names []string
	if officeLevel(s.Actor.Role) == order.LevelStreet {
		p.Heading = "街道兜底工作台"
		for _, id := range s.Actor.Streets {
			names = append(names, h.streetName(id))
		}
	} else {
		p.Heading = "社区兜底工作台"
		for _, id := range s.Actor.Communities {
			names = append(names, h.communityName(id))
		}
	}
	p.Places = strings.Join(names, "、")
	h.render(w, http.StatusOK, "escalations", p)
}

// officeBoardFragment is the board's list alone, for the page to redraw it live.
func (h *handler) officeBoardFragment(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleCommunity, domain.RoleStreet)
	if !ok {
		return
	}
	h.awaitBacklog(r.Context(), parseSeq(r.URL.Query().Get("at")), 3*time.Second)
	list, err := h.officeList(s, r.URL.Query().Get("cursor"))
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	h.renderTemplate(w, http.StatusOK, "escalations", "officelist", list)
}

// officeBoardEvents tells the board when something changed in the office's
// communities (a street office's: every community of its streets).
func (h *handler) officeBoardEvents(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleCommunity, domain.RoleStreet)
	if !ok {
		return
	}
	communities := s.Actor.Communities
	if officeLevel(s.Actor.Role) == order.LevelStreet {
		communities = nil
		for _, c := range h.svc.Dir.Communities() {
			if slices.Contains(s.Actor.Streets, c.Street) {
				communities = append(communities, c.ID)
			}
		}
	}
	qs := make([]feed.Query, len(communities))
	for i, c := range communities {
		qs[i] = feed.Query{Community: c}
	}
	h.liveChanges(w, r, qs)
}

// officeList cuts one page of the office's board.
func (h *handler) officeList(s session, cursor string) (officeList, error) {
	level := officeLevel(s.Actor.Role)
	q := query.EscalationQuery{Level: level, Limit: officePageSize, Cursor: cursor, Now: h.svc.Now()}
	if level == order.LevelStreet {
		q.Streets = s.Actor.Streets
	} else {
		q.Communities = s.Actor.Communities
	}
	p := officeList{Paged: cursor != "", Cursor: cursor, Seq: h.backlogSeq()}
	page, err := h.index.Escalations(q)
	if err != nil {
		return p, err
	}
	p.Total, p.AsOf = page.Total, shanghai(page.AsOf)
	if page.Next != "" {
		p.Next = "/escalations?cursor=" + page.Next
	}
	for _, it := range page.Items {
		v := officeItem{ID: it.ID, Number: it.Number, Title: it.Title, Category: h.categoryName(it.Category),
			Status: statusName(it.Status), StatusCode: string(it.Status), Urgent: it.Priority == order.PriorityUrgent, Overdue: it.Overdue,
			Lane: h.laneName(it.Lane), Community: h.communityName(it.Community), Since: "—", Reason: it.EscalationReason, SentBack: it.SentBack}
		if it.EscalatedAt != nil {
			v.Since = shanghai(*it.EscalatedAt)
		}
		if it.Assignee != "" {
			v.Assignee = h.memberName(it.Assignee)
		}
		p.Items = append(p.Items, v)
	}
	return p, nil
}

// officeSnap loads an order an office may read: one of its places' that reached it.
func (h *handler) officeSnap(ctx context.Context, s session, id string) (domain.Snapshot[order.State], error) {
	snap, err := h.svc.Order(ctx, id)
	if err == nil && !query.MayRead(s.Actor, query.PlaceOf(snap.State), "") {
		err = domain.Refuse(domain.KindForbidden, domain.CodeReadNotAllowed, "this order did not reach your office")
	}
	return snap, err
}

// officeOrderPage assembles an office's page of one order: the facts, the phone masked,
// and while the order is with the office, its actions.
func (h *handler) officeOrderPage(ctx context.Context, r *http.Request, s session, snap domain.Snapshot[order.State]) (officeOrderPage, error) {
	st := snap.State
	p := officeOrderPage{base: h.base(r, &s, "工单 "+st.Number), Order: h.orderView(ctx, snap, false), Mine: order.OfficeOf(st, s.Actor)}
	p.Live = st.Status == order.StatusOpen || st.Status == order.StatusDispatched || st.Status == order.StatusAccepted
	if !p.Mine || !p.Live {
		return p, nil
	}
	p.CanEscalate = st.Escalation == order.LevelCommunity
	p.Assign = "reassign"
	if st.Status == order.StatusOpen {
		p.Assign = "dispatch"
	}
	all, err := h.candidates(ctx, st)
	if err != nil {
		return p, err
	}
	// The office hands the order only to members of its community (rule 9).
	for _, c := range all {
		if m, ok := h.svc.Dir.Member(c.ID); ok && m.Community == st.Community {
			c.Top, c.First = true, len(p.Candidates) == 0
			p.Candidates = append(p.Candidates, c)
		}
	}
	return p, nil
}

func (h *handler) officeOrder(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleCommunity, domain.RoleStreet)
	if !ok {
		return
	}
	snap, err := h.officeSnap(r.Context(), s, r.PathValue("id"))
	var p officeOrderPage
	if err == nil {
		p, err = h.officeOrderPage(r.Context(), r, s, snap)
	}
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	h.render(w, http.StatusOK, "office_order", p)
}

// officeActions are the actions the office's order page posts.
var officeActions = map[string]bool{"dispatch": true, "reassign": true, "escalate": true, "return": true, "close": true}

func (h *handler) officeAct(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleCommunity, domain.RoleStreet)
	if !ok || !h.parseForm(w, r, &s) {
		return
	}
	id, action := r.PathValue("id"), r.PathValue("action")
	if !officeActions[action] {
		h.fail(w, r, &s, problem{Status: http.StatusNotFound, Title: "没有这个操作"})
		return
	}
	snap, err := h.officeSnap(r.Context(), s, id)
	if err == nil {
		var cmd order.Command
		if cmd, err = command(action, r.PostForm); err == nil {
			var version uint64
			if v := r.PostForm.Get("version"); v != "" {
				version, _ = strconv.ParseUint(v, 10, 64)
			}
			snap, err = h.svc.Act(r.Context(), h.meta(s.Actor), id, cmd, version)
		}
	}
	if err != nil {
		p := describe(err)
		if p.Status == http.StatusNotFound || (p.Status == http.StatusForbidden && domain.CodeOf(err) == domain.CodeReadNotAllowed) {
			h.failErr(w, r, &s, err)
			return
		}
		page, perr := h.officeOrderPage(r.Context(), r, s, h.reload(r.Context(), snap, id))
		if perr != nil {
			h.failErr(w, r, &s, perr)
			return
		}
		page.Problem = h.problemOf(r, err)
		h.render(w, p.Status, "office_order", page)
		return
	}
	http.Redirect(w, r, withParams("/escalations", "ok", action, "at", strconv.FormatUint(snap.Seq, 10)), http.StatusSeeOther)
}
