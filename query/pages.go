package query

import (
	"cmp"
	"container/heap"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/backlog"
)

// Page sizes: what a page holds when the caller does not say, and at most.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Sorts of a backlog.
const (
	SortUrgency = "urgency" // overdue first, then urgent, then the nearest deadline
	SortAge     = "age"     // oldest first
)

// StatusCallback is the backlog's status filter for the call-back list: completed orders
// that have waited for their rating longer than the index's CallbackAfter.
const StatusCallback = "callback"

// Item is one order as a backlog page or a search shows it, as of the page's moment.
type Item struct {
	backlog.Item
	Lane       string `json:"lane"`
	Community  string `json:"community"`
	Street     string `json:"street"`
	Callback   bool   `json:"callback"` // on the call-back list
	AgeSeconds int64  `json:"age_seconds"`
}

// Counts are a lane's live orders by list and status, as of the page's moment. Completed
// counts those still on the working list; Callback those moved to the call-back list;
// Overdue those overdue as of now (marked or past due). Live is their total.
type Counts struct {
	Open       int `json:"open"`
	Dispatched int `json:"dispatched"`
	Accepted   int `json:"accepted"`
	Completed  int `json:"completed"`
	Callback   int `json:"callback"`
	Overdue    int `json:"overdue"`
	Live       int `json:"live"`
}

// BacklogQuery asks for one page of a lane's backlog.
type BacklogQuery struct {
	Lane     string
	Lanes    []string // several lanes' backlogs as one, when set (Lane is then ignored)
	Status   string   // "", a live status, or "callback"; "" is the working list
	Overdue  bool     // only orders overdue as of now
	Category string
	Assignee string
	Sort     string // SortUrgency (default) or SortAge
	Limit    int
	Cursor   string
	Now      time.Time // the page's moment; a cursor carries its first page's
}

// BacklogPage is one page of a lane's backlog.
type BacklogPage struct {
	Counts Counts    `json:"counts"`
	Items  []Item    `json:"items"`
	Next   string    `json:"next_cursor"`
	AsOf   time.Time `json:"as_of"`
	// Matched is how many orders the query's filters select, on this page and every
	// other: Counts are the lanes' whole counts, whatever the filters.
	Matched int `json:"-"`
}

// ParseBacklogQuery reads a backlog query from URL parameters; an error names the field.
func ParseBacklogQuery(v url.Values, lane string, now time.Time) (BacklogQuery, error) {
	q := BacklogQuery{Lane: lane, Status: v.Get("status"), Category: v.Get("category"), Assignee: v.Get("assignee"),
		Sort: v.Get("sort"), Cursor: v.Get("cursor"), Now: now}
	switch q.Status {
	case "", string(order.StatusOpen), string(order.StatusDispatched), string(order.StatusAccepted), string(order.StatusCompleted), StatusCallback:
	default:
		return q, domain.Invalid("status", "must be open, dispatched, accepted, completed or callback")
	}
	switch q.Sort {
	case "":
		q.Sort = SortUrgency
	case SortUrgency, SortAge:
	default:
		return q, domain.Invalid("sort", "must be urgency or age")
	}
	switch v.Get("overdue") {
	case "", "false":
	case "true":
		q.Overdue = true
	default:
		return q, domain.Invalid("overdue", "must be true or false")
	}
	var err error
	q.Limit, err = parseLimit(v.Get("limit"))
	return q, err
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, domain.Invalid("limit", "must be a whole number from 1 to "+strconv.Itoa(MaxLimit))
	}
	return n, nil
}

