// Package order is the work order: a resident's request from submission to rating.
//
// Business rules:
//  1. A request is submitted to one lane, in a category of the catalogue; its deadlines
//     to be accepted and completed follow from the category and priority. It answers
//     the category's questions: each required one (but for the system's periodic
//     orders, which nobody is there to answer), each in its datatype, nothing else.
//  2. Only a steward of the order's lane dispatches, reassigns, cancels, escalates and
//     reopens it. Dispatching an order that is not open is refused: handing it to someone
//     else is an explicit reassign.
//  3. A member of the lane's community may claim an open order; only the dispatched member
//     accepts or declines it, and only the assigned member completes it.
//  4. The resident (with the receipt), or a steward after a call-back, rates a completed
//     order. Solved and satisfied are separate facts; an unsolved rating reopens it.
//  5. A resident may cancel their own order while it is open.
//  6. Escalation goes up one step at a time: lane → community → street. Stewards (and
//     the system) escalate to the community, only community staff send an order with
//     them on to the street, and the configured rules escalate too:
//     by default an order declined twice, or past a deadline, goes up to the community
//     in the same step. The only way down is rule 9's send-back.
//  7. Notes may be added to any order that is not cancelled, by a steward or the
//     assigned member.
//  8. Each deadline is marked overdue at most once per cycle, by the system.
//  9. The office an order is escalated to (兜底) takes it on while it is there: community
//     staff of the order's community while it is at level community, street staff of its
//     street while it is at level street. That office dispatches and reassigns it, only
//     to active members of the order's community; community staff send it on up to the
//     street; and the office sends it back down one level with a reason (street →
//     community → lane: Returned), after which the office below has it again and the
//     lane's declines count afresh. An office acts on nothing below or beside it, though
//     it still reads what reached it (State.Reached).
//  10. The office an order is with may close it with a reason while it is unfinished. It
//     ends as cancelled, the same Cancelled fact a steward's cancel records, with the
//     office as its actor: "closed" is the resident's verdict that the problem was solved
//     and counts towards the resolution rate, while an office that ends an order it will
//     not pursue (not a neighbourhood matter, handed to another department, a duplicate)
//     solved nothing.
//
// Anything else is refused, and a refused command yields no event.
package order

import (
	"slices"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
)

// Status is where an order is in its life.
type Status string

// The statuses.
const (
	StatusNone       Status = ""
	StatusOpen       Status = "open"
	StatusDispatched Status = "dispatched"
	StatusAccepted   Status = "accepted"
	StatusCompleted  Status = "completed"
	StatusClosed     Status = "closed"
	StatusCancelled  Status = "cancelled"
)

// Mode is how a service is organised: 即时式, 主题式 or 周期式.
type Mode string

// The modes.
const (
	ModeInstant  Mode = "instant"
	ModeThematic Mode = "thematic"
	ModePeriodic Mode = "periodic"
)

// Channel is where a request came in.
type Channel string

// The channels.
const (
	ChannelStation  Channel = "station"
	ChannelHotline  Channel = "hotline"
	ChannelTerminal Channel = "terminal"
	ChannelWeb      Channel = "web"
	// ChannelOpen311 is any Open311 GeoReport v2 client: a city app, a hotline vendor's
	// tool, FixMyStreet.
	ChannelOpen311 Channel = "open311"
)

// Priority decides which deadlines apply.
type Priority string

// The priorities.
const (
	PriorityNormal Priority = "normal"
	PriorityUrgent Priority = "urgent"
)

// Level is how far up an order has been escalated.
type Level string

// The levels, lowest first.
const (
	LevelLane      Level = "lane"
	LevelCommunity Level = "community"
	LevelStreet    Level = "street"
)

// Below is the level one step down: street → community → lane.
func (l Level) Below() Level {
	if l == LevelStreet {
		return LevelCommunity
	}
	return LevelLane
}

// AtLeast reports whether l is o or above it.
func (l Level) AtLeast(o Level) bool { return l.rank() >= o.rank() }

func (l Level) rank() int {
	switch l {
	case LevelCommunity:
		return 1
	case LevelStreet:
		return 2
	default:
		return 0
	}
}

