package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/service"
)

type orderView struct {
	ID, Number, Title, Description string
	Category, Lane, LaneID         string
	Community                      string // the community's name
	Requester, Phone               string
	Address                        string // shown with the whole phone only
	Mode, Channel, Priority        string
	Status, StatusCode             string
	Assignee                       string
	AssigneePhone                  string       // for the lane's steward, to call the member
	AssigneeTel                    template.URL // tel: and the phone's digits
	Escalation                     string
	Overdue                        bool
	Theme                          string
	SubmittedAt, AcceptBy          string
	CompleteBy                     string
	Rating                         *ratingView
	Version                        uint64
	Answers                        []answerView
}

// answerView is the answer to one of the category's questions, beside the question as
// it was asked.
type answerView struct{ Question, Answer string }

func answersOf(as []order.Answer) []answerView {
	out := make([]answerView, len(as))
	for i, a := range as {
		out[i] = answerView{Question: a.Question, Answer: a.Shown()}
	}
	return out
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
	phone, address := req.Phone, req.Address.String()
	if !fullPhone && !erased {
		phone, address = order.MaskPhone(phone), ""
	}
	v := orderView{
		ID: st.ID, Number: st.Number, Title: st.Title, Description: st.Description,
		Category: h.categoryName(st.Category), Lane: h.laneName(st.Lane), LaneID: st.Lane, Community: h.communityName(st.Community),
		Requester: req.Name, Phone: phone, Address: address,
		Mode: modeName(st.Mode), Channel: channelName(st.Channel), Priority: priorityName(st.Priority),
		Status: statusName(st.Status), StatusCode: string(st.Status),
		Escalation: levelName(st.Escalation), Overdue: st.Overdue(), Theme: st.Theme,
		SubmittedAt: shanghai(st.SubmittedAt), AcceptBy: shanghai(st.AcceptBy), CompleteBy: shanghai(st.CompleteBy),
		Version: snap.Version, Answers: answersOf(st.Answers),
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
	Phone               string // for the steward of a lane in the member's community
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
	LeftBehind  bool // in a period that has ended (redlane period roll): read-only
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
	if live && !st.Escalation.AtLeast(order.LevelCommunity) {
		// A lane escalates to its community; the community office sends it on.
		p.Levels = []levelOption{{Code: string(order.LevelCommunity), Name: levelName(order.LevelCommunity)}}
		p.CanEscalate = true
	}
	if p.Assign != "" {
		var err error
		if p.Candidates, err = h.candidates(ctx, st); err != nil {
			return p, err
		}
		p.More = len(p.Candidates) > topCandidates
		for i, c := range p.Candidates {
			if p.Candidates[i].Phone, err = h.memberPhone(ctx, s, c.ID); err != nil {
				return p, err
			}
		}
	}
	if st.Assignee != "" {
		phone, err := h.memberPhone(ctx, s, st.Assignee)
		if err != nil {
			return p, err
		}
		p.Order.AssigneePhone, p.Order.AssigneeTel = phone, telURL(phone)
	}
	return p, nil
}

// memberPhone is member id's phone if s may see it (member.ShowsPhone), else "".
func (h *handler) memberPhone(ctx context.Context, s session, id string) (string, error) {
	m, ok := h.svc.Dir.Member(id)
	if !ok {
		return "", nil
	}
	phone, _, err := h.svc.MemberPhone(ctx, s.Actor, m)
	return phone, err
}

// telURL is a tel: link to phone, built from its digits (and a leading +) only.
func telURL(phone string) template.URL {
	if phone == "" {
		return ""
	}
	return template.URL("tel:" + strings.Map(func(r rune) rune {
		if r == '+' || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, phone))
}

// orderID is the order a page's path names: its id, or its number (20261130-G4HNJM),
// which residents and the hotline quote, as the API takes it. A number is found while
// the order is live or was placed within the search's window (--search-days).
func (h *handler) orderID(id string) string {
	if n := strings.ToUpper(id); order.IsNumber(n) && h.index != nil {
		if found, ok := h.index.ByNumber(n); ok {
			return found
		}
	}
	return id
}

// stewardSnap loads an order a steward may act on: one of their lanes'. earlier names
// the ended period it was read from, when a roll left it there (read-only).
func (h *handler) stewardSnap(ctx context.Context, s session, id string) (snap domain.Snapshot[order.State], earlier string, err error) {
	if snap, earlier, err = h.svc.OrderFrom(ctx, id); err != nil {
		return snap, "", err
	}
	if !s.Actor.StewardOf(snap.State.Lane) {
		return snap, "", domain.Refuse(domain.KindForbidden, domain.CodeLaneStewardOnly, "only a steward of lane %s may do this", snap.State.Lane)
	}
	return snap, earlier, nil
}

func (h *handler) stewardOrder(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleSteward)
	if !ok {
		return
	}
	snap, earlier, err := h.stewardSnap(r.Context(), s, h.orderID(r.PathValue("id")))
	var p orderPage
	if err == nil {
		p, err = h.stewardOrderPage(r.Context(), r, s, snap)
	}
	if err == nil && earlier != "" {
		// Left behind by a roll: it is read, never acted on (the service refuses).
		p.LeftBehind = true
		p.Assign, p.Candidates = "", nil
		p.CanCancel, p.CanEscalate, p.CanRate, p.CanReopen, p.CanNote = false, false, false, false, false
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
	snap, _, err := h.stewardSnap(r.Context(), s, id)
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
	case "return":
		return order.Return{Reason: get("reason")}, nil
	case "close":
		return order.Close{Reason: get("reason")}, nil
	case "note":
		internal := get("internal")
		return order.Note{Text: get("text"), Internal: internal == "1" || internal == "on" || internal == "true"}, nil
	}
	return nil, domain.Refuse(domain.KindNotFound, domain.CodeActionNotFound, "no such action")
}
