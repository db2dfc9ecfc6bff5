// Package community is a community (社区): the place between a street office and its
// lanes, with the Chinese name people see (塔苑社区). Members belong to one; reports and
// rates are reckoned per community.
//
// Business rules:
//  1. Only an admin registers or renames a community.
//  2. A community is registered once, with a name and the street office it belongs to,
//     which must be a registered street; its id never changes.
//  3. A name is required, trimmed, on one line and at most MaxName characters.
//  4. A rename changes only the name; renaming to the name it has changes nothing.
package community

import (
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/place"
)

// AggregateType is the community's aggregate type. Permanent.
const AggregateType = "community"

// Wire names of the community's events. Permanent.
const (
	TypeRegistered = "redlane.community.registered.v1"
	TypeRenamed    = "redlane.community.renamed.v1"
)

// MaxName is the most characters a community's name may have.
const MaxName = place.MaxName

// Registered: a community was set up in a street office.
type Registered struct {
	Name   string `json:"name"`
	Street string `json:"street"`
}

// Renamed: a community's name changed.
type Renamed struct {
	Name string `json:"name"`
}

// EventType names the event on the wire.
func (Registered) EventType() string { return TypeRegistered }

// EventType names the event on the wire.
func (Renamed) EventType() string { return TypeRenamed }

// Events is the registry of the community's event types.
var Events = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(domain.Def[Registered](), domain.Def[Renamed]())
	return r
}()

// State is a community as its events have made it.
type State struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Street string `json:"street"`
}

// Register sets up a community in a street; Rename changes its name.
type (
	Register struct{ Name, Street string }
	Rename   struct{ Name string }
)

// Command is any of the community's commands.
type Command interface{ isCommand() }

func (Register) isCommand() {}
func (Rename) isCommand()   {}

// Env is what Decide needs besides the state and the command.
type Env struct {
	Actor  domain.Actor
	Exists bool // whether the community has been registered: its stream has events
	// StreetExists reports whether the street a Register names is a registered street.
	StreetExists bool
}

// Decide decides cmd against s and returns the events it yields, or why it is refused.
// Rule 1 holds for every command; each command's own rules are in its function.
func Decide(s State, cmd Command, env Env) ([]domain.Event, error) {
	if env.Actor.Role != domain.RoleAdmin {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages communities")
	}
	switch c := cmd.(type) {
	case Register:
		return decideRegister(s, c, env)
	case Rename:
		return decideRename(s, c, env)
	}
	return nil, domain.Errorf(domain.KindInternal, "unknown community command %T", cmd)
}

// decideRegister enforces rules 2 and 3: a community is registered once, with a name,
// in a registered street.
func decideRegister(s State, c Register, env Env) ([]domain.Event, error) {
	var v domain.Validator
	name := place.CleanName(&v, c.Name)
	switch {
	case !domain.ValidID(c.Street):
		v.Check(false, "street", domain.IDRule)
	case !env.StreetExists:
		v.Check(false, "street", "no such street: "+c.Street)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if env.Exists {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeCommunityExists, "community %s already exists", s.ID)
	}
	return []domain.Event{Registered{Name: name, Street: c.Street}}, nil
}

// decideRename enforces rules 3 and 4: a registered community takes a new name; its own
// name again changes nothing.
func decideRename(s State, c Rename, env Env) ([]domain.Event, error) {
	var v domain.Validator
	name := place.CleanName(&v, c.Name)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !env.Exists {
		return nil, domain.Refuse(domain.KindNotFound, domain.CodeCommunityNotFound, "no such community")
	}
	if name == s.Name {
		return nil, nil
	}
	return []domain.Event{Renamed{Name: name}}, nil
}

// Evolve applies a community event.
func Evolve(s State, ev domain.Event, env domain.Envelope) State {
	s.ID = env.AggregateID
	switch e := ev.(type) {
	case Registered:
		s.Name, s.Street = e.Name, e.Street
	case Renamed:
		s.Name = e.Name
	}
	return s
}

// Aggregate describes the community to the command runner.
var Aggregate = domain.Aggregate[State]{Type: AggregateType, Registry: Events, Evolve: Evolve}