// DeadlineKind names one of an order's two deadlines.
type DeadlineKind string

// The deadlines.
const (
	DeadlineAccept   DeadlineKind = "accept"
	DeadlineComplete DeadlineKind = "complete"
)

// Rating is the resident's judgement of the work.
type Rating struct {
	Solved  bool      `json:"solved"`
	Stars   int       `json:"stars"`
	Comment string    `json:"comment,omitempty"`
	Member  string    `json:"member"`
	At      time.Time `json:"at"`
}

// State is an order as its events have made it.
type State struct {
	ID          string
	Number      string
	Lane        string
	Community   string
	Street      string
	Category    string
	Title       string
	Description string
	Requester   Requester
	Sealed      *Sealed // the requester, when sealed; Requester is then empty
	Mode        Mode
	Channel     Channel
	Priority    Priority
	Idempotency string
	Theme       string
	Schedule    string
	Answers     []Answer

	Status     Status
	Assignee   string
	Escalation Level
	// Reached is the highest level the order was ever escalated to: an office reads the
	// orders that reached it even after sending them back down.
	Reached  Level
	Declines int // declines since the order was last opened or sent back down
	Rating   *Rating

	SubmittedAt time.Time
	UpdatedAt   time.Time
	CycleStart  time.Time // submission, or the last reopening
	AcceptBy    time.Time
	CompleteBy  time.Time
	AcceptedAt  time.Time
	OverdueOn   []DeadlineKind // deadlines marked overdue in this cycle
}

// Size is about how many bytes the state holds in memory: its text, and a fixed part for
// the rest and for the runner's cache entry around it (what the cache counts).
func (s State) Size() int {
	n := 1100 // measured: an order held costs about 1.6 KB of heap in all
	for _, t := range []string{s.ID, s.Number, s.Lane, s.Community, s.Street, s.Category, s.Title, s.Description,
		s.Requester.Name, s.Requester.Phone, s.Requester.Address.Building, s.Requester.Address.Unit, s.Requester.Address.Door, string(s.Mode), string(s.Channel), string(s.Priority), s.Idempotency,
		s.Theme, s.Schedule, string(s.Status), s.Assignee, string(s.Escalation), string(s.Reached)} {
		n += len(t)
	}
	if s.Sealed != nil {
		n += 80 + len(s.Sealed.Resident) + len(s.Sealed.Nonce) + len(s.Sealed.Box)
	}
	if s.Rating != nil {
		n += 80 + len(s.Rating.Comment) + len(s.Rating.Member)
	}
	for _, a := range s.Answers {
		n += 64 + len(a.Code) + len(a.Question)
		for _, x := range a.Values {
			n += 16 + len(x)
		}
		for _, x := range a.Names {
			n += 16 + len(x)
		}
	}
	for _, d := range s.OverdueOn {
		n += 16 + len(d)
	}
	return n
}

// Overdue reports whether a deadline of the current cycle has been marked overdue.
func (s State) Overdue() bool { return len(s.OverdueOn) > 0 }

// Dispatch and the other command types are what callers ask of an order.
type (
	// Submit places a new request. Lane is the lane as the caller found it; an unknown
	// lane is the caller's to refuse.
	Submit struct {
		Number      string
		Lane        LaneRef
		Category    string
		Title       string
		Description string
		Requester   Requester
		Mode        Mode
		Channel     Channel
		Priority    Priority
		Idempotency string
		Theme       string
		Schedule    string
		// Answers are the answers to the category's questions, by question code: one
		// value, or several for a multivaluelist.
		Answers map[string][]string
	}
	// Dispatch hands an open order to a member.
	Dispatch struct{ Member MemberRef }
	// Reassign hands a dispatched or accepted order to another member.
	Reassign struct {
		Member MemberRef
		Reason string
	}
	// Claim takes an open order on for the acting member.
	Claim struct{ Member MemberRef }
	// Accept accepts a dispatch.
	Accept struct{}
	// Decline refuses a dispatch.
	Decline struct{ Reason string }
	// Complete records the work done.
	Complete struct {
		Note    string
		Minutes int
	}
	// Rate records the resident's rating. Solved is a pointer so a missing answer is told
	// from "no".
	Rate struct {
		Solved  *bool
		Stars   int
		Comment string
	}
	// Cancel withdraws the order.
	Cancel struct{ Reason string }
	// Escalate sends the order up.
	Escalate struct {
		Level  Level
		Reason string
	}
	// Return sends an escalated order back down one level (退回).
	Return struct{ Reason string }
	// Close ends an escalated order the office will not pursue (办结归档 by the office).
	Close struct{ Reason string }
	// Reopen opens a completed or closed order again.
	Reopen struct{ Reason string }
	// Note adds a note.
	Note struct {
		Text     string
		Internal bool
	}
	// MarkOverdue records that a deadline passed.
	MarkOverdue struct{ Deadline DeadlineKind }
)

