// Package campaign is a thematic campaign (主题式服务, "one month, one theme"): a theme
// that tags the orders of a community over a period.
//
// Business rules:
//  1. Only an admin launches or ends a campaign.
//  2. A campaign covers a community's orders submitted between two local dates
//     (inclusive), optionally only some categories.
//  3. An ended campaign tags nothing more.
package campaign

import (
	"slices"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// AggregateType is the campaign's aggregate type. Permanent.
const AggregateType = "campaign"

// Wire names of the campaign's events. Permanent.
const (
	TypeLaunched = "redlane.campaign.launched.v1"
	TypeEnded    = "redlane.campaign.ended.v1"
)

// Launched: a campaign began.
type Launched struct {
	Theme      string   `json:"theme"`
	Community  string   `json:"community"`
	From       string   `json:"from"`  // local date
	Until      string   `json:"until"` // local date, inclusive
	Categories []string `json:"categories,omitempty"`
}

// Ended: a campaign was ended early.
type Ended struct {
	Reason string `json:"reason"`
}

// EventType names the event on the wire.
func (Launched) EventType() string { return TypeLaunched }

// EventType names the event on the wire.
func (Ended) EventType() string { return TypeEnded }

// Events is the registry of the campaign's event types.
var Events = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(domain.Def[Launched](), domain.Def[Ended]())
	return r
}()

// State is a campaign as its events have made it.
type State struct {
	ID string `json:"id"`
	Launched
	Active bool `json:"active"`
}

// Launch begins a campaign; End ends it.
type (
	Launch Launched
	End    struct{ Reason string }
)

// Command is any of the campaign's commands.
type Command interface{ isCommand() }

func (Launch) isCommand() {}
func (End) isCommand()    {}

// Env is what Decide needs besides the state and the command.
type Env struct {
	Actor   domain.Actor
	Exists  bool          // whether the campaign has been launched: its stream has events
	Catalog order.Catalog // the categories a campaign may be limited to
}

// Decide decides cmd against s and returns the events it yields, or why it is refused.
// Rule 1 holds for every command; each command's own rules are in its function.
func Decide(s State, cmd Command, env Env) ([]domain.Event, error) {
	if env.Actor.Role != domain.RoleAdmin {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages campaigns")
	}
	switch c := cmd.(type) {
	case Launch:
		return decideLaunch(s, c, env)
	case End:
		return decideEnd(s, c, env)
	}
	return nil, domain.Errorf(domain.KindInternal, "unknown campaign command %T", cmd)
}

// decideLaunch enforces rule 2: a campaign is launched once, for a community, between
// two dates in order, optionally for some categories of the catalogue.
func decideLaunch(s State, c Launch, env Env) ([]domain.Event, error) {
	l := Launched(c)
	l.Theme = strings.TrimSpace(l.Theme)
	var v domain.Validator
	v.Check(l.Theme != "" && len([]rune(l.Theme)) <= 50, "theme", "is required, at most 50 characters")
	v.Check(domain.ValidID(l.Community), "community", domain.IDRule)
	from, err := time.Parse(time.DateOnly, l.From)
	v.Check(err == nil, "from", "must be a date such as 2026-11-01")
	until, err := time.Parse(time.DateOnly, l.Until)
	v.Check(err == nil && !until.Before(from), "until", "must be a date on or after from")
	for i, cat := range l.Categories {
		got, ok := env.Catalog.Lookup(cat)
		v.Check(ok, "categories", "not in the catalogue: "+cat)
		l.Categories[i] = got.Code
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if env.Exists {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeCampaignExists, "campaign %s already exists", s.ID)
	}
	return []domain.Event{l}, nil
}

// decideEnd enforces rule 3: a launched campaign ends once and tags nothing more; ending
// it again changes nothing.
func decideEnd(s State, c End, env Env) ([]domain.Event, error) {
	if !env.Exists {
		return nil, domain.Refuse(domain.KindNotFound, domain.CodeCampaignNotFound, "no such campaign")
	}
	if !s.Active {
		return nil, nil
	}
	return []domain.Event{Ended{Reason: strings.TrimSpace(c.Reason)}}, nil
}

// Evolve applies a campaign event.
func Evolve(s State, ev domain.Event, env domain.Envelope) State {
	s.ID = env.AggregateID
	switch e := ev.(type) {
	case Launched:
		s.Launched, s.Active = e, true
	case Ended:
		s.Active = false
	}
	return s
}

// Aggregate describes the campaign to the command runner.
var Aggregate = domain.Aggregate[State]{Type: AggregateType, Registry: Events, Evolve: Evolve}

// Covers reports whether the campaign tags an order of this community and category
// submitted at t (in loc).
func (s State) Covers(community, category string, t time.Time, loc *time.Location) bool {
	if !s.Active || s.Community != community {
		return false
	}
	if len(s.Categories) > 0 && !slices.Contains(s.Categories, category) {
		return false
	}
	day := t.In(loc).Format(time.DateOnly)
	return day >= s.From && day <= s.Until
}
