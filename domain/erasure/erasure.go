// Package erasure records that a resident was forgotten: when, by whom, and which
// resident (by the vault's keyed digest, never a name or a number).
//
// Business rules:
//  1. Only an admin erases a resident.
//  2. An erasure is recorded once for each time it is done; the record holds no
//     personal detail.
package erasure

import (
	"github.com/redlane/redlane/domain"
)

// AggregateType is the erasure's aggregate type. Permanent.
const AggregateType = "erasure"

// TypeErased is the wire name of the erasure's one event. Permanent.
const TypeErased = "redlane.erasure.erased.v1"

// Erased: a resident's key was destroyed; their details are unreadable everywhere.
type Erased struct {
	Resident string `json:"resident"` // the vault's digest of the phone, not the phone
}

// EventType names the event on the wire.
func (Erased) EventType() string { return TypeErased }

// Erase is the command.
type Erase struct{ Resident string }

// State is an erasure as recorded.
type State struct {
	Resident string
}

// Events is the erasure's event registry.
var Events = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(domain.Def[Erased]())
	return r
}()

// Aggregate describes erasures to the runner.
var Aggregate = domain.Aggregate[State]{
	Type:     AggregateType,
	Registry: Events,
	Evolve: func(s State, ev domain.Event, _ domain.Envelope) State {
		if e, ok := ev.(Erased); ok {
			s.Resident = e.Resident
		}
		return s
	},
}

// Command is any of the erasure's commands: there is one, Erase.
type Command interface{ isCommand() }

func (Erase) isCommand() {}

// Env is what Decide needs besides the state and the command.
type Env struct {
	Actor  domain.Actor
	Exists bool // whether this erasure is recorded: its stream has events
}

// Decide decides cmd against s and returns the events it yields, or why it is refused.
// Rule 1 holds for every command; each command's own rules are in its function.
func Decide(s State, cmd Command, env Env) ([]domain.Event, error) {
	if env.Actor.Role != domain.RoleAdmin {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin erases a resident")
	}
	switch c := cmd.(type) {
	case Erase:
		return decideErase(s, c, env)
	}
	return nil, domain.Errorf(domain.KindInternal, "unknown erasure command %T", cmd)
}

// decideErase enforces rule 2: each erasure is recorded once, naming the resident by
// the vault's digest and nothing more.
func decideErase(_ State, c Erase, env Env) ([]domain.Event, error) {
	var v domain.Validator
	v.Check(c.Resident != "", "resident", "is required")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if env.Exists {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeConflict, "this erasure is recorded already")
	}
	return []domain.Event{Erased(c)}, nil
}