// LaneRef is what an order needs to know of its lane.
type LaneRef struct{ ID, Community, Street string }

// MemberRef is what an order needs to know of a member.
type MemberRef struct {
	ID        string
	Community string
	Active    bool
}

// Command is any of the order's commands.
type Command interface{ isCommand() }

func (Submit) isCommand()      {}
func (Dispatch) isCommand()    {}
func (Reassign) isCommand()    {}
func (Claim) isCommand()       {}
func (Accept) isCommand()      {}
func (Decline) isCommand()     {}
func (Complete) isCommand()    {}
func (Rate) isCommand()        {}
func (Cancel) isCommand()      {}
func (Escalate) isCommand()    {}
func (Return) isCommand()      {}
func (Close) isCommand()       {}
func (Reopen) isCommand()      {}
func (Note) isCommand()        {}
func (MarkOverdue) isCommand() {}

// Limits on text fields, in characters.
const (
	MaxTitle       = 100
	MaxAddressPart = 20 // each of an address's building, unit and door
	MaxDescription = 2000
	MaxReason      = 500
	MaxNote        = 2000
	MaxMinutes     = 7 * 24 * 60
)

// Evolve applies one stored event to the state. It never fails and accepts facts that
// today's rules would refuse.
func Evolve(s State, ev domain.Event, env domain.Envelope) State {
	s.ID = env.AggregateID
	s.UpdatedAt = env.Time
	switch e := ev.(type) {
	case Submitted:
		s.Number, s.Lane, s.Community, s.Street = e.Number, e.Lane, e.Community, e.Street
		s.Category, s.Title, s.Description, s.Requester = e.Category, e.Title, e.Description, e.Requester
		s.Mode, s.Channel, s.Priority, s.Idempotency = e.Mode, e.Channel, e.Priority, e.Idempotency
		s.Theme, s.Schedule, s.Sealed, s.Answers = e.Theme, e.Schedule, e.Sealed, e.Answers
		s.Status, s.Escalation = StatusOpen, LevelLane
		s.SubmittedAt, s.CycleStart = env.Time, env.Time
		s.AcceptBy, s.CompleteBy = e.AcceptBy, e.CompleteBy
	case Dispatched:
		s.Status, s.Assignee = StatusDispatched, e.Member
	case Reassigned:
		s.Status, s.Assignee, s.AcceptedAt = StatusDispatched, e.Member, time.Time{}
	case Claimed:
		s.Status, s.Assignee, s.AcceptedAt = StatusAccepted, e.Member, env.Time
	case Accepted:
		s.Status, s.AcceptedAt = StatusAccepted, env.Time
	case Declined:
		s.Status, s.Assignee = StatusOpen, ""
		s.Declines++
	case Completed:
		s.Status = StatusCompleted
	case Rated:
		s.Rating = &Rating{Solved: e.Solved, Stars: e.Stars, Comment: e.Comment, Member: e.Member, At: env.Time}
		if e.Solved {
			s.Status = StatusClosed
		} else {
			s = reopen(s, env.Time, e.AcceptBy, e.CompleteBy)
		}
	case Cancelled:
		s.Status = StatusCancelled
	case Escalated:
		s.Escalation = e.Level
		if e.Level.rank() > s.Reached.rank() {
			s.Reached = e.Level
		}
	case Returned:
		s.Escalation, s.Declines = e.Level, 0
	case Reopened:
		s = reopen(s, env.Time, e.AcceptBy, e.CompleteBy)
	case Noted:
		// Notes live in the history; the state keeps none.
	case MarkedOverdue:
		if !slices.Contains(s.OverdueOn, e.Deadline) {
			s.OverdueOn = append(slices.Clip(s.OverdueOn), e.Deadline)
		}
	}
	return s
}

