// Package backlog is the lane backlog: for each lane (街巷), the orders that still need
// its station's attention — open, dispatched, accepted, and completed but not yet rated —
// and their exact counts by status, however many there are.
//
// # Documents
//
// Every document is bounded: none grows with a lane, a member or a month. Keys and their
// JSON (times RFC 3339, UTC):
//
//	lane.<laneID>   {"lane":"rouqiao-houxiang","name":"柔桥后巷","community":"taoyuan",
//	                 "street":"dongcheng","community_name":"塔苑社区","street_name":"东城街道",
//	                 "counts":{"open":1,"dispatched":1,"accepted":0,"completed":1,"overdue":1},
//	                 "live":3,"seq":42}
//
//	order.<orderID> {"lane":"rouqiao-houxiang","community":"taoyuan","street":"dongcheng",
//	                 "id":"0193a5c2-…","number":"20261127-K3QZ7A","title":"楼道灯不亮了",
//	                 "category":"repair","priority":"normal","status":"dispatched",
//	                 "assignee":"m-001","escalation":"lane",
//	                 "submitted_at":"2026-11-27T02:15:04Z",
//	                 "accept_by":"2026-11-28T02:15:04Z",
//	                 "complete_by":"2026-11-30T02:15:04Z","overdue":true,
//	                 "completed_at":"…"(once completed),"theme":"…"(when one),
//	                 "returned":true(declined, not dispatched since),"seq":41}
//
// lane.<laneID> is a lane's summary (type Lane): its name and place, and counts of its
// live orders by status; live is their total and counts.overdue how many of them are
// marked overdue. name is "" until the lane's own registration is seen; community and
// street then come from the order that named the lane.
//
// community_name and street_name are the names the places were registered with; they are
// left out for a place never registered, which is then shown by its id.
//
//	community.<id>  {"name":"塔苑社区","street":"dongcheng","seq":7}
//	street.<id>     {"name":"东城街道","seq":6}
//
// are the registered places, kept so that a restored view still names them.
//
// order.<orderID> is one order as the backlog sees it (type Order), live or not. An order
// is live (on its lane's backlog) while its status is open, dispatched, accepted or
// completed; a closed or cancelled order leaves, and one that is reopened (重办), by a
// steward or by an unsolved rating, comes back as open. assignee is "" while nobody has
// the order. overdue is true once an order.overdue.v1 event marked a deadline of the
// current cycle, and is cleared when the order is reopened. completed_at is when the
// current cycle was completed (the call-back list is reckoned from it).
//
// A lane's list is the order documents of that lane whose status is live: readers keep
// them in an index (package query) fed by a watch on order.>, and page through it there.
//
// In both, seq is the stream sequence of the last event that changed the document. An
// event that changes nothing (a note, a second overdue mark, an event for an order the
// view never saw submitted) changes no document.
package backlog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/street"
	"github.com/redlane/redlane/projections"
)

// Name is the view's permanent name: it names its storage and its durable consumer.
const Name = "backlog"

// Key prefixes of the view's documents.
const (
	lanePrefix      = "lane."
	orderPrefix     = "order."
	communityPrefix = "community."
	streetPrefix    = "street."
)

// LaneKey is the key of lane's backlog document.
func LaneKey(laneID string) string { return lanePrefix + laneID }

// OrderKey is the key of an order's index document.
func OrderKey(orderID string) string { return orderPrefix + orderID }

// Lane is the document lane.<laneID>: one lane's backlog.
type Lane struct {
	Lane      string `json:"lane"`
	Name      string `json:"name"`
	Community string `json:"community"`
	Street    string `json:"street"`
	// CommunityName and StreetName are the places' registered names, "" when the place
	// is not registered.
	CommunityName string `json:"community_name,omitempty"`
	StreetName    string `json:"street_name,omitempty"`
	Counts        Counts `json:"counts"`
	Live          int    `json:"live"` // the lane's live orders
	Seq           uint64 `json:"seq"`
}

// Counts are a backlog's items by status, and how many of them are overdue.
type Counts struct {
	Open       int `json:"open"`
	Dispatched int `json:"dispatched"`
	Accepted   int `json:"accepted"`
	Completed  int `json:"completed"` // completed, awaiting the resident's rating
	Overdue    int `json:"overdue"`
}