// Backlog cuts one page of a lane's backlog, with the lane's counts.
func (x *Index) Backlog(q BacklogQuery) (BacklogPage, error) {
	q.Limit = cmp.Or(q.Limit, DefaultLimit)
	q.Sort = cmp.Or(q.Sort, SortUrgency)
	cur, err := decodeCursor(q.Cursor, q.Now)
	if err != nil {
		return BacklogPage{}, err
	}
	now := cur.AsOf
	page := BacklogPage{Items: []Item{}, AsOf: now}
	sel := newSelection(q.Limit, cur)
	lanes := q.Lanes
	if lanes == nil {
		lanes = []string{q.Lane}
	}
	x.mu.RLock()
	for e := range x.each(lanes) {
		d := &e.doc
		over := Overdue(d.Item, now)
		callback := AwaitingCallback(d.Item, now, x.callbackAfter)
		page.Counts.add(d.Status, over, callback)
		switch {
		case q.Status == StatusCallback && !callback,
			q.Status == "" && callback,
			q.Status != "" && q.Status != StatusCallback && (string(d.Status) != q.Status || callback),
			q.Overdue && !over,
			q.Category != "" && d.Category != q.Category,
			q.Assignee != "" && d.Assignee != q.Assignee:
			continue
		}
		page.Matched++
		sel.offer(e, backlogKey(q.Sort, d.Item, over))
	}
	x.mu.RUnlock()
	page.Items, page.Next = sel.result(func(d backlog.Order) Item {
		return x.item(d, now)
	})
	return page, nil
}

// each yields the live orders of lanes, each lane once.
func (x *Index) each(lanes []string) func(yield func(*entry) bool) {
	return func(yield func(*entry) bool) {
		for i, l := range lanes {
			if slices.Contains(lanes[:i], l) {
				continue
			}
			for _, e := range x.lanes[l] {
				if !yield(e) {
					return
				}
			}
		}
	}
}

func (c *Counts) add(s order.Status, overdue, callback bool) {
	c.Live++
	switch {
	case callback:
		c.Callback++
	case s == order.StatusOpen:
		c.Open++
	case s == order.StatusDispatched:
		c.Dispatched++
	case s == order.StatusAccepted:
		c.Accepted++
	case s == order.StatusCompleted:
		c.Completed++
	}
	if overdue {
		c.Overdue++
	}
}

func (x *Index) item(d backlog.Order, now time.Time) Item {
	it := d.Item
	it.Overdue = Overdue(it, now)
	return Item{Item: it, Lane: d.Lane, Community: d.Community, Street: d.Street,
		Callback: AwaitingCallback(it, now, x.callbackAfter), AgeSeconds: int64(now.Sub(it.SubmittedAt) / time.Second)}
}

// backlogKey places an item in a sort: for urgency, overdue before urgent before the
// rest, then the nearest deadline; for age, the oldest first; ties by id.
func backlogKey(sort string, it backlog.Item, overdue bool) key {
	if sort == SortAge {
		return key{B: it.SubmittedAt.UnixNano(), ID: it.ID}
	}
	class := int64(2)
	switch {
	case overdue:
		class = 0
	case it.Priority == order.PriorityUrgent:
		class = 1
	}
	due := int64(math.MaxInt64) // completed orders have no deadline left: last
	switch it.Status {
	case order.StatusOpen, order.StatusDispatched:
		due = min(it.AcceptBy.UnixNano(), it.CompleteBy.UnixNano())
	case order.StatusAccepted:
		due = it.CompleteBy.UnixNano()
	}
	return key{A: class, B: due, C: it.SubmittedAt.UnixNano(), ID: it.ID}
}

// SearchQuery asks for one page of the orders a caller may read.
type SearchQuery struct {
	Lane, Community, Status, Category string
	From, To                          time.Time // submission time, from inclusive, to exclusive; zero: open
	Text                              string    // matches the number (as a prefix or whole) or the title
	Limit                             int
	Cursor                            string
	Now                               time.Time
	// May reports whether the caller may read an order at a place; nil allows all.
	May func(Place) bool
}

// SearchPage is one page of a search, newest submission first.
type SearchPage struct {
	Items []Item    `json:"items"`
	Next  string    `json:"next_cursor"`
	AsOf  time.Time `json:"as_of"`
	// Since is how far back the search reaches for orders no longer live.
	Since time.Time `json:"covers_since"`
}

