// Package feed is the linkage feed (联动信息): one human-readable zh-CN message per event,
// tagged with the dimensions it touches — 人 people, 财 money, 物 materials, 地 places,
// 事 matters, 组织 organisations — for station terminals, web pages and reports.
//
// The feed is shown on public screens, so an entry never names the resident who placed a
// request nor shows their phone (both are replaced in a title that contains them), and
// never carries reasons, notes, comments or descriptions: an internal note makes no
// entry at all, a public note only says that there is news. Stewards (and a member
// writing a public note) are named by the envelope's actorname, members an order goes to
// by their member events, categories by order.DefaultCatalog(); communities and streets
// by the names their own events give them (塔苑社区, 东城街道), or, for one never
// registered, by the id (taoyuan社区). Token, street and community events make no entry.
//
// # Entries
//
// The view hands its entries out through Take, in the order of the events that made
// them; each is, as JSON:
//
//	{"seq":42,"time":"2026-11-27T02:15:04Z","text":"驿站管家王芳将「楼道灯不亮了」派给党员李明",
//	 "dimensions":["people","organisations"],"lane":"rouqiao-houxiang","community":"taoyuan",
//	 "street":"dongcheng","order":"0193a5c2-…","type":"redlane.order.dispatched.v1",
//	 "event":"0193a5c2-7f1e-…"}
//
// seq is the event's stream position, event its id (at most one entry per event), order
// the order's id or "" for lane and member events. A member event has no lane or street.
//
// # Dimensions
//
// One table (see Dimensions), dimensions always in the order people, money, materials,
// places, matters, organisations:
//
//	order.submitted            people, places, matters
//	order.dispatched           people, organisations
//	order.reassigned           people, organisations
//	order.claimed              people
//	order.accepted             people
//	order.declined             people
//	order.completed            people, matters; + materials for category repair (日常维修),
//	                           + money for category errand (红色代办)
//	order.rated                people, matters
//	order.cancelled            matters
//	order.escalated            matters, organisations
//	order.reopened             matters
//	order.noted                matters (public notes; an internal note has no entry)
//	order.overdue              matters
//	lane.registered, updated   places, organisations
//	member.registered, updated, retired
//	                           people, organisations
//	token.*, street.*, community.*, anything else
//	                           no entry
//
// # Documents
//
// The view's documents are only the context it needs to write messages:
//
//	order.<id>   {"title":"楼道灯不亮了","lane":"rouqiao-houxiang","community":"taoyuan",
//	              "street":"dongcheng","category":"repair"}
//	             written at submission; title has the requester's name and phone replaced
//	member.<id>  {"name":"李明","community":"taoyuan"}
//	lane.<id>    {"name":"柔桥后巷","station":"柔桥后巷驿站","community":"taoyuan","street":"dongcheng"}
//	community.<id> {"name":"塔苑社区","street":"dongcheng"}
//	street.<id>  {"name":"东城街道"}
//
// An order event for an order the view has never seen submitted makes no entry, as does
// a second submission of one order.
package feed

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/street"
)

// Name is the view's permanent name: it names its storage and its durable consumer.
const Name = "feed"

// Entry is one linkage message (联动信息).
type Entry struct {
	Seq        uint64    `json:"seq"`        // the event's stream sequence
	Time       time.Time `json:"time"`       // when the event happened, UTC
	Text       string    `json:"text"`       // the message, zh-CN
	Dimensions []string  `json:"dimensions"` // in the fixed order; never empty
	Lane       string    `json:"lane"`
	Community  string    `json:"community"`
	Street     string    `json:"street"`
	Order      string    `json:"order"` // the order's id, or ""
	Type       string    `json:"type"`  // the event's type
	EventID    string    `json:"event"` // the event's id
}

// Matches reports whether the entry is of lane, of community and touches dimension; an
// empty argument matches anything.
func (e Entry) Matches(lane, community, dimension string) bool {
	return (lane == "" || e.Lane == lane) &&
		(community == "" || e.Community == community) &&
		(dimension == "" || slices.Contains(e.Dimensions, dimension))
}

// orderDoc is the document order.<id>.
type orderDoc struct {
	Title     string `json:"title"`
	Lane      string `json:"lane"`
	Community string `json:"community"`
	Street    string `json:"street"`
	Category  string `json:"category"`
}

