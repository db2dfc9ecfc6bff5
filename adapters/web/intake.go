package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

type option struct {
	Value, Label string
	Selected     bool
}

// intakeForm is what the intake form shows and what was typed into it.
type intakeForm struct {
	Lane, Category, Title, Description, Name, Phone, Priority, Channel string
	Building, Unit, Door                                               string // where in the lane (optional)
	Key                                                                string // the idempotency key: a resubmitted form makes one order
	// Answers are what was given to the chosen category's questions, by question code.
	Answers map[string][]string
}

// questionBlock is one category's questions on the intake form; the page shows every
// category's, and app.js only the chosen one's.
type questionBlock struct {
	Category, Name string
	Chosen         bool
	Questions      []questionField
}

// questionField is one question as a form field, named answer.<category>.<code> so
// that only the chosen category's answers are taken.
type questionField struct {
	Field, Description, Hint string
	Datatype                 string
	Required                 bool
	Value                    string
	Choices                  []option
}

// hints tell a resident, in Chinese, how to answer each datatype.
var hints = map[order.Datatype]string{
	order.DatatypeNumber:         "填写数字",
	order.DatatypeDatetime:       "日期时间",
	order.DatatypeMultiValueList: "可多选",
}

func questionBlocks(cat order.Catalog, f intakeForm) []questionBlock {
	var out []questionBlock
	for _, c := range cat.All() {
		if len(c.Questions) == 0 {
			continue
		}
		b := questionBlock{Category: c.Code, Name: c.Name, Chosen: c.Code == f.Category}
		for _, q := range c.Questions {
			var given []string
			if b.Chosen {
				given = f.Answers[q.Code]
			}
			qf := questionField{Field: "answer." + c.Code + "." + q.Code, Description: q.Description, Hint: hints[q.Datatype],
				Datatype: string(q.Datatype), Required: q.Required}
			if len(given) > 0 {
				qf.Value = given[0]
			}
			for _, v := range q.Values {
				qf.Choices = append(qf.Choices, option{Value: v.Key, Label: v.Name, Selected: slices.Contains(given, v.Key)})
			}
			b.Questions = append(b.Questions, qf)
		}
		out = append(out, b)
	}
	return out
}

type intakePage struct {
	base
	Form       intakeForm
	Lanes      []option
	Categories []option
	Questions  []questionBlock
	Channels   []option // for operators and stewards, who take requests by phone or at the station
	As         string   // who submits: 居民 or the signed-in steward or operator
}

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// intakeActor is who a submission comes from: a signed-in steward or operator takes it
// for a resident; anyone else is the resident.
func (h *handler) intakeActor(r *http.Request) (*session, error) {
	s, signed, err := h.who(r)
	if err != nil {
		return nil, err
	}
	if signed && (s.Actor.Role == domain.RoleSteward || s.Actor.Role == domain.RoleOperator) {
		return &s, nil
	}
	return nil, nil
}

func (h *handler) intakePage(r *http.Request, s *session, f intakeForm) intakePage {
	var signedIn *session
	if s2, signed, _ := h.who(r); signed {
		signedIn = &s2
	}
	p := intakePage{base: h.base(r, signedIn, "我要点单"), Form: f, As: "居民"}
	for _, l := range h.svc.Dir.Lanes() {
		if s != nil && s.Actor.Role == domain.RoleSteward && !s.Actor.StewardOf(l.ID) {
			continue
		}
		label := nameOr(l.Name, l.ID)
		if l.Station != "" {
			label += "（" + l.Station + "）"
		}
		p.Lanes = append(p.Lanes, option{Value: l.ID, Label: label, Selected: l.ID == f.Lane})
	}
	for _, c := range h.svc.Catalog().All() {
		p.Categories = append(p.Categories, option{Value: c.Code, Label: c.Name, Selected: c.Code == f.Category})
	}
	p.Questions = questionBlocks(h.svc.Catalog(), f)
	if s != nil {
		p.As = s.Actor.Name + "（" + roleName(s.Actor.Role) + "）代居民"
		for _, c := range []order.Channel{order.ChannelStation, order.ChannelHotline, order.ChannelTerminal} {
			p.Channels = append(p.Channels, option{Value: string(c), Label: channelName(c), Selected: string(c) == f.Channel})
		}
	}
	return p
}