// ParseSearchQuery reads a search from URL parameters; an error names the field.
func ParseSearchQuery(v url.Values, now time.Time) (SearchQuery, error) {
	q := SearchQuery{Lane: v.Get("lane"), Community: v.Get("community"), Status: v.Get("status"), Category: v.Get("category"),
		Text: strings.TrimSpace(v.Get("q")), Cursor: v.Get("cursor"), Now: now}
	switch order.Status(q.Status) {
	case "", order.StatusOpen, order.StatusDispatched, order.StatusAccepted, order.StatusCompleted, order.StatusClosed, order.StatusCancelled:
	default:
		return q, domain.Invalid("status", "must be open, dispatched, accepted, completed, closed or cancelled")
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		s := v.Get(f.name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			if t, err = time.ParseInLocation("2006-01-02", s, projections.Shanghai); err != nil {
				return q, domain.Invalid(f.name, "must be a time (RFC 3339) or a date (2026-11-30, in Asia/Shanghai)")
			}
		}
		*f.dst = t.UTC()
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, domain.Invalid("to", "must be after from")
	}
	if len([]rune(q.Text)) > 100 {
		return q, domain.Invalid("q", "must be at most 100 characters")
	}
	var err error
	q.Limit, err = parseLimit(v.Get("limit"))
	return q, err
}

// Search cuts one page of the orders matching q, newest submission first.
func (x *Index) Search(q SearchQuery) (SearchPage, error) {
	q.Limit = cmp.Or(q.Limit, DefaultLimit)
	cur, err := decodeCursor(q.Cursor, q.Now)
	if err != nil {
		return SearchPage{}, err
	}
	now := cur.AsOf
	page := SearchPage{Items: []Item{}, AsOf: now, Since: now.Add(-x.keep)}
	text := strings.ToLower(q.Text)
	sel := newSelection(q.Limit, cur)
	x.mu.RLock()
	for _, e := range x.orders {
		d := &e.doc
		switch {
		case q.Lane != "" && d.Lane != q.Lane,
			q.Community != "" && d.Community != q.Community,
			q.Status != "" && string(d.Status) != q.Status,
			q.Category != "" && d.Category != q.Category,
			!q.From.IsZero() && d.SubmittedAt.Before(q.From),
			!q.To.IsZero() && !d.SubmittedAt.Before(q.To),
			text != "" && !strings.HasPrefix(e.number, text) && !strings.Contains(e.title, text),
			q.May != nil && !q.May(Place{Lane: d.Lane, Community: d.Community, Street: d.Street, Assignee: d.Assignee, Reached: d.Reached}):
			continue
		}
		sel.offer(e, key{B: -d.SubmittedAt.UnixNano(), ID: d.ID})
	}
	x.mu.RUnlock()
	page.Items, page.Next = sel.result(func(d backlog.Order) Item { return x.item(d, now) })
	return page, nil
}

// key is an item's place in a sort: by A, B, C, then ID.
type key struct {
	A, B, C int64
	ID      string
}

func (k key) compare(o key) int {
	return cmp.Or(cmp.Compare(k.A, o.A), cmp.Compare(k.B, o.B), cmp.Compare(k.C, o.C), strings.Compare(k.ID, o.ID))
}

// cursor is where a page ends: its sort key, and the moment the first page was cut, so
// that every page of one listing is sorted and filtered as of the same moment.
type cursor struct {
	AsOf  time.Time `json:"t"`
	After *key      `json:"k,omitempty"`
}