// memberDoc is the document member.<id>.
type memberDoc struct {
	Name      string `json:"name"`
	Community string `json:"community"`
}

// placeDoc is the document community.<id> or street.<id>: a place's name (and a
// community's street).
type placeDoc struct {
	Name   string `json:"name"`
	Street string `json:"street,omitempty"`
}

// laneDoc is the document lane.<id>.
type laneDoc struct {
	Name      string `json:"name"`
	Station   string `json:"station"`
	Community string `json:"community"`
	Street    string `json:"street"`
}

// View is the linkage feed. It implements projections.View; it is not safe for
// concurrent use.
type View struct {
	orders  map[string]*orderDoc
	members map[string]*memberDoc
	lanes   map[string]*laneDoc
	// communities and streets are the registered places, by id.
	communities map[string]*placeDoc
	streets     map[string]*placeDoc
	entries     []Entry
	hint        int // how many entries the last Take returned: the next batch's capacity
}

// New returns an empty feed.
func New() *View {
	return &View{orders: map[string]*orderDoc{}, members: map[string]*memberDoc{}, lanes: map[string]*laneDoc{},
		communities: map[string]*placeDoc{}, streets: map[string]*placeDoc{}}
}

// Name is "feed", permanent.
func (v *View) Name() string { return Name }

// Types lists the aggregates the feed reads: order, lane, member, and the places whose
// names it writes.
func (v *View) Types() []string {
	return []string{order.AggregateType, lane.AggregateType, member.AggregateType, street.AggregateType, community.AggregateType}
}

// Take returns the entries made by Apply since the last Take, in order, and forgets them.
func (v *View) Take() []Entry {
	out := v.entries
	v.entries, v.hint = nil, len(out)
	return out
}

// Apply folds one event in: it updates the context documents and makes the event's
// entry, if it has one. It returns the keys of the documents it changed.
func (v *View) Apply(rec domain.Recorded, ev domain.Event) []string {
	id := rec.AggregateID
	switch e := ev.(type) {
	case order.Submitted:
		if _, seen := v.orders[id]; seen || id == "" {
			return nil
		}
		o := &orderDoc{Title: redact(e.Title, e.Requester), Lane: e.Lane, Community: e.Community, Street: e.Street, Category: e.Category}
		v.orders[id] = o
		v.emitOrder(rec, ev, id, o)
		return []string{"order." + id}
	case order.Dispatched, order.Reassigned, order.Claimed, order.Accepted, order.Declined,
		order.Completed, order.Rated, order.Cancelled, order.Escalated, order.Returned, order.Reopened,
		order.Noted, order.MarkedOverdue:
		if o, ok := v.orders[id]; ok {
			v.emitOrder(rec, ev, id, o)
		}
		return nil
	case lane.Registered:
		return v.applyLane(rec, ev, id, e)
	case lane.Updated:
		return v.applyLane(rec, ev, id, lane.Registered(e))
	case member.Registered:
		return v.applyMember(rec, ev, id, member.Profile(e))
	case member.Updated:
		return v.applyMember(rec, ev, id, member.Profile(e))
	case street.Registered:
		return v.applyPlace(v.streets, "street.", id, placeDoc{Name: e.Name})
	case street.Renamed:
		return v.applyPlace(v.streets, "street.", id, placeDoc{Name: e.Name})
	case community.Registered:
		return v.applyPlace(v.communities, "community.", id, placeDoc{Name: e.Name, Street: e.Street})
	case community.Renamed:
		p := placeDoc{Name: e.Name}
		if old := v.communities[id]; old != nil {
			p.Street = old.Street
		}
		return v.applyPlace(v.communities, "community.", id, p)
	case member.Retired:
		m := v.members[id]
		if m == nil {
			m = &memberDoc{}
		}
		v.emit(rec, ev, "", Entry{Community: m.Community}, v.text(rec, ev, nil, id))
		return nil
	}
	return nil
}

func (v *View) applyLane(rec domain.Recorded, ev domain.Event, id string, e lane.Registered) []string {
	if id == "" {
		return nil
	}
	v.lanes[id] = &laneDoc{Name: e.Name, Station: e.Station, Community: e.Community, Street: e.Street}
	v.emit(rec, ev, "", Entry{Lane: id, Community: e.Community, Street: e.Street}, v.text(rec, ev, nil, id))
	return []string{"lane." + id}
}

