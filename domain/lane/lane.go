// Package lane is a street or alley (街巷) with its service station (服务驿站).
//
// Business rules:
//  1. Only an admin registers or changes a lane.
//  2. A lane is registered once, with a name and the community and street office it
//     belongs to; its id never changes.
//  3. A lane may carry its station's street address and a point (latitude and
//     longitude, WGS 84) where apps that place requests on a map find it.
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

// Decide decides a lane command.
func Decide(s State, exists bool, cmd any, a domain.Actor) ([]domain.Event, error) {
	if a.Role != domain.RoleAdmin {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages lanes")
	}
	var fields Registered
	switch c := cmd.(type) {
	case Register:
		fields = Registered(c)
	case Update:
		fields = Registered(c)
	default:
		return nil, domain.Errorf(domain.KindInternal, "unknown lane command %T", cmd)
	}
	fields.Name = strings.TrimSpace(fields.Name)
	fields.Station = strings.TrimSpace(fields.Station)
	fields.Address = strings.TrimSpace(fields.Address)
	var v domain.Validator
	v.Check(fields.Name != "", "name", "is required")
	fields.Name = domain.CleanText(&v, "name", fields.Name, false)
	v.Check(domain.ValidID(fields.Community), "community", domain.IDRule)
	v.Check(domain.ValidID(fields.Street), "street", domain.IDRule)
	fields.Address = domain.CleanText(&v, "address", fields.Address, false)
	v.Check(utf8.RuneCountInString(fields.Address) <= MaxAddress, "address", "is too long")
	if p := fields.Point; p != nil {
		v.Check(!math.IsNaN(p.Lat) && math.Abs(p.Lat) <= 90, "point.lat", "must be a latitude from -90 to 90")
		v.Check(!math.IsNaN(p.Long) && math.Abs(p.Long) <= 180, "point.long", "must be a longitude from -180 to 180")
		c := *p
		fields.Point = &c
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch cmd.(type) {
	case Register:
		if exists {
			return nil, domain.Refuse(domain.KindConflict, domain.CodeLaneExists, "lane %s already exists", s.ID)
		}
		return []domain.Event{fields}, nil
	default:
		if !exists {
			return nil, domain.Refuse(domain.KindNotFound, domain.CodeLaneNotFound, "no such lane")
		}
		if same(fields, Registered{Name: s.Name, Community: s.Community, Street: s.Street, Station: s.Station, Address: s.Address, Point: s.Point}) {
			return nil, nil
		}
		return []domain.Event{Updated(fields)}, nil
	}
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
