package open311

import (
	"cmp"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

const orderAggregate = order.AggregateType

// request is an order as Open311 shows it, folded from its events. It holds nothing of
// the requester: their name and phone are sealed in the submission and never read here.
type request struct {
	ID, Number, Lane, Community, Category, Title, Description string
	Channel                                                   order.Channel
	Status                                                    order.Status
	Escalation                                                order.Level
	Requested, Updated, CompleteBy                            time.Time
	Note                                                      string // the last public note
	Seq                                                       uint64 // the last event folded in
	Updates                                                   []update
}

// update is one public transition of a request: what servicerequestupdates lists.
type update struct {
	ID     string // the event's id
	Seq    uint64
	Time   time.Time
	Type   string       // the event's type
	Status order.Status // the request's status after it
	Text   string       // zh-CN, public
}

// fold applies one of an order's events to r and reports whether it changed it. Events
// at or below r.Seq are ignored, so a replay is harmless. It is pure.
func fold(r *request, rec domain.Recorded, ev domain.Event) bool {
	if rec.Seq != 0 && rec.Seq <= r.Seq {
		return false
	}
	if _, ok := ev.(order.Submitted); ok != (r.Status == order.StatusNone) {
		return false // an event of an order never seen submitted, or a second submission
	}
	r.Seq = max(r.Seq, rec.Seq)
	r.ID = rec.AggregateID
	text := ""
	switch e := ev.(type) {
	case order.Submitted:
		r.Number, r.Lane, r.Community, r.Category = e.Number, e.Lane, e.Community, e.Category
		r.Title, r.Description, r.Channel = e.Title, e.Description, e.Channel
		r.Status, r.Escalation, r.Requested, r.CompleteBy = order.StatusOpen, order.LevelLane, rec.Time.UTC(), e.CompleteBy
		text = "诉求已受理，等待驿站派单"
	case order.Dispatched:
		r.Status, text = order.StatusDispatched, "驿站已派单，等待党员接单"
	case order.Reassigned:
		r.Status, text = order.StatusDispatched, "驿站已改派，等待党员接单"
	case order.Claimed:
		r.Status, text = order.StatusAccepted, "党员已领办，正在办理"
	case order.Accepted:
		r.Status, text = order.StatusAccepted, "党员已接单，正在办理"
	case order.Declined:
		r.Status, text = order.StatusOpen, "已退回驿站，等待重新派单"
	case order.Completed:
		r.Status, text = order.StatusCompleted, "已办结，等待居民评价"
	case order.Rated:
		if e.Solved {
			r.Status, text = order.StatusClosed, "居民评价：问题已解决"
		} else {
			r.Status, r.CompleteBy, text = order.StatusOpen, e.CompleteBy, "居民评价：问题未解决，转为重办"
		}
	case order.Cancelled:
		r.Status, text = order.StatusCancelled, "诉求已撤销"
	case order.Escalated:
		r.Escalation, text = e.Level, "已上报"+levelName(e.Level)+"协调办理"
	case order.Returned:
		r.Escalation, text = e.Level, "已退回"+levelName(e.Level)+"办理"
	case order.Reopened:
		r.Status, r.CompleteBy, text = order.StatusOpen, e.CompleteBy, "诉求已重办"
	case order.Noted:
		if e.Internal {
			return true // seen, but nothing the public sees changed
		}
		r.Note, text = e.Text, e.Text
	default:
		return true // an overdue mark changes no public status
	}
	r.Updated = rec.Time.UTC()
	r.Updates = append(r.Updates, update{ID: rec.ID, Seq: rec.Seq, Time: rec.Time.UTC(), Type: rec.Type, Status: r.Status, Text: text})
	return true
}

func levelName(l order.Level) string {
	switch l {
	case order.LevelStreet:
		return "街道"
	case order.LevelCommunity:
		return "社区"
	}
	return "驿站"
}

// live reports whether a request in status s still needs work or a rating.
func live(s order.Status) bool {
	switch s {
	case order.StatusOpen, order.StatusDispatched, order.StatusAccepted, order.StatusCompleted:
		return true
	}
	return false
}

// foldAll folds an order's stored events into a request, passing over what the log
// holds but Redlane does not obey.
func foldAll(recs []domain.Recorded) (request, bool) {
	var r request
	for _, rec := range recs {
		if rec.Rejected != "" {
			continue
		}
		ev, err := order.Events.Decode(rec.Envelope)
		if err != nil {
			continue
		}
		fold(&r, rec, ev)
	}
	return r, r.Status != order.StatusNone
}

// ledger holds the requests the log has shown, by id and by number. It is safe for
// concurrent use.
type ledger struct {
	mu       sync.RWMutex
	requests map[string]*request
	numbers  map[string]string
}

func newLedger() *ledger {
	return &ledger{requests: map[string]*request{}, numbers: map[string]string{}}
}

// apply folds one stored order event in.
func (l *ledger) apply(rec domain.Recorded, log *slog.Logger) {
	if rec.AggregateType != orderAggregate || rec.AggregateID == "" {
		return
	}
	ev, err := order.Events.Decode(rec.Envelope)
	if err != nil {
		log.Warn("open311: passing over an order event it cannot read", "seq", rec.Seq, "type", rec.Type, "err", err)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.requests[rec.AggregateID]
	if r == nil {
		r = &request{}
	}
	if fold(r, rec, ev) && r.Status != order.StatusNone {
		l.requests[r.ID] = r
		if r.Number != "" {
			l.numbers[r.Number] = r.ID
		}
	}
}

// put files a request read from the log, unless the ledger already holds it as of the
// same event or a later one.
func (l *ledger) put(r request) {
	if r.Status == order.StatusNone {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.requests[r.ID]; old != nil && old.Seq >= r.Seq {
		return
	}
	l.requests[r.ID] = &r
	if r.Number != "" {
		l.numbers[r.Number] = r.ID
	}
}

// adopt files the requests of rs that the ledger does not hold and that are over (left
// behind in an earlier period), and returns how many.
func (l *ledger) adopt(rs map[string]*request) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for id, r := range rs {
		if _, held := l.requests[id]; held || live(r.Status) || r.Status == order.StatusNone {
			continue
		}
		l.requests[id] = r
		if r.Number != "" {
			l.numbers[r.Number] = id
		}
		n++
	}
	return n
}

// prune drops the requests no longer live whose last change is before cut.
func (l *ledger) prune(cut time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for id, r := range l.requests {
		if !live(r.Status) && r.Updated.Before(cut) {
			delete(l.requests, id)
			delete(l.numbers, r.Number)
			n++
		}
	}
	return n
}

// get returns a copy of the request with this id or number.
func (l *ledger) get(key string) (request, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	r, ok := l.requests[key]
	if !ok {
		if id, byNumber := l.numbers[key]; byNumber {
			r, ok = l.requests[id]
		}
	}
	if !ok {
		return request{}, false
	}
	c := *r
	c.Updates = slices.Clone(r.Updates)
	return c, true
}

// listQuery selects requests: submitted in [From, To], of one of Codes (any when
// empty), open or closed as Open and Closed say; at most Limit, newest first.
type listQuery struct {
	From, To     time.Time
	Codes        []string
	Open, Closed bool
	Limit        int
}

// list returns the requests q selects, newest submission first.
func (l *ledger) list(q listQuery) []request {
	l.mu.RLock()
	var out []request
	for _, r := range l.requests {
		if r.Requested.Before(q.From) || r.Requested.After(q.To) ||
			len(q.Codes) > 0 && !slices.Contains(q.Codes, r.Category) {
			continue
		}
		if open := openStatus(r.Status); open && !q.Open || !open && !q.Closed {
			continue
		}
		c := *r
		c.Updates = nil
		out = append(out, c)
	}
	l.mu.RUnlock()
	slices.SortFunc(out, func(a, b request) int {
		return cmp.Or(b.Requested.Compare(a.Requested), strings.Compare(a.ID, b.ID))
	})
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

// requestUpdate is an update with the request it belongs to.
type requestUpdate struct {
	update
	Request, Number string
}

// updates returns the updates made in [from, to], oldest first, at most limit.
func (l *ledger) updates(from, to time.Time, limit int) []requestUpdate {
	l.mu.RLock()
	var out []requestUpdate
	for id, r := range l.requests {
		for _, u := range r.Updates {
			if !u.Time.Before(from) && !u.Time.After(to) {
				out = append(out, requestUpdate{update: u, Request: id, Number: r.Number})
			}
		}
	}
	l.mu.RUnlock()
	slices.SortFunc(out, func(a, b requestUpdate) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Seq, b.Seq))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// openStatus is Open311's reading of a status: open while the work is to be done;
// closed once done (completed, or rated solved) or withdrawn.
func openStatus(s order.Status) bool {
	switch s {
	case order.StatusOpen, order.StatusDispatched, order.StatusAccepted:
		return true
	}
	return false
}

// open311Status is "open" or "closed".
func open311Status(s order.Status) string {
	if openStatus(s) {
		return "open"
	}
	return "closed"
}

// fmsStatus is FixMyStreet's extended status name for a request in status s: what its
// Open311 client maps to its own states (action scheduled, in progress, fixed, closed).
func fmsStatus(s order.Status) string {
	switch s {
	case order.StatusDispatched:
		return "ACTION_SCHEDULED"
	case order.StatusAccepted:
		return "IN_PROGRESS"
	case order.StatusCompleted, order.StatusClosed:
		return "FIXED"
	case order.StatusCancelled:
		return "CLOSED"
	}
	return "OPEN"
}
