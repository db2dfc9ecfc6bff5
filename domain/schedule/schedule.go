// Package schedule is a periodic service (周期式服务): a request that recurs, such as a
// visit to an elderly resident every Tuesday.
//
// Business rules:
//  1. An admin, or a steward of the lane, defines or cancels a schedule.
//  2. A schedule recurs daily, weekly (on a weekday) or monthly (on a day of the month)
//     at a local time of day, from a first date until an optional last one.
//  3. Each occurrence produces exactly one order; the order's id follows from the
//     schedule's id and the occurrence, so producing it twice is impossible.
//  4. A cancelled schedule produces nothing more.
package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// AggregateType is the schedule's aggregate type. Permanent.
const AggregateType = "schedule"

// Wire names of the schedule's events. Permanent.
const (
	TypeDefined   = "redlane.schedule.defined.v1"
	TypeCancelled = "redlane.schedule.cancelled.v1"
)

// Every is how often a schedule recurs.
type Every string

// The recurrences.
const (
	Daily   Every = "daily"
	Weekly  Every = "weekly"
	Monthly Every = "monthly"
)

// Defined: a periodic service was set up.
type Defined struct {
	Lane        string          `json:"lane"`
	Category    string          `json:"category"`
	Title       string          `json:"title"`
	Description string          `json:"description,omitempty"`
	Requester   order.Requester `json:"requester,omitzero"`
	Sealed      *order.Sealed   `json:"requester_sealed,omitempty"`
	Priority    order.Priority  `json:"priority"`
	Every       Every           `json:"every"`
	Weekday     int             `json:"weekday,omitempty"` // weekly: 0 Sunday … 6 Saturday
	Day         int             `json:"day,omitempty"`     // monthly: 1–28
	At          string          `json:"at"`                // local time of day, "09:30"
	From        string          `json:"from"`              // first local date, "2026-11-03"
	Until       string          `json:"until,omitempty"`   // last local date, inclusive
	Theme       string          `json:"theme,omitempty"`
}

// Cancelled: the schedule stopped.
type Cancelled struct {
	Reason string `json:"reason"`
}

// EventType names the event on the wire.
func (Defined) EventType() string { return TypeDefined }

// EventType names the event on the wire.
func (Cancelled) EventType() string { return TypeCancelled }

// Events is the registry of the schedule's event types.
var Events = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(domain.Def[Defined](), domain.Def[Cancelled]())
	return r
}()

// State is a schedule as its events have made it.
type State struct {
	ID string `json:"id"`
	Defined
	Active bool `json:"active"`
}

// Define sets up a schedule; the caller has checked that the lane exists.
type Define Defined

// Cancel stops a schedule.
type Cancel struct{ Reason string }

// MaxCatchUp is how far back a schedule may start, and how far back the desk looks for
// occurrences still without an order: a schedule never makes more than this span's
// worth of orders at once, however long the desk was stopped.
const MaxCatchUp = 31 * 24 * time.Hour

// Command is any of the schedule's commands.
type Command interface{ isCommand() }

func (Define) isCommand() {}
func (Cancel) isCommand() {}

// Env is what Decide needs besides the state and the command.
type Env struct {
	Actor   domain.Actor
	Exists  bool          // whether the schedule has been defined: its stream has events
	Catalog order.Catalog // the categories a schedule's orders may be in
	Now     time.Time     // the moment of deciding, which bounds how far back a schedule may start
}

// Decide decides cmd against s and returns the events it yields, or why it is refused.
func Decide(s State, cmd Command, env Env) ([]domain.Event, error) {
	switch c := cmd.(type) {
	case Define:
		return decideDefine(s, c, env)
	case Cancel:
		return decideCancel(s, c, env)
	}
	return nil, domain.Errorf(domain.KindInternal, "unknown schedule command %T", cmd)
}