// applyPlace keeps a place's name; it makes no entry.
func (v *View) applyPlace(m map[string]*placeDoc, prefix, id string, p placeDoc) []string {
	if id == "" {
		return nil
	}
	m[id] = &p
	return []string{prefix + id}
}

func (v *View) applyMember(rec domain.Recorded, ev domain.Event, id string, p member.Profile) []string {
	if id == "" {
		return nil
	}
	v.members[id] = &memberDoc{Name: p.Name, Community: p.Community}
	v.emit(rec, ev, "", Entry{Community: p.Community}, v.text(rec, ev, nil, id))
	return []string{"member." + id}
}

func (v *View) emitOrder(rec domain.Recorded, ev domain.Event, id string, o *orderDoc) {
	v.emit(rec, ev, o.Category, Entry{Lane: o.Lane, Community: o.Community, Street: o.Street, Order: id}, v.text(rec, ev, o, id))
}

// emit appends the entry e, completed from the event, when the event has dimensions.
func (v *View) emit(rec domain.Recorded, ev domain.Event, category string, e Entry, text string) {
	d := mask(ev, category)
	if d == 0 || text == "" {
		return
	}
	e.Seq, e.Time, e.Text, e.Dimensions = rec.Seq, rec.Time.UTC(), text, d.names()
	e.Type, e.EventID = ev.EventType(), rec.ID
	if v.entries == nil {
		v.entries = make([]Entry, 0, max(v.hint, 16))
	}
	v.entries = append(v.entries, e)
}

// Doc returns the document under key as JSON, or nil.
func (v *View) Doc(key string) []byte {
	kind, id, _ := strings.Cut(key, ".")
	var doc any
	switch kind {
	case "order":
		if o, ok := v.orders[id]; ok {
			doc = o
		}
	case "member":
		if m, ok := v.members[id]; ok {
			doc = m
		}
	case "lane":
		if l, ok := v.lanes[id]; ok {
			doc = l
		}
	case "community":
		if p, ok := v.communities[id]; ok {
			doc = p
		}
	case "street":
		if p, ok := v.streets[id]; ok {
			doc = p
		}
	}
	if doc == nil {
		return nil
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil // cannot happen: the documents are plain strings
	}
	return b
}

// Restore loads a document as Doc produced it.
func (v *View) Restore(key string, doc []byte) error {
	kind, id, ok := strings.Cut(key, ".")
	if !ok || id == "" {
		return fmt.Errorf("feed: restore %q: not a key of this view", key)
	}
	var err error
	switch kind {
	case "order":
		var o orderDoc
		if err = strictUnmarshal(doc, &o); err == nil {
			v.orders[id] = &o
		}
	case "member":
		var m memberDoc
		if err = strictUnmarshal(doc, &m); err == nil {
			v.members[id] = &m
		}
	case "lane":
		var l laneDoc
		if err = strictUnmarshal(doc, &l); err == nil {
			v.lanes[id] = &l
		}
	case "community", "street":
		var p placeDoc
		if err = strictUnmarshal(doc, &p); err == nil {
			map[string]map[string]*placeDoc{"community": v.communities, "street": v.streets}[kind][id] = &p
		}
	default:
		return fmt.Errorf("feed: restore %q: not a key of this view", key)
	}
	if err != nil {
		return fmt.Errorf("feed: restore %q: %w", key, err)
	}
	return nil
}

func strictUnmarshal(doc []byte, into any) error {
	if len(doc) == 0 || string(doc) == "null" {
		return fmt.Errorf("empty document")
	}
	return json.Unmarshal(doc, into)
}

// redact replaces the requester's name and phone in a title written by the resident.
func redact(title string, r order.Requester) string {
	if p := strings.TrimSpace(r.Phone); p != "" {
		title = strings.ReplaceAll(title, p, order.MaskPhone(p))
		digits := strings.Map(func(c rune) rune {
			if c >= '0' && c <= '9' {
				return c
			}
			return -1
		}, p)
		if len(digits) >= 5 {
			title = strings.ReplaceAll(title, digits, order.MaskPhone(digits))
		}
	}
	if n := strings.TrimSpace(r.Name); n != "" && n != "居民" {
		title = strings.ReplaceAll(title, n, "居民")
	}
	return title
}