func decodeCursor(s string, now time.Time) (cursor, error) {
	if s == "" {
		return cursor{AsOf: now.UTC()}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.After == nil || c.AsOf.IsZero() {
		return c, domain.Invalid("cursor", "is not a cursor this server gave")
	}
	return c, nil
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// selection keeps the limit+1 smallest items after the cursor: a max-heap, so a page
// costs O(n log limit) however many items there are.
type selection struct {
	limit int
	cur   cursor
	h     keyHeap
}

type picked struct {
	k key
	d backlog.Order
}

type keyHeap []picked

func (h keyHeap) Len() int           { return len(h) }
func (h keyHeap) Less(i, j int) bool { return h[i].k.compare(h[j].k) > 0 }
func (h keyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *keyHeap) Push(x any)        { *h = append(*h, x.(picked)) }
func (h *keyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newSelection(limit int, cur cursor) *selection {
	return &selection{limit: limit, cur: cur, h: make(keyHeap, 0, limit+1)}
}

func (s *selection) offer(e *entry, k key) {
	if s.cur.After != nil && k.compare(*s.cur.After) <= 0 {
		return
	}
	if len(s.h) == s.limit+1 {
		if k.compare(s.h[0].k) >= 0 {
			return
		}
		s.h[0] = picked{k: k, d: e.doc}
		heap.Fix(&s.h, 0)
		return
	}
	heap.Push(&s.h, picked{k: k, d: e.doc})
}

// result returns the page's items in order, and the cursor of the next page ("" when
// this is the last).
func (s *selection) result(show func(backlog.Order) Item) ([]Item, string) {
	more := len(s.h) > s.limit
	if more {
		heap.Pop(&s.h) // the largest: the first of the next page
	}
	out := make([]Item, len(s.h))
	var last key
	for i := len(s.h) - 1; i >= 0; i-- {
		p := heap.Pop(&s.h).(picked)
		if i == len(out)-1 {
			last = p.k
		}
		out[i] = show(p.d)
	}
	if !more {
		return out, ""
	}
	next := s.cur
	next.After = &last
	return out, next.encode()
}

// EscalationQuery asks for one page of the live orders escalated to a level: a
// community's or a street office's board (兜底).
type EscalationQuery struct {
	Level       order.Level // community or street
	Communities []string    // only orders of these communities; nil: any
	Streets     []string    // only orders of these streets; nil: any
	Status      string      // "", or a live status
	Sort        string      // SortUrgency (default) or SortAge
	Limit       int
	Cursor      string
	Now         time.Time
}

// EscalationPage is one page of a board of escalated orders.
type EscalationPage struct {
	Items []Item    `json:"items"`
	Next  string    `json:"next_cursor"`
	AsOf  time.Time `json:"as_of"`
	Total int       `json:"total"` // the orders the board holds, on every page
}

// ParseEscalationQuery reads a board's query from URL parameters; an error names the
// field. community and street narrow it to one place.
func ParseEscalationQuery(v url.Values, now time.Time) (EscalationQuery, error) {
	q := EscalationQuery{Level: order.Level(v.Get("escalation")), Status: v.Get("status"), Sort: v.Get("sort"), Cursor: v.Get("cursor"), Now: now}
	if q.Level != order.LevelCommunity && q.Level != order.LevelStreet {
		return q, domain.Invalid("escalation", "must be community or street")
	}
	if c := v.Get("community"); c != "" {
		q.Communities = []string{c}
	}
	if s := v.Get("street"); s != "" {
		q.Streets = []string{s}
	}
	switch order.Status(q.Status) {
	case "", order.StatusOpen, order.StatusDispatched, order.StatusAccepted:
	default:
		return q, domain.Invalid("status", "must be open, dispatched or accepted")
	}
	switch q.Sort {
	case "":
		q.Sort = SortUrgency
	case SortUrgency, SortAge:
	default:
		return q, domain.Invalid("sort", "must be urgency or age")
	}
	var err error
	q.Limit, err = parseLimit(v.Get("limit"))
	return q, err
}

// Escalations cuts one page of the unfinished orders escalated to q.Level, in the
// communities and streets it names; its cost follows the district's escalated orders,
// never all of them.
func (x *Index) Escalations(q EscalationQuery) (EscalationPage, error) {
	q.Limit = cmp.Or(q.Limit, DefaultLimit)
	q.Sort = cmp.Or(q.Sort, SortUrgency)
	cur, err := decodeCursor(q.Cursor, q.Now)
	if err != nil {
		return EscalationPage{}, err
	}
	now := cur.AsOf
	page := EscalationPage{Items: []Item{}, AsOf: now}
	sel := newSelection(q.Limit, cur)
	x.mu.RLock()
	for _, e := range x.escalated {
		d := &e.doc
		switch {
		case d.Escalation != q.Level,
			d.Status == order.StatusCompleted, // done: the lane awaits its rating
			q.Status != "" && string(d.Status) != q.Status,
			q.Communities != nil && !slices.Contains(q.Communities, d.Community),
			q.Streets != nil && !slices.Contains(q.Streets, d.Street):
			continue
		}
		page.Total++
		sel.offer(e, backlogKey(q.Sort, d.Item, Overdue(d.Item, now)))
	}
	x.mu.RUnlock()
	page.Items, page.Next = sel.result(func(d backlog.Order) Item { return x.item(d, now) })
	return page, nil
}
