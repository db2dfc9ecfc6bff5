// Package category is a category of the catalogue as an admin defines it: its name, the
// skills it needs, its deadlines and the questions intake asks.
//
// Business rules:
//  1. Only an admin defines or changes a category.
//  2. A category has a code (its id, which never changes), a name no other category
//     has, and deadlines that give at least as long to complete as to accept; zero
//     deadlines are the defaults.
//  3. Its questions have codes of their own, a description and an Open311 datatype; a
//     list question offers choices (order.CheckQuestions).
//  4. A category defined by events overrides the default catalogue's category of its
//     code, or adds to the catalogue.
package category

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// AggregateType is the category's aggregate type. Permanent.
const AggregateType = "category"

// TypeDefined is the wire name of the category's one event. Permanent.
const TypeDefined = "redlane.category.defined.v1"

// Deadlines are how many minutes an order has to be accepted and completed; zero takes
// the product's default.
type Deadlines struct {
	AcceptMinutes   int `json:"accept_minutes"`
	CompleteMinutes int `json:"complete_minutes"`
}

// Defined: an admin defined a category, or changed it; the event holds all of it.
type Defined struct {
	Name      string           `json:"name"`
	Skills    []string         `json:"skills,omitempty"`
	Normal    Deadlines        `json:"normal"`
	Urgent    Deadlines        `json:"urgent"`
	Questions []order.Question `json:"questions,omitempty"`
}

// EventType names the event on the wire.
func (Defined) EventType() string { return TypeDefined }

// Events is the registry of the category's event types.
var Events = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(domain.Def[Defined]())
	return r
}()

// State is a category as its events have made it.
type State struct {
	Code    string
	Defined Defined
}

// Category is the state as the catalogue holds it.
func (s State) Category() order.Category {
	d := s.Defined
	return order.Category{
		Code: s.Code, Name: d.Name, Skills: slices.Clone(d.Skills),
		Normal: deadlines(d.Normal), Urgent: deadlines(d.Urgent), Questions: slices.Clone(d.Questions),
	}
}

func deadlines(d Deadlines) order.Deadlines {
	return order.Deadlines{Accept: time.Duration(d.AcceptMinutes) * time.Minute, Complete: time.Duration(d.CompleteMinutes) * time.Minute}
}

// Define sets a category up or changes it: all of it, as PUT does.
type Define Defined

// Command is any of the category's commands.
type Command interface{ isCommand() }

func (Define) isCommand() {}

// Env is what Decide needs besides the state and the command.
type Env struct {
	Actor domain.Actor
	Code  string // the category's code: its id
	// Catalog is the catalogue as it is, to keep names apart.
	Catalog order.Catalog
}

// Decide decides cmd against s and returns the events it yields, or why it is refused.
// Rule 1 holds for every command; each command's own rules are in its function.
func Decide(s State, cmd Command, env Env) ([]domain.Event, error) {
	if env.Actor.Role != domain.RoleAdmin {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages categories")
	}
	switch c := cmd.(type) {
	case Define:
		return decideDefine(s, c, env)
	}
	return nil, domain.Errorf(domain.KindInternal, "unknown category command %T", cmd)
}

// MaxName is the most characters a category's name may have.
const MaxName = 50

// MaxDeadline is the longest deadline, in minutes: 90 days.
const MaxDeadline = 90 * 24 * 60

// decideDefine enforces rules 2 and 3: a category's code, a name of its own, deadlines
// that make sense and well-formed questions; defining what it already is changes
// nothing.
func decideDefine(s State, c Define, env Env) ([]domain.Event, error) {
	var v domain.Validator
	v.Check(domain.ValidID(env.Code), "code", domain.IDRule)
	d := Defined(c)
	d.Name = domain.CleanText(&v, "name", strings.TrimSpace(d.Name), false)
	v.Check(d.Name != "", "name", "is required")
	v.Check(utf8.RuneCountInString(d.Name) <= MaxName, "name", "is too long")
	if other, ok := env.Catalog.Lookup(d.Name); ok && other.Code != env.Code {
		v.Check(false, "name", "is the name of category "+other.Code)
	}
	if other, ok := env.Catalog.Lookup(env.Code); ok && other.Code != env.Code {
		v.Check(false, "code", "is the name of category "+other.Code)
	}
	skills := make([]string, 0, len(d.Skills))
	for i, sk := range d.Skills {
		sk = strings.TrimSpace(sk)
		v.Check(domain.ValidID(sk), fmt.Sprintf("skills[%d]", i), domain.IDRule)
		if !slices.Contains(skills, sk) {
			skills = append(skills, sk)
		}
	}
	d.Skills = skills
	if len(d.Skills) == 0 {
		d.Skills = nil
	}
	checkDeadlines(&v, "normal", d.Normal)
	checkDeadlines(&v, "urgent", d.Urgent)
	d.Questions = order.CheckQuestions(&v, d.Questions)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.Code != "" && equal(s.Defined, d) {
		return nil, nil
	}
	return []domain.Event{d}, nil
}

func checkDeadlines(v *domain.Validator, field string, d Deadlines) {
	v.Check(d.AcceptMinutes >= 0 && d.AcceptMinutes <= MaxDeadline, field+".accept_minutes", fmt.Sprintf("must be from 0 (the default) to %d", MaxDeadline))
	v.Check(d.CompleteMinutes >= 0 && d.CompleteMinutes <= MaxDeadline, field+".complete_minutes", fmt.Sprintf("must be from 0 (the default) to %d", MaxDeadline))
	v.Check((d.AcceptMinutes == 0) == (d.CompleteMinutes == 0), field, "give both deadlines, or neither for the defaults")
	v.Check(d.CompleteMinutes >= d.AcceptMinutes, field+".complete_minutes", "must be at least accept_minutes")
}

// equal reports whether two definitions say the same.
func equal(a, b Defined) bool {
	return a.Name == b.Name && slices.Equal(a.Skills, b.Skills) && a.Normal == b.Normal && a.Urgent == b.Urgent &&
		slices.EqualFunc(a.Questions, b.Questions, func(x, y order.Question) bool {
			return x.Code == y.Code && x.Description == y.Description && x.Datatype == y.Datatype &&
				x.Required == y.Required && slices.Equal(x.Values, y.Values)
		})
}

// Evolve applies a category event.
func Evolve(s State, ev domain.Event, env domain.Envelope) State {
	s.Code = env.AggregateID
	if e, ok := ev.(Defined); ok {
		s.Defined = e
	}
	return s
}

// Aggregate describes the category to the command runner.
var Aggregate = domain.Aggregate[State]{Type: AggregateType, Registry: Events, Evolve: Evolve}