func (h *handler) intakeForm(w http.ResponseWriter, r *http.Request) {
	s, err := h.intakeActor(r)
	if err != nil {
		h.failErr(w, r, nil, err)
		return
	}
	f := intakeForm{Lane: r.URL.Query().Get("lane"), Priority: string(order.PriorityNormal), Key: newKey()}
	if s != nil {
		f.Channel = string(order.ChannelStation)
		if s.Actor.Role == domain.RoleOperator {
			f.Channel = string(order.ChannelHotline)
		}
	}
	h.render(w, http.StatusOK, "intake", h.intakePage(r, s, f))
}

func (h *handler) intakeSubmit(w http.ResponseWriter, r *http.Request) {
	s, err := h.intakeActor(r)
	if err != nil {
		h.failErr(w, r, nil, err)
		return
	}
	if !h.parseForm(w, r, s) {
		return
	}
	get := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	f := intakeForm{Lane: get("lane"), Category: get("category"), Title: get("title"), Description: get("description"),
		Name: get("name"), Phone: get("phone"), Priority: get("priority"), Channel: get("channel"), Key: get("key"),
		Building: get("building"), Unit: get("unit"), Door: get("door")}
	prefix := "answer." + f.Category + "."
	for k, vals := range r.PostForm {
		if code, ok := strings.CutPrefix(k, prefix); ok && f.Category != "" {
			if f.Answers == nil {
				f.Answers = map[string][]string{}
			}
			f.Answers[code] = vals
		}
	}
	actor := service.Resident
	channel := order.ChannelWeb
	if s != nil {
		actor = s.Actor
		channel = order.Channel(nonEmpty(f.Channel, string(order.ChannelStation)))
	}
	if len(f.Key) > 64 {
		f.Key = ""
	}
	fp := sha256.Sum256(fmt.Appendf(nil, "%q", []string{f.Lane, f.Category, f.Title, f.Description, f.Name, f.Phone, f.Building, f.Unit, f.Door, f.Priority, string(channel), actor.ID, fmt.Sprint(f.Answers)}))
	snap, _, err := h.svc.Submit(r.Context(), h.meta(actor), service.SubmitRequest{
		LaneID: f.Lane,
		Submit: order.Submit{
			Category: f.Category, Title: f.Title, Description: f.Description,
			Requester: order.Requester{Name: f.Name, Phone: f.Phone, Address: order.Address{Building: f.Building, Unit: f.Unit, Door: f.Door}},
			Channel:   channel, Priority: order.Priority(f.Priority),
			Answers: f.Answers,
		},
		IdempotencyKey:   nonEmptyKey(f.Key),
		IdempotencyScope: "page:" + actor.ID, // the form's key is a random one the page made
		Fingerprint:      hex.EncodeToString(fp[:]),
	})
	if err != nil {
		p := h.intakePage(r, s, f)
		p.Problem = h.problemOf(r, err)
		if domain.KindOf(err) == domain.KindConflict {
			p.Form.Key = newKey() // the key was used for another request: this one gets its own
		}
		h.render(w, p.Problem.Status, "intake", p)
		return
	}
	http.Redirect(w, r, withParams("/receipt/"+snap.ID, "r", h.svc.Receipt(snap.ID), "new", "1"), http.StatusSeeOther)
}

func nonEmptyKey(k string) string {
	if k == "" {
		return ""
	}
	return "web-intake:" + k
}

// timelineEntry is one public fact of an order's history, for the resident.
type timelineEntry struct {
	Time  string
	What  string
	Extra string
}

type receiptPage struct {
	base
	Order     orderView
	Receipt   string
	Link      string
	New       bool
	Timeline  []timelineEntry
	CanRate   bool
	CanCancel bool
}