// decideDefine enforces rules 1 and 2: an admin or a steward of the lane defines a
// schedule once, recurring daily, weekly or monthly at a time of day, from a first date
// no more than MaxCatchUp ago until an optional last one.
func decideDefine(s State, c Define, env Env) ([]domain.Event, error) {
	if env.Actor.Role != domain.RoleAdmin && !env.Actor.StewardOf(c.Lane) {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeScheduleLaneOnly, "only an admin or a steward of the lane defines its schedules")
	}
	d := Defined(c)
	d.Title = strings.TrimSpace(d.Title)
	if d.Priority == "" {
		d.Priority = order.PriorityNormal
	}
	var v domain.Validator
	v.Check(d.Lane != "", "lane", "is required")
	cat, ok := env.Catalog.Lookup(d.Category)
	v.Check(ok, "category", "is not in the catalogue")
	d.Category = cat.Code
	v.Check(d.Title != "", "title", "is required")
	v.Check(len([]rune(d.Title)) <= order.MaxTitle, "title", "is too long")
	v.Check(strings.TrimSpace(d.Requester.Name) != "", "requester.name", "is required")
	phone, phoneOK := order.NormalPhone(d.Requester.Phone)
	v.Check(phoneOK, "requester.phone", "must be a mainland mobile (13812345678) or landline (0576-88881234) number")
	d.Requester.Phone = phone
	v.Check(d.Priority == order.PriorityNormal || d.Priority == order.PriorityUrgent, "priority", "must be normal or urgent")
	switch d.Every {
	case Daily:
	case Weekly:
		v.Check(d.Weekday >= 0 && d.Weekday <= 6, "weekday", "must be 0 (Sunday) to 6 (Saturday)")
	case Monthly:
		v.Check(d.Day >= 1 && d.Day <= 28, "day", "must be 1 to 28")
	default:
		v.Check(false, "every", "must be daily, weekly or monthly")
	}
	_, err := time.Parse("15:04", d.At)
	v.Check(err == nil, "at", "must be a time of day such as 09:30")
	from, err := time.Parse(time.DateOnly, d.From)
	v.Check(err == nil, "from", "must be a date such as 2026-11-03")
	v.Check(err != nil || !from.Before(env.Now.Add(-MaxCatchUp).Truncate(24*time.Hour)), "from",
		fmt.Sprintf("may be at most %d days in the past", int(MaxCatchUp/(24*time.Hour))))
	if d.Until != "" {
		until, err := time.Parse(time.DateOnly, d.Until)
		v.Check(err == nil && !until.Before(from), "until", "must be a date on or after from")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if env.Exists {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeScheduleExists, "schedule %s already exists", s.ID)
	}
	return []domain.Event{d}, nil
}

// decideCancel enforces rules 1 and 4: an admin or a steward of the lane cancels a
// defined schedule, which then produces nothing more; cancelling it again changes
// nothing.
func decideCancel(s State, c Cancel, env Env) ([]domain.Event, error) {
	if !env.Exists {
		return nil, domain.Refuse(domain.KindNotFound, domain.CodeScheduleNotFound, "no such schedule")
	}
	if env.Actor.Role != domain.RoleAdmin && !env.Actor.StewardOf(s.Lane) {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeScheduleLaneOnly, "only an admin or a steward of the lane cancels its schedules")
	}
	if !s.Active {
		return nil, nil
	}
	return []domain.Event{Cancelled{Reason: strings.TrimSpace(c.Reason)}}, nil
}

// Evolve applies a schedule event.
func Evolve(s State, ev domain.Event, env domain.Envelope) State {
	s.ID = env.AggregateID
	switch e := ev.(type) {
	case Defined:
		s.Defined, s.Active = e, true
	case Cancelled:
		s.Active = false
	}
	return s
}

// Aggregate describes the schedule to the command runner.
var Aggregate = domain.Aggregate[State]{Type: AggregateType, Registry: Events, Evolve: Evolve}

// Occurrences returns the schedule's occurrences in (after, upto], in order, reckoned in
// loc. A schedule that is not active has none.
func (s State) Occurrences(after, upto time.Time, loc *time.Location) []time.Time {
	if !s.Active {
		return nil
	}
	at, err1 := time.Parse("15:04", s.At)
	from, err2 := time.ParseInLocation(time.DateOnly, s.From, loc)
	if err1 != nil || err2 != nil {
		return nil
	}
	var until time.Time
	if s.Until != "" {
		if u, err := time.ParseInLocation(time.DateOnly, s.Until, loc); err == nil {
			until = u.AddDate(0, 0, 1) // inclusive
		}
	}
	var out []time.Time
	// Walk days from the later of from and after's local date; schedules are short.
	day := from
	if a := after.In(loc); a.After(day) {
		day = time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, loc)
	}
	for ; !day.After(upto); day = day.AddDate(0, 0, 1) {
		if !until.IsZero() && !day.Before(until) {
			break
		}
		switch s.Every {
		case Weekly:
			if int(day.Weekday()) != s.Weekday {
				continue
			}
		case Monthly:
			if day.Day() != s.Day {
				continue
			}
		}
		t := time.Date(day.Year(), day.Month(), day.Day(), at.Hour(), at.Minute(), 0, 0, loc)
		if t.After(after) && !t.After(upto) {
			out = append(out, t)
		}
	}
	return out
}

// OccurrenceKey names one occurrence of a schedule: the source of its order's id.
func OccurrenceKey(scheduleID string, t time.Time) string {
	return fmt.Sprintf("%s@%s", scheduleID, t.UTC().Format(time.RFC3339))
}