func reopen(s State, at, acceptBy, completeBy time.Time) State {
	s.Status, s.Assignee, s.Declines = StatusOpen, "", 0
	s.CycleStart, s.AcceptBy, s.CompleteBy = at, acceptBy, completeBy
	s.AcceptedAt, s.OverdueOn = time.Time{}, nil
	return s
}

// IsNumber reports whether s has the shape of an order's number, the date it was placed
// (Asia/Shanghai) and six letters or digits: 20261130-G4HNJM.
func IsNumber(s string) bool {
	if len(s) != 15 || s[8] != '-' {
		return false
	}
	for i := 0; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	for i := 9; i < 15; i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// PhoneKey is a phone number as one resident's: its digits, without China's country
// code (+86, 0086) before a mobile number, so that 13812345678, 138 1234 5678 and
// +86 138-1234-5678 are the same person to the privacy vault.
func PhoneKey(p string) string {
	d := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if c := p[i]; c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	s := string(d)
	switch {
	case len(s) == 15 && strings.HasPrefix(s, "0086") && s[4] == '1':
		return s[4:]
	case len(s) == 13 && strings.HasPrefix(s, "86") && s[2] == '1':
		return s[2:]
	}
	return s
}

// NormalPhone reads a mainland phone number in the forms people write it and returns
// it in one form, or false when it is none: a mobile (13812345678, +86 138 1234 5678,
// 0086-138-1234-5678) as its 11 digits; a landline (0576-8888 1234, (010) 8888 1234,
// +86 576 8888 1234) as its area code, a hyphen and its 7 or 8 digits (0576-88881234).
// Service numbers (12345, 96345, 400…) are not a resident's phone.
func NormalPhone(p string) (string, bool) {
	d := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c >= '0' && c <= '9':
			d = append(d, c)
		case c == ' ' || c == '-' || c == '(' || c == ')' || c == '.':
		case c == '+' && len(d) == 0:
		default:
			return "", false
		}
	}
	s := string(d)
	international := false
	if rest, ok := strings.CutPrefix(s, "0086"); ok {
		s, international = rest, true
	} else if rest, ok := strings.CutPrefix(s, "86"); ok && (len(rest) == 11 || strings.HasPrefix(p, "+") || strings.Contains(p, "+86")) {
		s, international = rest, true
	}
	if len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' {
		return s, true
	}
	if international {
		s = "0" + s // a landline abroad drops its trunk 0
	}
	if len(s) < 10 || s[0] != '0' || s[1] == '0' {
		return "", false
	}
	area := 4 // 0576: most cities
	if s[1] == '1' || s[1] == '2' {
		area = 3 // 010 Beijing, 02x the largest cities
	}
	local := s[area:]
	if (len(local) != 7 && len(local) != 8) || local[0] == '0' || local[0] == '1' {
		return "", false
	}
	return s[:area] + "-" + local, true
}

// MaskPhone hides the middle of a phone number: 13812345678 → 138****5678. Shorter
// numbers keep at most their last third (none under six), so no number is shown whole.
func MaskPhone(p string) string {
	r := []rune(p)
	n := len(r)
	if n >= 11 {
		return string(r[:3]) + "****" + string(r[n-4:])
	}
	keep := 0
	if n >= 6 {
		keep = n / 3
	}
	return strings.Repeat("*", n-keep) + string(r[n-keep:])
}

// Aggregate describes the order to the command runner.
var Aggregate = domain.Aggregate[State]{Type: AggregateType, Registry: Events, Evolve: Evolve}
