package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// orderView is an order as the API shows it.
type orderView struct {
	ID          string        `json:"id"`
	Number      string        `json:"number"`
	Lane        string        `json:"lane"`
	Community   string        `json:"community"`
	Street      string        `json:"street"`
	Category    string        `json:"category"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Requester   requesterView `json:"requester"`
	// Address is where in the lane the resident is: shown to whom sees the phone, and to
	// the resident with the receipt.
	Address     *order.Address `json:"address,omitempty"`
	Mode        order.Mode     `json:"mode"`
	Channel     order.Channel  `json:"channel"`
	Priority    order.Priority `json:"priority"`
	Status      order.Status   `json:"status"`
	Assignee    *string        `json:"assignee"`
	Escalation  order.Level    `json:"escalation"`
	Overdue     bool           `json:"overdue"`
	Version     uint64         `json:"version"`
	Rating      *order.Rating  `json:"rating"`
	SubmittedAt time.Time      `json:"submitted_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
	AcceptBy    time.Time      `json:"accept_by"`
	CompleteBy  time.Time      `json:"complete_by"`
	Theme       string         `json:"theme,omitempty"`
	Schedule    string         `json:"schedule,omitempty"`
	Receipt     string         `json:"receipt,omitempty"`
	Answers     []answerView   `json:"answers"`
}

// answerView is the answer to one of the category's questions: the question as it was
// asked, the values given and the answer as people read it (a list's choices by name).
type answerView struct {
	Code     string   `json:"code"`
	Question string   `json:"question"`
	Values   []string `json:"values"`
	Answer   string   `json:"answer"`
}

func answersOf(as []order.Answer) []answerView {
	out := make([]answerView, len(as))
	for i, a := range as {
		out[i] = answerView{Code: a.Code, Question: a.Question, Values: a.Values, Answer: a.Shown()}
	}
	return out
}

// readAnswers reads a submit's answers: by question code, a string, a number or a list
// of them (a multivaluelist's keys).
func readAnswers(raw map[string]json.RawMessage) (map[string][]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var v domain.Validator
	out := make(map[string][]string, len(raw))
	for code, msg := range raw {
		var one any
		var many []any
		trimmed := string(bytes.TrimSpace(msg))
		switch {
		case trimmed == "null":
			continue
		case strings.HasPrefix(trimmed, "["):
			_ = json.Unmarshal(msg, &many)
		case json.Unmarshal(msg, &one) == nil:
			many = []any{one}
		}
		ok := len(many) > 0 || trimmed == "[]"
		for _, x := range many {
			switch x := x.(type) {
			case string:
				out[code] = append(out[code], x)
			case float64:
				out[code] = append(out[code], strconv.FormatFloat(x, 'f', -1, 64))
			default:
				ok = false
			}
		}
		v.Check(ok, "answers."+code, "must be a string, a number, or a list of them")
	}
	return out, v.Err()
}

type requesterView struct {
	Name   string `json:"name"`
	Phone  string `json:"phone"`
	Erased bool   `json:"erased,omitempty"`
}

// view shows an order to actor: the phone in full only to whom query.SeesPhone says.
func (a *API) view(ctx context.Context, snap domain.Snapshot[order.State], actor domain.Actor) (orderView, error) {
	s := snap.State
	req, erased, err := a.svc.Requester(ctx, s)
	if err != nil {
		return orderView{}, err
	}
	phone := req.Phone
	sees := query.SeesPhone(actor, query.PlaceOf(s), s.Status)
	if !erased && !sees {
		phone = order.MaskPhone(phone)
	}
	var addr *order.Address
	if !erased && req.Address != (order.Address{}) && (sees || actor.Role == domain.RoleResident) {
		addr = &req.Address
	}
	v := orderView{
		ID: s.ID, Number: s.Number, Lane: s.Lane, Community: s.Community, Street: s.Street,
		Category: s.Category, Title: s.Title, Description: s.Description,
		Requester: requesterView{Name: req.Name, Phone: phone, Erased: erased}, Address: addr,
		Mode: s.Mode, Channel: s.Channel, Priority: s.Priority,
		Status: s.Status, Escalation: s.Escalation, Overdue: s.Overdue(), Version: snap.Version,
		Rating: s.Rating, SubmittedAt: s.SubmittedAt, UpdatedAt: s.UpdatedAt,
		AcceptBy: s.AcceptBy, CompleteBy: s.CompleteBy, Theme: s.Theme, Schedule: s.Schedule,
		Answers: answersOf(s.Answers),
	}
	if s.Assignee != "" {
		v.Assignee = &s.Assignee
	}
	return v, nil
}

