// Package lane is a street or alley (街巷) with its service station (服务驿站).
//
// Business rules:
//  1. Only an admin registers or changes a lane.
//  2. A lane is registered once, with a name and the community and street office it
//     belongs to; its id never changes.
//  3. A lane may carry its station's street address and a point (latitude and
//     longitude, WGS 84) where apps that place requests on a map find it.
//  4. A lane in a registered community is in that community's street office. A
//     community that was never registered (lanes from before places had names) is
//     taken as the lane names it.
package lane

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/redlane/redlane/domain"
)

// AggregateType is the lane's aggregate type. Permanent.
const AggregateType = "lane"

// Wire names of the lane's events. Permanent.
const (
	TypeRegistered = "redlane.lane.registered.v1"
	TypeUpdated    = "redlane.lane.updated.v1"
)

// Registered: a lane and its station were set up.
type Registered struct {
	Name      string `json:"name"`
	Community string `json:"community"`
	Street    string `json:"street"`
	Station   string `json:"station,omitempty"` // the station's name, e.g. 柔桥后巷驿站
	Address   string `json:"address,omitempty"` // the station's street address, e.g. 东城街道柔桥后巷12号
	Point     *Point `json:"point,omitempty"`   // where the lane is, when known
}

// Point is a place on the globe, in degrees (WGS 84).
type Point struct {
	Lat  float64 `json:"lat"`
	Long float64 `json:"long"`
}

// MaxAddress is the most characters a lane's address may have.
const MaxAddress = 200

// same reports whether two lanes' facts are the same.
func same(a, b Registered) bool {
	pa, pb := a.Point, b.Point
	a.Point, b.Point = nil, nil
	return a == b && (pa == nil) == (pb == nil) && (pa == nil || *pa == *pb)
}

// Updated: a lane's names or community changed.
type Updated Registered

// EventType names the event on the wire.
func (Registered) EventType() string { return TypeRegistered }

// EventType names the event on the wire.
func (Updated) EventType() string { return TypeUpdated }

// Events is the registry of the lane's event types.
var Events = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(domain.Def[Registered](), domain.Def[Updated]())
	return r
}()

// State is a lane as its events have made it.
type State struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Community string `json:"community"`
	Street    string `json:"street"`
	Station   string `json:"station,omitempty"`
	Address   string `json:"address,omitempty"`
	Point     *Point `json:"point,omitempty"`
}

// Register sets up a lane; Update changes one.
type (
	Register Registered
	Update   Registered
)

// Command is any of the lane's commands.
type Command interface{ isCommand() }

func (Register) isCommand() {}
func (Update) isCommand()   {}

// Env is what Decide needs besides the state and the command.
type Env struct {
	Actor  domain.Actor
	Exists bool // whether the lane has been registered: its stream has events
	// CommunityStreet is the street of the community the command names, when that
	// community is registered; "" when it is not.
	CommunityStreet string
}

// Decide decides cmd against s and returns the events it yields, or why it is refused.
// Rule 1 holds for every command; each command's own rules are in its function.
func Decide(s State, cmd Command, env Env) ([]domain.Event, error) {
	if env.Actor.Role != domain.RoleAdmin {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages lanes")
	}
	switch c := cmd.(type) {
	case Register:
		return decideRegister(s, c, env)
	case Update:
		return decideUpdate(s, c, env)
	}
	return nil, domain.Errorf(domain.KindInternal, "unknown lane command %T", cmd)
}

// decideRegister enforces rules 2 and 4: a lane is registered once, with a name, a
// community and a street office, the community's own when it is registered.
func decideRegister(s State, c Register, env Env) ([]domain.Event, error) {
	fields, err := clean(Registered(c), env)
	if err != nil {
		return nil, err
	}
	if env.Exists {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeLaneExists, "lane %s already exists", s.ID)
	}
	return []domain.Event{fields}, nil
}

// decideUpdate enforces rules 2 and 4: a registered lane's names and community may
// change, its id never; a change to what it already is changes nothing.
func decideUpdate(s State, c Update, env Env) ([]domain.Event, error) {
	fields, err := clean(Registered(c), env)
	if err != nil {
		return nil, err
	}
	if !env.Exists {
		return nil, domain.Refuse(domain.KindNotFound, domain.CodeLaneNotFound, "no such lane")
	}
	if same(fields, Registered{Name: s.Name, Community: s.Community, Street: s.Street, Station: s.Station, Address: s.Address, Point: s.Point}) {
		return nil, nil
	}
	return []domain.Event{Updated(fields)}, nil
}

// clean trims a lane's names and checks that it has a name, a community and a street,
// and that the street is the community's when the community is registered.
func clean(fields Registered, env Env) (Registered, error) {
	fields.Name = strings.TrimSpace(fields.Name)
	fields.Station = strings.TrimSpace(fields.Station)
	fields.Address = strings.TrimSpace(fields.Address)
	var v domain.Validator
	v.Check(fields.Name != "", "name", "is required")
	fields.Name = domain.CleanText(&v, "name", fields.Name, false)
	v.Check(domain.ValidID(fields.Community), "community", domain.IDRule)
	v.Check(domain.ValidID(fields.Street), "street", domain.IDRule)
	v.Check(env.CommunityStreet == "" || fields.Street == env.CommunityStreet || !domain.ValidID(fields.Street),
		"street", "must be the street of community "+fields.Community+": "+env.CommunityStreet)
	fields.Address = domain.CleanText(&v, "address", fields.Address, false)
	v.Check(utf8.RuneCountInString(fields.Address) <= MaxAddress, "address", "is too long")
	if p := fields.Point; p != nil {
		v.Check(!math.IsNaN(p.Lat) && math.Abs(p.Lat) <= 90, "point.lat", "must be a latitude from -90 to 90")
		v.Check(!math.IsNaN(p.Long) && math.Abs(p.Long) <= 180, "point.long", "must be a longitude from -180 to 180")
		c := *p
		fields.Point = &c
	}
	return fields, v.Err()
}

// Evolve applies a lane event.
func Evolve(s State, ev domain.Event, env domain.Envelope) State {
	s.ID = env.AggregateID
	switch e := ev.(type) {
	case Registered:
		s.Name, s.Community, s.Street, s.Station, s.Address, s.Point = e.Name, e.Community, e.Street, e.Station, e.Address, e.Point
	case Updated:
		s.Name, s.Community, s.Street, s.Station, s.Address, s.Point = e.Name, e.Community, e.Street, e.Station, e.Address, e.Point
	}
	return s
}

// Aggregate describes the lane to the command runner.
var Aggregate = domain.Aggregate[State]{Type: AggregateType, Registry: Events, Evolve: Evolve}