// publicTimeline tells an order's story as the resident may read it: no internal notes,
// no decline reasons, nobody's phone.
func (h *handler) publicTimeline(ctx context.Context, id string) ([]timelineEntry, error) {
	recs, err := h.svc.History(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []timelineEntry
	for _, rec := range recs {
		ev, err := order.Events.Decode(rec.Envelope)
		if err != nil || rec.Rejected != "" {
			continue // an event this version does not know, or not Redlane's: left out
		}
		e := timelineEntry{Time: shanghai(rec.Time), What: eventName(rec.Type)}
		switch v := ev.(type) {
		case order.Submitted:
			e.What, e.Extra = "提交诉求", "渠道："+channelName(v.Channel)
		case order.Dispatched:
			e.Extra = "派给党员 " + h.memberName(v.Member)
		case order.Reassigned:
			e.Extra = "改由党员 " + h.memberName(v.Member) + " 承办"
		case order.Claimed:
			e.Extra = "党员 " + h.memberName(v.Member) + " 领办"
		case order.Accepted:
			e.Extra = "党员 " + h.memberName(v.Member) + " 接单"
		case order.Declined:
			e.Extra = "工单回到待派单，驿站将重新安排"
		case order.Completed:
			e.Extra = fmt.Sprintf("用时 %d 分钟", v.Minutes)
		case order.Rated:
			e.Extra = fmt.Sprintf("%d 星，%s", v.Stars, map[bool]string{true: "问题已解决", false: "问题未解决，工单重办"}[v.Solved])
		case order.Cancelled:
		case order.Escalated:
			e.Extra = "上报到" + levelName(v.Level)
		case order.Returned:
			e.Extra = "退回到" + levelName(v.Level)
		case order.Reopened:
			e.Extra = "工单重新办理"
		case order.Noted:
			if v.Internal {
				continue
			}
			e.Extra = v.Text
		case order.MarkedOverdue:
			e.Extra = map[order.DeadlineKind]string{order.DeadlineAccept: "超过接单时限", order.DeadlineComplete: "超过办结时限"}[v.Deadline]
		}
		out = append(out, e)
	}
	return out, nil
}

// receiptSnap checks the receipt and loads the order; a receipt that does not match is
// reported as no such order, so receipts cannot be probed.
func (h *handler) receiptSnap(ctx context.Context, id, receipt string) (domain.Snapshot[order.State], error) {
	if !domain.ValidID(id) || !h.svc.CheckReceipt(id, receipt) {
		return domain.Snapshot[order.State]{}, domain.Refuse(domain.KindNotFound, domain.CodeOrderNotFound, "no such order")
	}
	return h.svc.Order(ctx, id)
}

func (h *handler) receiptPage(ctx context.Context, r *http.Request, snap domain.Snapshot[order.State], receipt string) (receiptPage, error) {
	var signedIn *session
	if s, signed, _ := h.who(r); signed {
		signedIn = &s
	}
	p := receiptPage{base: h.base(r, signedIn, "回执 "+snap.State.Number), Order: h.orderView(r.Context(), snap, false), Receipt: receipt,
		Link: withParams("/receipt/"+snap.ID, "r", receipt), New: r.URL.Query().Get("new") == "1",
		CanRate: snap.State.Status == order.StatusCompleted, CanCancel: snap.State.Status == order.StatusOpen}
	var err error
	p.Timeline, err = h.publicTimeline(ctx, snap.ID)
	return p, err
}

func (h *handler) receipt(w http.ResponseWriter, r *http.Request) {
	receipt := r.URL.Query().Get("r")
	snap, err := h.receiptSnap(r.Context(), r.PathValue("id"), receipt)
	var p receiptPage
	if err == nil {
		p, err = h.receiptPage(r.Context(), r, snap, receipt)
	}
	if err != nil {
		h.failErr(w, r, nil, err)
		return
	}
	h.render(w, http.StatusOK, "receipt", p)
}

// receiptActions are what a resident may do with a receipt.
var receiptActions = map[string]bool{"rate": true, "cancel": true}

func (h *handler) receiptAct(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r, nil) {
		return
	}
	id, action := r.PathValue("id"), r.PathValue("action")
	receipt := strings.TrimSpace(r.PostForm.Get("r"))
	if !receiptActions[action] {
		h.fail(w, r, nil, problem{Status: http.StatusNotFound, Title: "没有这个操作"})
		return
	}
	snap, err := h.receiptSnap(r.Context(), id, receipt)
	if err != nil {
		h.failErr(w, r, nil, err)
		return
	}
	cmd, err := command(action, r.PostForm)
	if err == nil {
		_, err = h.svc.Act(r.Context(), h.meta(service.Resident), id, cmd, 0)
	}
	if err != nil {
		p, perr := h.receiptPage(r.Context(), r, h.reload(r.Context(), snap, id), receipt)
		if perr != nil {
			h.failErr(w, r, nil, perr)
			return
		}
		p.Problem = h.problemOf(r, err)
		h.render(w, p.Problem.Status, "receipt", p)
		return
	}
	http.Redirect(w, r, withParams("/receipt/"+id, "r", receipt, "ok", action), http.StatusSeeOther)
}

// prettyJSON indents an event's data for the audit page.
func prettyJSON(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return string(raw)
	}
	return strings.TrimSpace(b.String())
}