// Item is one order as a backlog shows it.
type Item struct {
	ID          string         `json:"id"`
	Number      string         `json:"number"`
	Title       string         `json:"title"`
	Category    string         `json:"category"`
	Priority    order.Priority `json:"priority"`
	Status      order.Status   `json:"status"`
	Assignee    string         `json:"assignee"` // "" when nobody has the order
	Escalation  order.Level    `json:"escalation"`
	SubmittedAt time.Time      `json:"submitted_at"`
	AcceptBy    time.Time      `json:"accept_by"`              // of the current cycle
	CompleteBy  time.Time      `json:"complete_by"`            // of the current cycle
	Overdue     bool           `json:"overdue"`                // a deadline of the current cycle was marked overdue
	CompletedAt *time.Time     `json:"completed_at,omitempty"` // when the current cycle was completed
	Theme       string         `json:"theme,omitempty"`        // the thematic campaign (主题式服务), if any
	Returned    bool           `json:"returned,omitempty"`     // handed back by its member (declined), not dispatched since
	// EscalatedAt and EscalationReason are when and why the order came to its present
	// level above the lane: sent up, or sent back down from the street (SentBack).
	EscalatedAt      *time.Time `json:"escalated_at,omitempty"`
	EscalationReason string     `json:"escalation_reason,omitempty"`
	SentBack         bool       `json:"sent_back,omitempty"`
	// Reached is the highest level the order was ever escalated to ("" for none): the
	// offices read what reached them.
	Reached order.Level `json:"reached,omitempty"`
}

// Order is the document order.<orderID>: the lane an order belongs to and its item as it
// stands, whether or not it is live.
type Order struct {
	Lane      string `json:"lane"`
	Community string `json:"community"` // as the order was submitted
	Street    string `json:"street"`    // as the order was submitted
	Item
	Seq uint64 `json:"seq"`
}

// Place is the document community.<id> or street.<id>: a registered place's name, and
// a community's street.
type Place struct {
	Name   string `json:"name"`
	Street string `json:"street,omitempty"`
	Seq    uint64 `json:"seq"`
}

// Live reports whether an order in status s belongs on its lane's backlog.
func Live(s order.Status) bool {
	switch s {
	case order.StatusOpen, order.StatusDispatched, order.StatusAccepted, order.StatusCompleted:
		return true
	case order.StatusNone, order.StatusClosed, order.StatusCancelled:
		return false
	}
	return false
}

// laneState is one lane; items holds its live orders, sorted only when Doc encodes them.
type laneState struct {
	key                    string
	id, name, comm, street string
	seq                    uint64
	items                  map[string]*orderState
}

// orderState is one order the view has seen submitted.
type orderState struct {
	key          string
	lane         *laneState
	comm, street string
	item         Item
	seq          uint64
}

// View is the lane backlog. It implements projections.View; it is not safe for
// concurrent use.
type View struct {
	applied projections.Applied // redeliveries change nothing
	lanes   map[string]*laneState
	orders  map[string]*orderState
	// communities and streets are the registered places, by id.
	communities map[string]Place
	streets     map[string]Place
}

// New returns an empty backlog.
func New() *View {
	return &View{lanes: map[string]*laneState{}, orders: map[string]*orderState{},
		communities: map[string]Place{}, streets: map[string]Place{}}
}

// Name is "backlog", permanent.
func (v *View) Name() string { return Name }

// SetApplied sets the view's high-water mark (projections.Marked).
func (v *View) SetApplied(seq uint64) { v.applied.Set(seq) }

// Types lists the aggregates the backlog reads: order, lane, and the places whose names
// lanes carry.
func (v *View) Types() []string {
	return []string{order.AggregateType, lane.AggregateType, street.AggregateType, community.AggregateType}
}