type submitRequest struct {
	Lane        string        `json:"lane"`
	Category    string        `json:"category"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Requester   requesterView `json:"requester"`
	Address     order.Address `json:"address"`
	Mode        string        `json:"mode"`
	Channel     string        `json:"channel"`
	Priority    string        `json:"priority"`
	// Answers are the answers to the category's questions, by question code.
	Answers map[string]json.RawMessage `json:"answers"`
}

// answersKey puts answers in one string, the same whatever order they came in, for a
// request's fingerprint.
func answersKey(answers map[string][]string) string {
	keys := slices.Sorted(maps.Keys(answers))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%q=%q", k, answers[k])
	}
	return strings.Join(parts, "&")
}

// idempotencyScope is whose Idempotency-Keys a submit's is among: the token's, or for a
// resident without one the client's address.
func (a *API) idempotencyScope(r *http.Request, actor domain.Actor) string {
	if actor.ID != service.Resident.ID {
		return "token:" + actor.ID
	}
	return "address:" + ClientIP(r, a.cfg.TrustedProxies)
}

func (a *API) submit(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(service.WithOpened(r.Context())) // the answer shows what the submit sealed
	actor := service.Resident
	if _, sent := bearer(r); sent {
		var err error
		if actor, err = a.actor(r); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	var req submitRequest
	if err := readBody(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	answers, err := readAnswers(req.Answers)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 200 {
		a.fail(w, r, domain.Invalid("Idempotency-Key", "must be at most 200 characters"))
		return
	}
	fp := sha256.Sum256([]byte(strings.Join([]string{req.Lane, req.Category, req.Title, req.Description,
		req.Requester.Name, req.Requester.Phone, req.Address.String(), req.Mode, req.Channel, req.Priority, actor.ID, answersKey(answers)}, "\x00")))
	snap, created, err := a.svc.Submit(r.Context(), a.meta(r, actor), service.SubmitRequest{
		LaneID: req.Lane,
		Submit: order.Submit{
			Category: req.Category, Title: req.Title, Description: req.Description,
			Requester: order.Requester{Name: req.Requester.Name, Phone: req.Requester.Phone, Address: req.Address},
			Mode:      order.Mode(req.Mode), Channel: order.Channel(req.Channel), Priority: order.Priority(req.Priority),
			Answers: answers,
		},
		IdempotencyKey:   key,
		IdempotencyScope: a.idempotencyScope(r, actor),
		Fingerprint:      hex.EncodeToString(fp[:]),
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/orders/"+snap.ID)
	if !created {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	a.writeOrder(w, r, http.StatusCreated, snap, actor, a.svc.Receipt(snap.ID))
}

// writeOrder answers with the order as actor may see it, its version as the ETag, and
// the receipt when there is one to give.
func (a *API) writeOrder(w http.ResponseWriter, r *http.Request, status int, snap domain.Snapshot[order.State], actor domain.Actor, receipt string) {
	v, err := a.view(r.Context(), snap, actor)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v.Receipt = receipt
	w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(snap.Version, 10)))
	writeJSON(w, status, v)
}

// orderActor authenticates a request about one order: a bearer token, or else the
// resident's receipt (X-Receipt, or receipt in the body of rate and cancel).
func (a *API) orderActor(r *http.Request, id, bodyReceipt string) (domain.Actor, error) {
	if _, sent := bearer(r); sent {
		return a.actor(r)
	}
	receipt := r.Header.Get("X-Receipt")
	if receipt == "" {
		receipt = bodyReceipt
	}
	if receipt == "" {
		return domain.Actor{}, domain.Refuse(domain.KindUnauthorized, domain.CodeReceiptRequired, "a bearer token or the order's receipt is required")
	}
	if !a.svc.CheckReceipt(id, receipt) {
		return domain.Actor{}, domain.Refuse(domain.KindUnauthorized, domain.CodeReceiptInvalid, "the receipt does not match this order")
	}
	return service.Resident, nil
}

// orderID is the order a path names: its id, or its number (20261130-G4HNJM), which
// residents and the hotline quote. A number is found while the order is live or was
// placed within the search's window (--search-days).
func (a *API) orderID(r *http.Request) string {
	id := r.PathValue("id")
	if n := strings.ToUpper(id); order.IsNumber(n) && a.index != nil {
		if found, ok := a.index.ByNumber(n); ok {
			return found
		}
	}
	return id
}

func (a *API) getOrder(w http.ResponseWriter, r *http.Request) {
	id := a.orderID(r)
	actor, err := a.orderActor(r, id, "")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	snap, err := a.svc.Order(r.Context(), id)
	if err == nil && !a.mayRead(actor, snap.State) {
		err = domain.Refuse(domain.KindForbidden, domain.CodeReadNotAllowed, "this order is not yours to read")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeOrder(w, r, http.StatusOK, snap, actor, "")
}

// mayRead reports whether actor may read an order in state s (query.MayRead).
func (a *API) mayRead(actor domain.Actor, s order.State) bool {
	community := ""
	if m, ok := a.svc.Dir.Member(actor.Member); ok && actor.Role == domain.RoleMember {
		community = m.Community
	}
	return query.MayRead(actor, query.PlaceOf(s), community)
}

func (a *API) orderEvents(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	var snap domain.Snapshot[order.State]
	if err == nil {
		snap, err = a.svc.Order(r.Context(), a.orderID(r))
	}
	if err == nil {
		err = forbidUnless(actor.Role == domain.RoleAuditor || actor.StewardOf(snap.State.Lane),
			domain.CodeReadNotAllowed, "only auditors and the lane's stewards read an order's events")
	}
	var recs []domain.Recorded
	if err == nil {
		recs, err = a.svc.History(r.Context(), snap.ID)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	type item struct {
		domain.Envelope
		Seq uint64 `json:"seq"`
		// Rejected marks an event in the log that Redlane did not sign: ignored.
		Rejected string `json:"rejected,omitempty"`
		Notice   string `json:"notice,omitempty"`
	}
	items := make([]item, len(recs))
	for i, rec := range recs {
		items[i] = item{Envelope: rec.Envelope, Seq: rec.Seq, Rejected: rec.Rejected}
		if rec.Rejected != "" {
			items[i].Notice = query.NotRedlanes
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// actionBody holds the fields of every order action; each action reads its own.
type actionBody struct {
	Member   string `json:"member"`
	Reason   string `json:"reason"`
	Note     string `json:"note"`
	Minutes  int    `json:"minutes"`
	Solved   *bool  `json:"solved"`
	Stars    int    `json:"stars"`
	Comment  string `json:"comment"`
	Receipt  string `json:"receipt"`
	Level    string `json:"level"`
	Text     string `json:"text"`
	Internal bool   `json:"internal"`
}

func (b actionBody) command(action string) (order.Command, bool) {
	switch action {
	case "dispatch":
		return order.Dispatch{Member: order.MemberRef{ID: b.Member}}, true
	case "claim":
		return order.Claim{}, true
	case "reassign":
		return order.Reassign{Member: order.MemberRef{ID: b.Member}, Reason: b.Reason}, true
	case "accept":
		return order.Accept{}, true
	case "decline":
		return order.Decline{Reason: b.Reason}, true
	case "complete":
		return order.Complete{Note: b.Note, Minutes: b.Minutes}, true
	case "rate":
		return order.Rate{Solved: b.Solved, Stars: b.Stars, Comment: b.Comment}, true
	case "cancel":
		return order.Cancel{Reason: b.Reason}, true
	case "escalate":
		return order.Escalate{Level: order.Level(b.Level), Reason: b.Reason}, true
	case "reopen":
		return order.Reopen{Reason: b.Reason}, true
	case "return":
		return order.Return{Reason: b.Reason}, true
	case "close":
		return order.Close{Reason: b.Reason}, true
	case "note":
		return order.Note{Text: b.Text, Internal: b.Internal}, true
	}
	return nil, false
}

// parseIfMatch reads If-Match: "N" (or W/"N", or N). Zero means no precondition.
func parseIfMatch(h string) (uint64, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, nil
	}
	h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.ParseUint(h, 10, 64)
	if err != nil || n == 0 {
		return 0, domain.Invalid("If-Match", `must be the order's version in quotes, such as "3"`)
	}
	return n, nil
}

func (a *API) act(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(service.WithOpened(r.Context())) // the command and its answer open the requester once
	id, action := a.orderID(r), r.PathValue("action")
	var body actionBody
	_, known := body.command(action)
	if !known {
		a.fail(w, r, &httpError{status: http.StatusNotFound, detail: "no such action: " + action})
		return
	}
	// Authenticate before reading the body, except that a receipt may come in the body.
	_, sent := bearer(r)
	var err error
	var actor domain.Actor
	if sent || r.Header.Get("X-Receipt") != "" {
		actor, err = a.orderActor(r, id, "")
	}
	if err == nil {
		err = readBody(w, r, &body)
	}
	if err == nil && !sent && r.Header.Get("X-Receipt") == "" {
		actor, err = a.orderActor(r, id, body.Receipt)
	}
	var ifMatch uint64
	if err == nil {
		ifMatch, err = parseIfMatch(r.Header.Get("If-Match"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	cmd, _ := body.command(action)
	snap, err := a.svc.Act(r.Context(), a.meta(r, actor), id, cmd, ifMatch)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeOrder(w, r, http.StatusOK, snap, actor, "")
}
