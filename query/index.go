package query

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
)

// BacklogKeys are the keys of the backlog view an Index reads: a watch on them feeds it.
var BacklogKeys = []string{"order.>", "_checkpoint"}

// IndexConfig configures an Index.
type IndexConfig struct {
	// Keep is how far back by submission time the index keeps orders that are no longer
	// live, for the search (default 92 days). Live orders are kept however old: the
	// index holds the district's working set and a window of history, never all of it.
	Keep time.Duration
	// CallbackAfter is how long a completed order waits for its rating on the working
	// list before it moves to the call-back list (default 72 hours).
	CallbackAfter time.Duration
	// Now is the clock the index prunes by (default time.Now).
	Now func() time.Time
}

// Index holds the backlog view's order documents in memory, as a watch on the view's
// bucket delivers them: each lane's live orders, and the orders submitted within Keep.
// Pages are cut from it per request, sorted and filtered, in time proportional to the
// lane's live orders (or, for a search, the orders kept) and no request to NATS. It is
// safe for concurrent use.
type Index struct {
	keep, callbackAfter time.Duration
	now                 func() time.Time

	mu      sync.RWMutex
	orders  map[string]*entry            // every order kept
	numbers map[string]string            // order number → id, of the orders kept
	lanes   map[string]map[string]*entry // live orders by lane
	// escalated are the live orders above lane level: the offices' boards.
	escalated map[string]*entry
	seq       uint64        // the view's checkpoint as last delivered
	loaded    bool          // the watch has delivered every stored document
	changed   chan struct{} // closed, and replaced, when seq advances
	bad       int           // documents that did not decode, since the last reset
}

type entry struct {
	doc           backlog.Order
	title, number string // lower-cased, for the search
}

// NewIndex returns an empty index.
func NewIndex(cfg IndexConfig) *Index {
	if cfg.Keep <= 0 {
		cfg.Keep = 92 * 24 * time.Hour
	}
	if cfg.CallbackAfter <= 0 {
		cfg.CallbackAfter = 72 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	x := &Index{keep: cfg.Keep, callbackAfter: cfg.CallbackAfter, now: cfg.Now, changed: make(chan struct{})}
	x.Reset()
	return x
}

// CallbackAfter is how long a completed order stays on the working list.
func (x *Index) CallbackAfter() time.Duration { return x.callbackAfter }

// Keep is how far back the search reaches for orders no longer live.
func (x *Index) Keep() time.Duration { return x.keep }

// Reset empties the index: the watch starts over (a rebuild switched buckets).
func (x *Index) Reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.orders, x.numbers, x.lanes, x.seq, x.loaded, x.bad = map[string]*entry{}, map[string]string{}, map[string]map[string]*entry{}, 0, false, 0
	x.escalated = map[string]*entry{}
}

// Loaded marks that every document stored when the watch began has been delivered.
func (x *Index) Loaded() {
	x.mu.Lock()
	x.loaded = true
	x.mu.Unlock()
}

// Ready reports an error until the index has loaded the view's documents.
func (x *Index) Ready() error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if !x.loaded {
		return errors.New("the backlog index is still loading")
	}
	return nil
}

// Apply takes one of the view's documents as stored under key: value nil when the key
// was deleted. Keys other than order documents and the checkpoint are ignored; it
// reports an error for a document it cannot decode (and keeps what it had).
func (x *Index) Apply(key string, value []byte) error {
	if key == "_checkpoint" {
		var cp struct {
			Seq uint64 `json:"seq"`
		}
		if value == nil {
			return nil
		}
		if err := json.Unmarshal(value, &cp); err != nil {
			return x.refuse(key, err)
		}
		x.advance(cp.Seq)
		return nil
	}
	id, ok := strings.CutPrefix(key, "order.")
	if !ok {
		return nil
	}
	if value == nil {
		x.mu.Lock()
		x.remove(id)
		x.mu.Unlock()
		return nil
	}
	var d backlog.Order
	if err := json.Unmarshal(value, &d); err != nil {
		return x.refuse(key, err)
	}
	if d.ID != id {
		return x.refuse(key, errors.New("the document names another order"))
	}
	x.Put(d)
	return nil
}