// Apply folds one event in and returns the keys of the documents it changed: the lane's
// for a lane event; the order's, and its lane's when the order is or was live, for an
// order event that changed the order.
func (v *View) Apply(rec domain.Recorded, ev domain.Event) []string {
	if !v.applied.Fresh(rec) {
		return nil
	}
	id := rec.AggregateID
	if id == "" {
		return nil
	}
	switch e := ev.(type) {
	case lane.Registered:
		return v.applyLane(rec, e)
	case lane.Updated:
		return v.applyLane(rec, lane.Registered(e))
	case order.Submitted:
		return v.submitted(rec, e)
	case street.Registered:
		return v.applyStreet(rec, e.Name)
	case street.Renamed:
		return v.applyStreet(rec, e.Name)
	case community.Registered:
		return v.applyCommunity(rec, Place{Name: e.Name, Street: e.Street, Seq: rec.Seq})
	case community.Renamed:
		return v.applyCommunity(rec, Place{Name: e.Name, Street: v.communities[id].Street, Seq: rec.Seq})
	}
	o := v.orders[id]
	if o == nil {
		return nil // not an order event, or an order never seen submitted
	}
	it := o.item
	switch e := ev.(type) {
	case order.Dispatched:
		it.Status, it.Assignee, it.Returned = order.StatusDispatched, e.Member, false
	case order.Reassigned:
		it.Status, it.Assignee, it.Returned = order.StatusDispatched, e.Member, false
	case order.Claimed:
		it.Status, it.Assignee, it.Returned = order.StatusAccepted, e.Member, false
	case order.Accepted:
		it.Status = order.StatusAccepted
	case order.Declined:
		it.Status, it.Assignee, it.Returned = order.StatusOpen, "", true
	case order.Completed:
		at := rec.Time.UTC()
		it.Status, it.CompletedAt = order.StatusCompleted, &at
	case order.Rated:
		if e.Solved {
			it.Status = order.StatusClosed
		} else {
			reopen(&it, e.AcceptBy, e.CompleteBy)
		}
	case order.Reopened:
		reopen(&it, e.AcceptBy, e.CompleteBy)
	case order.Cancelled:
		it.Status = order.StatusCancelled
	case order.Escalated:
		if e.Level == it.Escalation {
			break // already there: nothing the board shows changes
		}
		at := rec.Time.UTC()
		it.Escalation, it.EscalatedAt, it.EscalationReason, it.SentBack = e.Level, &at, e.Reason, false
		if e.Level.AtLeast(it.Reached) {
			it.Reached = e.Level
		}
	case order.Returned:
		at := rec.Time.UTC()
		it.Escalation, it.EscalatedAt, it.EscalationReason, it.SentBack = e.Level, &at, e.Reason, true
		if e.Level == order.LevelLane {
			it.EscalatedAt, it.EscalationReason = nil, ""
		}
	case order.MarkedOverdue:
		it.Overdue = true
	default:
		return nil // notes, and anything else, change no document
	}
	return v.change(rec, o, it)
}

// reopen starts a new cycle, as order.Evolve does: open, nobody's, new deadlines.
func reopen(it *Item, acceptBy, completeBy time.Time) {
	it.Status, it.Assignee, it.Overdue, it.CompletedAt = order.StatusOpen, "", false, nil
	it.AcceptBy, it.CompleteBy = acceptBy.UTC(), completeBy.UTC()
}

func (v *View) applyLane(rec domain.Recorded, e lane.Registered) []string {
	_, known := v.lanes[rec.AggregateID]
	l := v.lane(rec.AggregateID, e.Community, e.Street)
	if known && l.name == e.Name && l.comm == e.Community && l.street == e.Street {
		return nil
	}
	l.name, l.comm, l.street, l.seq = e.Name, e.Community, e.Street, rec.Seq
	return []string{l.key}
}

// applyStreet keeps a street's name and changes the documents of its lanes.
func (v *View) applyStreet(rec domain.Recorded, name string) []string {
	id := rec.AggregateID
	v.streets[id] = Place{Name: name, Seq: rec.Seq}
	return v.touchLanes(rec, []string{streetPrefix + id}, func(l *laneState) bool { return l.street == id })
}

// applyCommunity keeps a community's name and changes the documents of its lanes.
func (v *View) applyCommunity(rec domain.Recorded, p Place) []string {
	id := rec.AggregateID
	v.communities[id] = p
	return v.touchLanes(rec, []string{communityPrefix + id}, func(l *laneState) bool { return l.comm == id })
}

