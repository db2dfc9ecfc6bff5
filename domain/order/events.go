package order

import (
	"slices"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
)

// AggregateType is the order's aggregate type: the middle of its subjects. Permanent.
const AggregateType = "order"

// Wire names of the order's events. They are a public contract: never renamed; a changed
// shape gets a new version (…v2) alongside the old.
const (
	TypeSubmitted  = "redlane.order.submitted.v1"
	TypeDispatched = "redlane.order.dispatched.v1"
	TypeReassigned = "redlane.order.reassigned.v1"
	TypeClaimed    = "redlane.order.claimed.v1"
	TypeAccepted   = "redlane.order.accepted.v1"
	TypeDeclined   = "redlane.order.declined.v1"
	TypeCompleted  = "redlane.order.completed.v1"
	TypeRated      = "redlane.order.rated.v1"
	TypeCancelled  = "redlane.order.cancelled.v1"
	TypeEscalated  = "redlane.order.escalated.v1"
	TypeReopened   = "redlane.order.reopened.v1"
	TypeNoted      = "redlane.order.noted.v1"
	TypeOverdue    = "redlane.order.overdue.v1"
	TypeReturned   = "redlane.order.returned.v1"
)

// Requester is the resident who placed the request.
type Requester struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	// Address is where in the lane the resident is, when they gave it. It travels with
	// their name and phone: sealed with them, and erased with them.
	Address Address `json:"address,omitzero"`
}

// Address is where in a lane a resident lives: 3号楼 2单元 201.
type Address struct {
	Building string `json:"building,omitempty"`
	Unit     string `json:"unit,omitempty"`
	Door     string `json:"door,omitempty"`
}

// String is the address as people write it: its parts, a space apart.
func (a Address) String() string {
	return strings.Join(slices.DeleteFunc([]string{a.Building, a.Unit, a.Door}, func(s string) bool { return s == "" }), " ")
}

// Sealed is a requester's name and phone encrypted with their resident's own key, which
// is kept outside the event stream. Destroying the key erases the resident (crypto-
// shredding) while every other fact of the history still replays.
type Sealed struct {
	Resident string `json:"resident"` // the key's id: a keyed digest of the phone number
	Nonce    []byte `json:"nonce"`
	Box      []byte `json:"box"` // AES-256-GCM of the JSON of a Requester
}

// Submitted: a resident placed a request (居民点单).
type Submitted struct {
	Number      string    `json:"number"`
	Lane        string    `json:"lane"`
	Community   string    `json:"community"`
	Street      string    `json:"street"`
	Category    string    `json:"category"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Requester   Requester `json:"requester,omitzero"`         // plain, only when no vault seals it
	Sealed      *Sealed   `json:"requester_sealed,omitempty"` // the requester, encrypted
	Mode        Mode      `json:"mode"`
	Channel     Channel   `json:"channel"`
	Priority    Priority  `json:"priority"`
	AcceptBy    time.Time `json:"accept_by"`
	CompleteBy  time.Time `json:"complete_by"`
	// Idempotency is a digest of the submit request's Idempotency-Key and body, when it
	// had a key: a retry with the same key but another body is refused.
	Idempotency string `json:"idempotency,omitempty"`
	// Theme is the thematic campaign (主题式服务) the order belongs to, if any.
	Theme string `json:"theme,omitempty"`
	// Schedule is the periodic schedule and occurrence that produced the order, if any.
	Schedule string `json:"schedule,omitempty"`
	// Answers are the answers to the category's questions, in the category's order;
	// absent from submissions made before categories asked any.
	Answers []Answer `json:"answers,omitempty"`
}

// Dispatched: the lane's steward handed the order to a member (组织下单).
type Dispatched struct {
	Member string `json:"member"`
}

// Reassigned: the steward took the order from one member and gave it to another.
type Reassigned struct {
	From   string `json:"from"`
	Member string `json:"member"`
	Reason string `json:"reason"`
}

// Claimed: a member of the community took an open order on (领办).
type Claimed struct {
	Member string `json:"member"`
	OnTime bool   `json:"on_time"`
}

// Accepted: the dispatched member accepted (党员接单).
type Accepted struct {
	Member string `json:"member"`
	OnTime bool   `json:"on_time"`
}

// Declined: the dispatched member declined; the order is open again.
type Declined struct {
	Member string `json:"member"`
	Reason string `json:"reason"`
}

// Completed: the assigned member finished the work (办结).
type Completed struct {
	Member  string `json:"member"`
	Note    string `json:"note"`
	Minutes int    `json:"minutes"`
	OnTime  bool   `json:"on_time"`
}

// Rated: the resident, or a steward after a call-back (回访), rated the work. Solved and
// satisfied are separate facts; an unsolved rating reopens the order (重办) with the new
// deadlines given here.
type Rated struct {
	Member     string    `json:"member"`
	Solved     bool      `json:"solved"`
	Stars      int       `json:"stars"`
	Comment    string    `json:"comment,omitempty"`
	AcceptBy   time.Time `json:"accept_by,omitzero"`
	CompleteBy time.Time `json:"complete_by,omitzero"`
}

// Cancelled: the order was withdrawn.
type Cancelled struct {
	Reason string `json:"reason"`
}

// Escalated: the order went up to the community or the street office (街道兜底).
type Escalated struct {
	Level  Level  `json:"level"`
	Reason string `json:"reason"`
}

// Returned: the office the order was escalated to sent it back down one level (退回),
// from From to Level: street → community, community → lane.
type Returned struct {
	From   Level  `json:"from"`
	Level  Level  `json:"level"`
	Reason string `json:"reason"`
}

// Reopened: a steward reopened a completed or closed order (重办).
type Reopened struct {
	Reason     string    `json:"reason"`
	AcceptBy   time.Time `json:"accept_by"`
	CompleteBy time.Time `json:"complete_by"`
}

// Noted: a steward or the assigned member added a note.
type Noted struct {
	Text     string `json:"text"`
	Internal bool   `json:"internal"`
}

// MarkedOverdue: a deadline passed before the order got there.
type MarkedOverdue struct {
	Deadline DeadlineKind `json:"deadline"`
	Due      time.Time    `json:"due"`
}

// EventType names each event on the wire.
func (Submitted) EventType() string     { return TypeSubmitted }
func (Dispatched) EventType() string    { return TypeDispatched }
func (Reassigned) EventType() string    { return TypeReassigned }
func (Claimed) EventType() string       { return TypeClaimed }
func (Accepted) EventType() string      { return TypeAccepted }
func (Declined) EventType() string      { return TypeDeclined }
func (Completed) EventType() string     { return TypeCompleted }
func (Rated) EventType() string         { return TypeRated }
func (Cancelled) EventType() string     { return TypeCancelled }
func (Escalated) EventType() string     { return TypeEscalated }
func (Reopened) EventType() string      { return TypeReopened }
func (Noted) EventType() string         { return TypeNoted }
func (MarkedOverdue) EventType() string { return TypeOverdue }
func (Returned) EventType() string      { return TypeReturned }

// Events is the registry of the order's event types.
var Events = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(
		domain.Def[Submitted](), domain.Def[Dispatched](), domain.Def[Reassigned](),
		domain.Def[Claimed](), domain.Def[Accepted](), domain.Def[Declined](),
		domain.Def[Completed](), domain.Def[Rated](), domain.Def[Cancelled](),
		domain.Def[Escalated](), domain.Def[Reopened](), domain.Def[Noted](),
		domain.Def[MarkedOverdue](), domain.Def[Returned](),
	)
	return r
}()
