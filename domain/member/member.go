// Package member is a volunteer party member (党员) who takes on requests.
//
// Business rules:
//  1. Only an admin registers, changes or retires a member.
//  2. A member belongs to exactly one community and may have skills and join teams.
//  3. A retired member takes no new work; their history stays.
//  4. A member may have a phone, written as people write numbers and stored normalised;
//     it is seen only by the admin, the member themself and the stewards of lanes in
//     the member's community (ShowsPhone). The service seals it before it is written.
package member

import (
	"slices"
	"strings"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// AggregateType is the member's aggregate type. Permanent.
const AggregateType = "member"

// Wire names of the member's events. Permanent.
const (
	TypeRegistered = "redlane.member.registered.v1"
	TypeUpdated    = "redlane.member.updated.v1"
	TypeRetired    = "redlane.member.retired.v1"
)

// Profile is what is known of a member.
type Profile struct {
	Name      string   `json:"name"`
	Community string   `json:"community"`
	Skills    []string `json:"skills"`
	Teams     []string `json:"teams"`
	// Phone is the member's phone, normalised. In the log it is empty and PhoneSealed
	// holds it, encrypted under the member's own key (rule 4); it is plain only where no
	// vault seals (tests).
	Phone       string        `json:"phone,omitempty"`
	PhoneSealed *order.Sealed `json:"phone_sealed,omitempty"`
}

// Registered: a member joined the service.
type Registered Profile

// Updated: a member's profile changed.
type Updated Profile

// Retired: a member stopped taking work.
type Retired struct {
	Reason string `json:"reason"`
}

// EventType names the event on the wire.
func (Registered) EventType() string { return TypeRegistered }

// EventType names the event on the wire.
func (Updated) EventType() string { return TypeUpdated }

// EventType names the event on the wire.
func (Retired) EventType() string { return TypeRetired }

// Events is the registry of the member's event types.
var Events = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(domain.Def[Registered](), domain.Def[Updated](), domain.Def[Retired]())
	return r
}()

// State is a member as their events have made them.
type State struct {
	ID string `json:"id"`
	Profile
	Active bool `json:"active"`
}

// Register, Update and Retire are the member's commands.
type (
	Register Profile
	Update   Profile
	Retire   struct{ Reason string }
)

// Command is any of the member's commands.
type Command interface{ isCommand() }

func (Register) isCommand() {}
func (Update) isCommand()   {}
func (Retire) isCommand()   {}

// Env is what Decide needs besides the state and the command.
type Env struct {
	Actor  domain.Actor
	Exists bool // whether the member has been registered: their stream has events
}

// Decide decides cmd against s. When s's phone is sealed, the caller opens it into
// s.Phone first, so that an update can tell whether the phone changed. and returns the events it yields, or why it is refused.
// Rule 1 holds for every command; each command's own rules are in its function.
func Decide(s State, cmd Command, env Env) ([]domain.Event, error) {
	if env.Actor.Role != domain.RoleAdmin {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages members")
	}
	switch c := cmd.(type) {
	case Register:
		return decideRegister(s, c, env)
	case Update:
		return decideUpdate(s, c, env)
	case Retire:
		return decideRetire(s, c, env)
	}
	return nil, domain.Errorf(domain.KindInternal, "unknown member command %T", cmd)
}

// decideRegister enforces rule 2: a member is registered once, in exactly one
// community, with their skills and teams.
func decideRegister(s State, c Register, env Env) ([]domain.Event, error) {
	p, err := clean(Profile(c))
	if err != nil {
		return nil, err
	}
	if env.Exists {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeMemberExists, "member %s already exists", s.ID)
	}
	return []domain.Event{Registered(p)}, nil
}

// decideUpdate enforces rules 2 and 3: a registered member's profile may change, retired
// or not; a change to what it already is changes nothing.
func decideUpdate(s State, c Update, env Env) ([]domain.Event, error) {
	p, err := clean(Profile(c))
	if err != nil {
		return nil, err
	}
	if !env.Exists {
		return nil, domain.Refuse(domain.KindNotFound, domain.CodeMemberNotFound, "no such member")
	}
	if p.Name == s.Name && p.Community == s.Community && slices.Equal(p.Skills, s.Skills) && slices.Equal(p.Teams, s.Teams) && p.Phone == s.Phone {
		return nil, nil
	}
	return []domain.Event{Updated(p)}, nil
}

// decideRetire enforces rule 3: a registered member retires once and takes no new work;
// retiring them again changes nothing.
func decideRetire(s State, c Retire, env Env) ([]domain.Event, error) {
	if !env.Exists {
		return nil, domain.Refuse(domain.KindNotFound, domain.CodeMemberNotFound, "no such member")
	}
	if !s.Active {
		return nil, nil
	}
	return []domain.Event{Retired{Reason: strings.TrimSpace(c.Reason)}}, nil
}

// clean tidies a profile and checks it: a name, one community, at most 20 skills and
// 20 teams, a phone that is a phone number or none.
func clean(p Profile) (Profile, error) {
	p.Name = strings.TrimSpace(p.Name)
	var v domain.Validator
	v.Check(p.Name != "", "name", "is required")
	p.Name = domain.CleanText(&v, "name", p.Name, false)
	v.Check(domain.ValidID(p.Community), "community", domain.IDRule)
	p.Skills = tidy(p.Skills)
	p.Teams = tidy(p.Teams)
	v.Check(len(p.Skills) <= 20, "skills", "at most 20")
	v.Check(len(p.Teams) <= 20, "teams", "at most 20")
	p.PhoneSealed = nil // only the service seals, after deciding
	if p.Phone = strings.TrimSpace(p.Phone); p.Phone != "" {
		phone, ok := order.NormalPhone(p.Phone)
		v.Check(ok, "phone", "must be a mainland mobile (13812345678) or landline (0576-88881234) number")
		p.Phone = phone
	}
	return p, v.Err()
}

func tidy(xs []string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// ShowsPhone reports whether actor may see member s's phone (rule 4): the admin, the
// member themself, and the stewards of a lane in the member's community, who call the
// volunteer they dispatch. communityOf names a lane's community.
func ShowsPhone(a domain.Actor, s State, communityOf func(lane string) string) bool {
	switch a.Role {
	case domain.RoleAdmin:
		return true
	case domain.RoleMember:
		return a.Member != "" && a.Member == s.ID
	case domain.RoleSteward:
		for _, l := range a.Lanes {
			if c := communityOf(l); c != "" && c == s.Community {
				return true
			}
		}
	}
	return false
}

// Evolve applies a member event.
func Evolve(s State, ev domain.Event, env domain.Envelope) State {
	s.ID = env.AggregateID
	switch e := ev.(type) {
	case Registered:
		s.Profile, s.Active = Profile(e), true
	case Updated:
		s.Profile = Profile(e)
	case Retired:
		s.Active = false
	}
	return s
}

// Aggregate describes the member to the command runner.
var Aggregate = domain.Aggregate[State]{Type: AggregateType, Registry: Events, Evolve: Evolve}