// touchLanes marks the lanes that in holds as changed by rec and adds their keys to keys,
// in order.
func (v *View) touchLanes(rec domain.Recorded, keys []string, in func(*laneState) bool) []string {
	n := len(keys)
	for _, l := range v.lanes {
		if in(l) {
			l.seq = rec.Seq
			keys = append(keys, l.key)
		}
	}
	slices.Sort(keys[n:])
	return keys
}

// lane returns the lane id, first making it with the community and street given.
func (v *View) lane(id, comm, street string) *laneState {
	l := v.lanes[id]
	if l == nil {
		l = &laneState{key: LaneKey(id), id: id, comm: comm, street: street, items: map[string]*orderState{}}
		v.lanes[id] = l
	}
	return l
}

func (v *View) submitted(rec domain.Recorded, e order.Submitted) []string {
	id := rec.AggregateID
	if _, seen := v.orders[id]; seen || e.Lane == "" {
		return nil
	}
	o := &orderState{
		key: OrderKey(id), lane: v.lane(e.Lane, e.Community, e.Street), comm: e.Community, street: e.Street,
		item: Item{
			ID: id, Number: e.Number, Title: e.Title, Category: e.Category, Priority: e.Priority,
			Status: order.StatusOpen, Escalation: order.LevelLane, Theme: e.Theme,
			SubmittedAt: rec.Time.UTC(), AcceptBy: e.AcceptBy.UTC(), CompleteBy: e.CompleteBy.UTC(),
		},
		seq: rec.Seq,
	}
	v.orders[id] = o
	o.lane.items[id] = o
	o.lane.seq = rec.Seq
	return []string{o.key, o.lane.key}
}

// change stores the order's new item, when it differs, and moves the order onto or off
// its lane's list.
func (v *View) change(rec domain.Recorded, o *orderState, it Item) []string {
	if sameItem(o.item, it) {
		return nil
	}
	was, is := Live(o.item.Status), Live(it.Status)
	o.item, o.seq = it, rec.Seq
	if !was && !is {
		return []string{o.key}
	}
	l := o.lane
	if is {
		l.items[it.ID] = o
	} else {
		delete(l.items, it.ID)
	}
	l.seq = rec.Seq
	return []string{o.key, l.key}
}

func sameItem(a, b Item) bool {
	return a.ID == b.ID && a.Number == b.Number && a.Title == b.Title && a.Category == b.Category &&
		a.Priority == b.Priority && a.Status == b.Status && a.Assignee == b.Assignee &&
		a.Escalation == b.Escalation && a.Overdue == b.Overdue && a.SubmittedAt.Equal(b.SubmittedAt) &&
		a.AcceptBy.Equal(b.AcceptBy) && a.CompleteBy.Equal(b.CompleteBy) && sameTime(a.CompletedAt, b.CompletedAt) && a.Theme == b.Theme && a.Returned == b.Returned &&
		sameTime(a.EscalatedAt, b.EscalatedAt) && a.EscalationReason == b.EscalationReason && a.SentBack == b.SentBack && a.Reached == b.Reached
}

func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

// Doc returns the document under key, or nil when there is none.
func (v *View) Doc(key string) []byte {
	var doc any
	if id, ok := strings.CutPrefix(key, lanePrefix); ok {
		l := v.lanes[id]
		if l == nil {
			return nil
		}
		doc = l.doc(v)
	} else if id, ok := strings.CutPrefix(key, orderPrefix); ok {
		o := v.orders[id]
		if o == nil {
			return nil
		}
		doc = Order{Lane: o.lane.id, Community: o.comm, Street: o.street, Item: o.item, Seq: o.seq}
	} else if id, ok := strings.CutPrefix(key, communityPrefix); ok {
		p, known := v.communities[id]
		if !known {
			return nil
		}
		doc = p
	} else if id, ok := strings.CutPrefix(key, streetPrefix); ok {
		p, known := v.streets[id]
		if !known {
			return nil
		}
		doc = p
	} else {
		return nil
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic("backlog: encode " + key + ": " + err.Error()) // cannot happen: plain structs
	}
	return b
}