func (x *Index) refuse(key string, err error) error {
	x.mu.Lock()
	x.bad++
	x.mu.Unlock()
	return errors.New("backlog index: " + key + ": " + err.Error())
}

// Put files an order document: on its lane's list while live, in the search while live
// or submitted within Keep, and nowhere otherwise.
func (x *Index) Put(d backlog.Order) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.remove(d.ID)
	live := backlog.Live(d.Status)
	if !live && d.SubmittedAt.Before(x.now().Add(-x.keep)) {
		return
	}
	e := &entry{doc: d, title: strings.ToLower(d.Title), number: strings.ToLower(d.Number)}
	x.orders[d.ID] = e
	if d.Number != "" {
		x.numbers[d.Number] = d.ID
	}
	if live {
		l := x.lanes[d.Lane]
		if l == nil {
			l = map[string]*entry{}
			x.lanes[d.Lane] = l
		}
		l[d.ID] = e
		if d.Escalation != "" && d.Escalation != order.LevelLane {
			x.escalated[d.ID] = e
		}
	}
}

func (x *Index) remove(id string) {
	old := x.orders[id]
	if old == nil {
		return
	}
	delete(x.orders, id)
	delete(x.escalated, id)
	if x.numbers[old.doc.Number] == id {
		delete(x.numbers, old.doc.Number)
	}
	if l := x.lanes[old.doc.Lane]; l != nil {
		delete(l, id)
		if len(l) == 0 {
			delete(x.lanes, old.doc.Lane)
		}
	}
}

// Prune drops the orders no longer live that were submitted before the search window.
func (x *Index) Prune() int {
	cut := x.now().Add(-x.keep)
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for id, e := range x.orders {
		if !backlog.Live(e.doc.Status) && e.doc.SubmittedAt.Before(cut) {
			x.remove(id)
			n++
		}
	}
	return n
}

func (x *Index) advance(seq uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if seq <= x.seq {
		return
	}
	x.seq = seq
	close(x.changed)
	x.changed = make(chan struct{})
}

// Seq is the position of the last event the index has seen the view apply.
func (x *Index) Seq() uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.seq
}

// Changed returns a channel closed when the index next advances.
func (x *Index) Changed() <-chan struct{} {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.changed
}

// Await waits until the index has seen the event at seq applied, ctx ends or limit
// passes: a page drawn right after an action then shows it.
func (x *Index) Await(ctx context.Context, seq uint64, limit time.Duration) bool {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		x.mu.RLock()
		got, ch := x.seq, x.changed
		x.mu.RUnlock()
		if got >= seq {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		case <-timer.C:
			return false
		}
	}
}

// Stats are the index's size.
type Stats struct {
	Orders, Live, Lanes, Undecodable int
}

// Stats reports how much the index holds.
func (x *Index) Stats() Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s := Stats{Orders: len(x.orders), Lanes: len(x.lanes), Undecodable: x.bad}
	for _, l := range x.lanes {
		s.Live += len(l)
	}
	return s
}

// ByNumber returns the id of the order with a number (such as 20261130-G4HNJM), among
// the orders the index keeps.
func (x *Index) ByNumber(number string) (string, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	id, ok := x.numbers[number]
	return id, ok
}

// Live returns a lane's live orders, in no order: the desk's deadline sweep reads them.
func (x *Index) Live(lane string) []backlog.Order {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]backlog.Order, 0, len(x.lanes[lane]))
	for _, e := range x.lanes[lane] {
		out = append(out, e.doc)
	}
	return out
}

// LiveLanes lists the lanes that have live orders.
func (x *Index) LiveLanes() []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]string, 0, len(x.lanes))
	for l := range x.lanes {
		out = append(out, l)
	}
	return out
}

// Loads counts, per member, the live orders in their hands across every lane:
// dispatched to them or accepted by them. Completed orders awaiting a rating are done.
func (x *Index) Loads() map[string]int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := map[string]int{}
	for _, l := range x.lanes {
		for _, e := range l {
			if e.doc.Assignee != "" && (e.doc.Status == order.StatusDispatched || e.doc.Status == order.StatusAccepted) {
				out[e.doc.Assignee]++
			}
		}
	}
	return out
}
