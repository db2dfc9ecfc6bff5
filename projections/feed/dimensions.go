package feed

import (
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
)

// The dimensions (人 财 物 地 事 组织) as they appear on the wire, in their fixed order.
// The names are permanent.
const (
	// People is 人: residents, members, stewards.
	People = "people"
	// Money is 财: money spent or handled.
	Money = "money"
	// Materials is 物: parts, tools, goods.
	Materials = "materials"
	// Places is 地: lanes, stations, addresses.
	Places = "places"
	// Matters is 事: the requests and what becomes of them.
	Matters = "matters"
	// Organisations is 组织: stations, teams, the community and street office.
	Organisations = "organisations"
)

// dims is a set of dimensions, one bit each in the fixed order.
type dims uint8

const (
	dPeople dims = 1 << iota
	dMoney
	dMaterials
	dPlaces
	dMatters
	dOrganisations
)

var order6 = [...]struct {
	bit         dims
	name, label string
}{
	{dPeople, People, "人"},
	{dMoney, Money, "财"},
	{dMaterials, Materials, "物"},
	{dPlaces, Places, "地"},
	{dMatters, Matters, "事"},
	{dOrganisations, Organisations, "组织"},
}

// All returns the six dimensions in their fixed order: people, money, materials, places,
// matters, organisations.
func All() []string {
	out := make([]string, len(order6))
	for i, d := range order6 {
		out[i] = d.name
	}
	return out
}

// Label returns the Chinese name of a dimension (people → 人), or "" for an unknown one.
func Label(dimension string) string {
	for _, d := range order6 {
		if d.name == dimension {
			return d.label
		}
	}
	return ""
}

// Valid reports whether dimension is one of the six wire names.
func Valid(dimension string) bool { return Label(dimension) != "" }

// rule is one row of the dimension table: what an event type always touches, and what
// it touches besides for an order of some categories.
type rule struct {
	base       dims
	byCategory map[string]dims
}

// table is the one dimension table; the package doc repeats it. Event types missing
// here (tokens, and anything unknown) have no feed entry.
var table = map[string]rule{
	order.TypeSubmitted:  {base: dPeople | dPlaces | dMatters},
	order.TypeDispatched: {base: dPeople | dOrganisations},
	order.TypeReassigned: {base: dPeople | dOrganisations},
	order.TypeClaimed:    {base: dPeople},
	order.TypeAccepted:   {base: dPeople},
	order.TypeDeclined:   {base: dPeople},
	order.TypeCompleted: {base: dPeople | dMatters, byCategory: map[string]dims{
		"repair": dMaterials, // 日常维修: parts and tools
		"errand": dMoney,     // 红色代办: fees paid on the resident's behalf
	}},
	order.TypeRated:     {base: dPeople | dMatters},
	order.TypeCancelled: {base: dMatters},
	order.TypeEscalated: {base: dMatters | dOrganisations},
	order.TypeReturned:  {base: dMatters | dOrganisations},
	order.TypeReopened:  {base: dMatters},
	order.TypeNoted:     {base: dMatters}, // public notes only: an internal note has no entry
	order.TypeOverdue:   {base: dMatters},
	lane.TypeRegistered: {base: dPlaces | dOrganisations},
	lane.TypeUpdated:    {base: dPlaces | dOrganisations},

	member.TypeRegistered: {base: dPeople | dOrganisations},
	member.TypeUpdated:    {base: dPeople | dOrganisations},
	member.TypeRetired:    {base: dPeople | dOrganisations},
}

// mask returns the dimensions of ev, an order of category (ignored for other events);
// zero means the event has no feed entry.
func mask(ev domain.Event, category string) dims {
	if ev == nil {
		return 0
	}
	switch n := ev.(type) {
	case order.Noted:
		if n.Internal {
			return 0
		}
	case *order.Noted:
		if n == nil || n.Internal {
			return 0
		}
	}
	r, ok := table[ev.EventType()]
	if !ok {
		return 0
	}
	return r.base | r.byCategory[category]
}

func (d dims) names() []string {
	if d == 0 {
		return nil
	}
	out := make([]string, 0, 6)
	for _, x := range order6 {
		if d&x.bit != 0 {
			out = append(out, x.name)
		}
	}
	return out
}

// Dimensions returns the dimensions an event touches, in the fixed order (people, money,
// materials, places, matters, organisations), by the table in the package doc. category is
// the code of the order's category (order events only; "" otherwise). It returns nil for
// an event that has no feed entry: token events, internal notes, unknown types.
func Dimensions(ev domain.Event, category string) []string { return mask(ev, category).names() }