func (l *laneState) doc(v *View) Lane {
	d := Lane{Lane: l.id, Name: l.name, Community: l.comm, Street: l.street, Live: len(l.items), Seq: l.seq,
		CommunityName: v.communities[l.comm].Name, StreetName: v.streets[l.street].Name}
	for _, o := range l.items {
		switch o.item.Status {
		case order.StatusOpen:
			d.Counts.Open++
		case order.StatusDispatched:
			d.Counts.Dispatched++
		case order.StatusAccepted:
			d.Counts.Accepted++
		case order.StatusCompleted:
			d.Counts.Completed++
		}
		if o.item.Overdue {
			d.Counts.Overdue++
		}
	}
	return d
}

// Items returns a lane's live orders as the view holds them, sorted by submission time
// and then id: what a reader's index of the order documents lists for the lane.
func (v *View) Items(laneID string) []Item {
	l := v.lanes[laneID]
	if l == nil {
		return []Item{}
	}
	out := make([]Item, 0, len(l.items))
	for _, o := range l.items {
		out = append(out, o.item)
	}
	slices.SortFunc(out, func(a, b Item) int {
		if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Lanes lists the lanes the view knows.
func (v *View) Lanes() []string {
	out := make([]string, 0, len(v.lanes))
	for id := range v.lanes {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Restore loads one document as Doc produced it, in any order of keys. A lane's counts
// are not restored but counted again from its orders' documents, which are the truth
// about them (a lane document stored before lanes kept only counts also listed its
// orders; their own documents were always stored beside it, and are what counts).
func (v *View) Restore(key string, doc []byte) error {
	if err := v.restore(key, doc); err != nil {
		return err
	}
	return nil
}

func (v *View) restore(key string, doc []byte) error {
	if id, ok := strings.CutPrefix(key, lanePrefix); ok {
		var d Lane
		if err := json.Unmarshal(doc, &d); err != nil {
			return fmt.Errorf("restore %s: %w", key, err)
		}
		if d.Lane != id {
			return fmt.Errorf("restore %s: the document is of lane %q", key, d.Lane)
		}
		l := v.lane(id, d.Community, d.Street)
		l.name, l.comm, l.street, l.seq = d.Name, d.Community, d.Street, d.Seq
		v.applied.Saw(d.Seq)
		return nil
	}
	if id, ok := strings.CutPrefix(key, orderPrefix); ok {
		var d Order
		if err := json.Unmarshal(doc, &d); err != nil {
			return fmt.Errorf("restore %s: %w", key, err)
		}
		if d.ID != id || d.Lane == "" {
			return fmt.Errorf("restore %s: the document is of order %q in lane %q", key, d.ID, d.Lane)
		}
		v.put(&orderState{key: key, lane: v.lane(d.Lane, d.Community, d.Street), comm: d.Community, street: d.Street, item: utc(d.Item), seq: d.Seq})
		v.applied.Saw(d.Seq)
		return nil
	}
	for prefix, m := range map[string]map[string]Place{communityPrefix: v.communities, streetPrefix: v.streets} {
		if id, ok := strings.CutPrefix(key, prefix); ok && id != "" {
			var p Place
			if err := json.Unmarshal(doc, &p); err != nil {
				return fmt.Errorf("restore %s: %w", key, err)
			}
			m[id] = p
			return nil
		}
	}
	return fmt.Errorf("restore %s: not a key of the backlog", key)
}

// put sets an order, replacing what the view had of it, and files it on its lane.
func (v *View) put(o *orderState) {
	id := o.item.ID
	if old := v.orders[id]; old != nil {
		delete(old.lane.items, id)
	}
	v.orders[id] = o
	if Live(o.item.Status) {
		o.lane.items[id] = o
	}
}

func utc(it Item) Item {
	it.SubmittedAt, it.AcceptBy, it.CompleteBy = it.SubmittedAt.UTC(), it.AcceptBy.UTC(), it.CompleteBy.UTC()
	if it.CompletedAt != nil {
		at := it.CompletedAt.UTC()
		it.CompletedAt = &at
	}
	return it
}
