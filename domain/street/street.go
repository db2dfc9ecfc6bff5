// Package street is a street office (街道): the sub-district whose communities and lanes
// Redlane serves, with the Chinese name people see (东城街道).
//
// Business rules:
//  1. Only an admin registers or renames a street.
//  2. A street is registered once, with a name; its id never changes.
//  3. A name is required, trimmed, on one line and at most MaxName characters.
//  4. A rename changes only the name; renaming to the name it has changes nothing.
package street

import (
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/place"
)

// AggregateType is the street's aggregate type. Permanent.
const AggregateType = "street"

// Wire names of the street's events. Permanent.
const (
	TypeRegistered = "redlane.street.registered.v1"
	TypeRenamed    = "redlane.street.renamed.v1"
)

// MaxName is the most characters a street's name may have.
const MaxName = place.MaxName

// Registered: a street office was set up.
type Registered struct {
	Name string `json:"name"`
}

// Renamed: a street office's name changed.
type Renamed struct {
	Name string `json:"name"`
}

// EventType names the event on the wire.
func (Registered) EventType() string { return TypeRegistered }

// EventType names the event on the wire.
func (Renamed) EventType() string { return TypeRenamed }

// Events is the registry of the street's event types.
var Events = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(domain.Def[Registered](), domain.Def[Renamed]())
	return r
}()

// State is a street as its events have made it.
type State struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Register sets up a street; Rename changes its name.
type (
	Register struct{ Name string }
	Rename   struct{ Name string }
)

// Command is any of the street's commands.
type Command interface{ isCommand() }

func (Register) isCommand() {}
func (Rename) isCommand()   {}

// Env is what Decide needs besides the state and the command.
type Env struct {
	Actor  domain.Actor
	Exists bool // whether the street has been registered: its stream has events
}

// Decide decides cmd against s and returns the events it yields, or why it is refused.
// Rule 1 holds for every command; each command's own rules are in its function.
func Decide(s State, cmd Command, env Env) ([]domain.Event, error) {
	if env.Actor.Role != domain.RoleAdmin {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages streets")
	}
	switch c := cmd.(type) {
	case Register:
		return decideRegister(s, c, env)
	case Rename:
		return decideRename(s, c, env)
	}
	return nil, domain.Errorf(domain.KindInternal, "unknown street command %T", cmd)
}

// decideRegister enforces rules 2 and 3: a street is registered once, with a name.
func decideRegister(s State, c Register, env Env) ([]domain.Event, error) {
	var v domain.Validator
	name := place.CleanName(&v, c.Name)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if env.Exists {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeStreetExists, "street %s already exists", s.ID)
	}
	return []domain.Event{Registered{Name: name}}, nil
}

// decideRename enforces rules 3 and 4: a registered street takes a new name; its own
// name again changes nothing.
func decideRename(s State, c Rename, env Env) ([]domain.Event, error) {
	var v domain.Validator
	name := place.CleanName(&v, c.Name)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !env.Exists {
		return nil, domain.Refuse(domain.KindNotFound, domain.CodeStreetNotFound, "no such street")
	}
	if name == s.Name {
		return nil, nil
	}
	return []domain.Event{Renamed{Name: name}}, nil
}

// Evolve applies a street event.
func Evolve(s State, ev domain.Event, env domain.Envelope) State {
	s.ID = env.AggregateID
	switch e := ev.(type) {
	case Registered:
		s.Name = e.Name
	case Renamed:
		s.Name = e.Name
	}
	return s
}

// Aggregate describes the street to the command runner.
var Aggregate = domain.Aggregate[State]{Type: AggregateType, Registry: Events, Evolve: Evolve}
