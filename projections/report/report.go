// Package report is the monthly community report: per community and month (Asia/Shanghai,
// projections.Period), the volume of requests, the three rates citizen hotlines use,
// linkage-message counts by dimension and the members who served most — each rate and
// ranking with its sample size, so that one fast job does not make anyone "best".
//
// # Definitions
//
// An order belongs to the community, lane and category it was submitted to.
//
//   - orders: orders submitted in the month in the community; by_category and by_lane
//     count those orders by category code and lane id.
//   - response_rate (响应率) = responded / response_sample. An order counts once it is due:
//     response_sample is the month's orders that were accepted (order.accepted or
//     order.claimed, whichever came first; on time or not) or passed their accept deadline
//     unaccepted (order.overdue.v1 for the accept deadline); responded counts those whose
//     first acceptance was on time (on_time true). An order still inside its accept
//     deadline is in neither, and one cancelled before it was due is in neither for good.
//     The rate belongs to the month the order was submitted in, whenever it became due.
//   - resolution_rate (解决率) = solved / rating_sample, and satisfaction_rate (满意率) =
//     satisfied / rating_sample, where rating_sample counts the ratings (order.rated) made
//     in the month of the community's orders, solved those rated solved and satisfied
//     those with 4 or 5 stars. A reopened order rated again counts again.
//   - A rate whose sample is zero is null.
//   - feed_by_dimension: per dimension, the linkage-feed entries of the month's events that
//     belong to the community: order events by the order's community, lane events by the
//     community they name, member events by the member's community. Dimensions are those
//     of feed.Dimensions; an event with no feed entry (tokens, internal notes, events of an
//     order never submitted) counts nothing. All six dimensions are always present.
//   - top_members: the five members of the community with the most points in the month,
//     ties broken by more completed orders, then by member id. Points as the product
//     defines them: +10 per order completed in the month, +2 more when on time, and
//     +2 × (stars − 3) per rating made in the month attributed to the member
//     (order.rated's member). A member belongs to the community their member events last
//     named when the points were earned; a member the view has not seen, to the order's.
//     Each row states its sample: completed and ratings.
//   - seq: the stream position of the last event that changed the report.
//
// # Documents
//
//	report.<community>.<YYYY-MM>   a Report:
//	  {"community":"taoyuan","community_name":"塔苑社区","period":"2026-11","orders":4,
//	   "response_rate":0.6666666666666666,"resolution_rate":0.5,"satisfaction_rate":0.5,
//	   "response_sample":3,"rating_sample":2,"responded":2,"solved":1,"satisfied":1,
//	   "by_category":{"repair":2,...},"by_lane":{"kongyuan":1,...},
//	   "feed_by_dimension":{"materials":1,"matters":9,"money":0,"organisations":4,"people":12,"places":5},
//	   "top_members":[{"member":"m-001","name":"李明","completed":2,"points":26,"ratings":1,"mean_stars":5}],
//	   "seq":41}
//	members.<community>.<YYYY-MM>  every member's tally behind top_members, by member id:
//	  {"community":"taoyuan","period":"2026-11","members":[{"member":"m-001","name":"李明",
//	   "completed":2,"on_time":1,"ratings":1,"stars":5,"points":26}]}
//	order.<id>                     what the view keeps of an order:
//	  {"community":"taoyuan","lane":"kongyuan","category":"repair","period":"2026-11",
//	   "response":""}   response: "" (not yet due), "on_time", "late", "overdue" (past the
//	                    accept deadline, not yet accepted), "cancelled" (before it was due)
//	                    (cancelled before anyone accepted it)
//	member.<id>                    {"name":"李明","community":"taoyuan"}
//	community.<id>                 {"name":"塔苑社区"}: a registered community's name
//
// community_name is the community's registered name; it is left out for a community
// never registered, which is then shown by its id.
//
// Events of an order the view has never seen submitted, and a second submission of one
// order, change nothing.
package report

import (
	"slices"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
)

// Name is the view's permanent name: it names its storage and its durable consumer.
const Name = "reports"

// TopN is how many members top_members lists.
const TopN = 5

// Report is the document report.<community>.<YYYY-MM>.
type Report struct {
	Community        string         `json:"community"`
	CommunityName    string         `json:"community_name,omitempty"` // as registered; "" when it is not
	Period           string         `json:"period"`                   // YYYY-MM in Asia/Shanghai
	Orders           int            `json:"orders"`
	ResponseRate     *float64       `json:"response_rate"`     // 响应率; null when response_sample is 0
	ResolutionRate   *float64       `json:"resolution_rate"`   // 解决率; null when rating_sample is 0
	SatisfactionRate *float64       `json:"satisfaction_rate"` // 满意率; null when rating_sample is 0
	ResponseSample   int            `json:"response_sample"`
	RatingSample     int            `json:"rating_sample"`
	Responded        int            `json:"responded"` // orders accepted on time
	Solved           int            `json:"solved"`    // ratings saying solved
	Satisfied        int            `json:"satisfied"` // ratings of 4 or 5 stars
	ByCategory       map[string]int `json:"by_category"`
	ByLane           map[string]int `json:"by_lane"`
	FeedByDimension  map[string]int `json:"feed_by_dimension"`
	TopMembers       []TopMember    `json:"top_members"`
	Seq              uint64         `json:"seq"`
}

// TopMember is one row of a report's top_members.
type TopMember struct {
	Member    string   `json:"member"`
	Name      string   `json:"name"`
	Completed int      `json:"completed"`
	Points    int      `json:"points"`
	Ratings   int      `json:"ratings"`
	MeanStars *float64 `json:"mean_stars"` // null when Ratings is 0
}

// tally is one member's month in one community: a row of members.<c>.<p>.
type tally struct {
	Member    string `json:"member"`
	Name      string `json:"name"`
	Completed int    `json:"completed"`
	OnTime    int    `json:"on_time"`
	Ratings   int    `json:"ratings"`
	Stars     int    `json:"stars"`
	Points    int    `json:"points"`
}

// tallies is the document members.<c>.<p>.
type tallies struct {
	Community string  `json:"community"`
	Period    string  `json:"period"`
	Members   []tally `json:"members"`
}

// Responses of an order, as order.<id> stores them.
const (
	responsePending   = ""
	responseOnTime    = "on_time"
	responseLate      = "late"
	responseCancelled = "cancelled"
	responseOverdue   = "overdue" // past the accept deadline, not accepted yet: due, not on time
)

// orderDoc is the document order.<id>.
type orderDoc struct {
	Community string `json:"community"`
	Lane      string `json:"lane"`
	Category  string `json:"category"`
	Period    string `json:"period"`
	Response  string `json:"response"`
}

// memberDoc is the document member.<id>.
type memberDoc struct {
	Name      string `json:"name"`
	Community string `json:"community"`
}

type monthKey struct{ community, period string }

// month is one report being built.
type month struct {
	key                 monthKey
	docKey, talliesKey  string
	orders              int
	due                 int // orders accepted, or past their accept deadline unaccepted
	responded           int
	ratings             int
	solved              int
	satisfied           int
	byCategory, byLane  map[string]int
	dims                [6]int // in feed.All() order
	members             map[string]*tally
	seq                 uint64
	hasReport, hasTally bool
}

// View builds the monthly reports. It implements projections.View; it is not safe for
// concurrent use.
type View struct {
	applied projections.Applied // redeliveries change nothing
	months  map[monthKey]*month
	orders  map[string]*orderDoc
	members map[string]*memberDoc
	// communities are the registered communities' names, by id (documents community.<id>).
	communities map[string]string

	// the month last computed, since events mostly come in time order
	from, to time.Time
	period   string
}

// New returns an empty report view.
func New() *View {
	return &View{months: map[monthKey]*month{}, orders: map[string]*orderDoc{}, members: map[string]*memberDoc{},
		communities: map[string]string{}}
}

// Name is "reports", permanent.
func (v *View) Name() string { return Name }

// SetApplied sets the view's high-water mark (projections.Marked).
func (v *View) SetApplied(seq uint64) { v.applied.Set(seq) }

// Types lists the aggregates the view reads: order, member, lane, and community for the
// names reports carry.
func (v *View) Types() []string {
	return []string{order.AggregateType, member.AggregateType, lane.AggregateType, community.AggregateType}
}

var dimensionIndex = func() map[string]int {
	m := map[string]int{}
	for i, d := range feed.All() {
		m[d] = i
	}
	return m
}()

// periodOf is projections.Period(t), remembering the last month's bounds.
func (v *View) periodOf(t time.Time) string {
	if !t.Before(v.from) && t.Before(v.to) {
		return v.period
	}
	local := t.In(projections.Shanghai)
	v.from = time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, projections.Shanghai)
	v.to = v.from.AddDate(0, 1, 0)
	v.period = projections.Period(t)
	return v.period
}

func (v *View) month(community, period string) *month {
	k := monthKey{community, period}
	m := v.months[k]
	if m == nil {
		m = &month{key: k, docKey: "report." + community + "." + period, talliesKey: "members." + community + "." + period,
			byCategory: map[string]int{}, byLane: map[string]int{}, members: map[string]*tally{}}
		v.months[k] = m
	}
	return m
}

// changes collects the keys one Apply changed, each once.
type changes []string

func (c *changes) add(k string) {
	if !slices.Contains(*c, k) {
		*c = append(*c, k)
	}
}

func (c *changes) report(m *month, seq uint64) {
	m.seq, m.hasReport = seq, true
	c.add(m.docKey)
}

// Apply folds one event in and returns the keys of the documents it changed.
func (v *View) Apply(rec domain.Recorded, ev domain.Event) []string {
	if !v.applied.Fresh(rec) {
		return nil
	}
	id := rec.AggregateID
	if id == "" {
		return nil
	}
	var ch changes
	switch e := ev.(type) {
	case order.Submitted:
		if _, seen := v.orders[id]; seen || e.Community == "" {
			return nil
		}
		o := &orderDoc{Community: e.Community, Lane: e.Lane, Category: e.Category, Period: v.periodOf(rec.Time)}
		v.orders[id] = o
		ch.add("order." + id)
		m := v.month(o.Community, o.Period)
		m.orders++
		m.byCategory[o.Category]++
		m.byLane[o.Lane]++
		ch.report(m, rec.Seq)
		v.countFeed(&ch, rec, ev, o.Community, o.Category)
	case order.Dispatched, order.Reassigned, order.Declined, order.Escalated, order.Returned, order.Reopened,
		order.Noted:
		if o := v.orders[id]; o != nil {
			v.countFeed(&ch, rec, ev, o.Community, o.Category)
		}
	case order.MarkedOverdue:
		o := v.orders[id]
		if o == nil {
			return nil
		}
		if e.Deadline == order.DeadlineAccept && o.Response == responsePending {
			o.Response = responseOverdue
			ch.add("order." + id)
			m := v.month(o.Community, o.Period)
			m.due++
			ch.report(m, rec.Seq)
		}
		v.countFeed(&ch, rec, ev, o.Community, o.Category)
	case order.Claimed:
		v.accepted(&ch, rec, ev, id, e.OnTime)
	case order.Accepted:
		v.accepted(&ch, rec, ev, id, e.OnTime)
	case order.Cancelled:
		o := v.orders[id]
		if o == nil {
			return nil
		}
		if o.Response == responsePending { // never due: in no sample
			o.Response = responseCancelled
			ch.add("order." + id)
		}
		v.countFeed(&ch, rec, ev, o.Community, o.Category)
	case order.Completed:
		o := v.orders[id]
		if o == nil {
			return nil
		}
		if e.Member != "" {
			t := v.tally(&ch, rec, e.Member, o.Community)
			t.Completed++
			t.Points += 10
			if e.OnTime {
				t.OnTime++
				t.Points += 2
			}
		}
		v.countFeed(&ch, rec, ev, o.Community, o.Category)
	case order.Rated:
		o := v.orders[id]
		if o == nil {
			return nil
		}
		m := v.month(o.Community, v.periodOf(rec.Time))
		m.ratings++
		if e.Solved {
			m.solved++
		}
		if e.Stars >= 4 && e.Stars <= 5 {
			m.satisfied++
		}
		ch.report(m, rec.Seq)
		if e.Member != "" {
			t := v.tally(&ch, rec, e.Member, o.Community)
			t.Ratings++
			t.Stars += e.Stars
			t.Points += 2 * (e.Stars - 3)
		}
		v.countFeed(&ch, rec, ev, o.Community, o.Category)
	case lane.Registered:
		v.countFeed(&ch, rec, ev, e.Community, "")
	case lane.Updated:
		v.countFeed(&ch, rec, ev, e.Community, "")
	case member.Registered:
		v.memberChanged(&ch, rec, ev, id, member.Profile(e))
	case member.Updated:
		v.memberChanged(&ch, rec, ev, id, member.Profile(e))
	case member.Retired:
		if mb := v.members[id]; mb != nil {
			v.countFeed(&ch, rec, ev, mb.Community, "")
		}
	case community.Registered:
		v.named(&ch, rec, id, e.Name)
	case community.Renamed:
		v.named(&ch, rec, id, e.Name)
	}
	return ch
}

// named keeps a community's name and changes the reports of its months, in key order.
func (v *View) named(ch *changes, rec domain.Recorded, id, name string) {
	v.communities[id] = name
	ch.add("community." + id)
	var ks []string
	for k, m := range v.months {
		if k.community == id && m.hasReport {
			m.seq = rec.Seq
			ks = append(ks, m.docKey)
		}
	}
	slices.Sort(ks)
	for _, k := range ks {
		ch.add(k)
	}
}

// accepted records an order's first acceptance, which decides its response.
func (v *View) accepted(ch *changes, rec domain.Recorded, ev domain.Event, id string, onTime bool) {
	o := v.orders[id]
	if o == nil {
		return
	}
	switch o.Response {
	case responsePending:
		m := v.month(o.Community, o.Period)
		m.due++
		o.Response = responseLate
		if onTime {
			o.Response = responseOnTime
			m.responded++
		}
		ch.report(m, rec.Seq)
		ch.add("order." + id)
	case responseOverdue: // in the sample already, late
		o.Response = responseLate
		ch.add("order." + id)
	}
	v.countFeed(ch, rec, ev, o.Community, o.Category)
}

func (v *View) memberChanged(ch *changes, rec domain.Recorded, ev domain.Event, id string, p member.Profile) {
	v.members[id] = &memberDoc{Name: p.Name, Community: p.Community}
	ch.add("member." + id)
	v.countFeed(ch, rec, ev, p.Community, "")
}

// tally returns the month's tally of member, in the member's community (the order's when
// the member is unknown), and marks it changed.
func (v *View) tally(ch *changes, rec domain.Recorded, memberID, orderCommunity string) *tally {
	community, name := orderCommunity, ""
	if mb := v.members[memberID]; mb != nil {
		name = mb.Name
		if mb.Community != "" {
			community = mb.Community
		}
	}
	m := v.month(community, v.periodOf(rec.Time))
	t := m.members[memberID]
	if t == nil {
		t = &tally{Member: memberID}
		m.members[memberID] = t
	}
	if name != "" {
		t.Name = name
	}
	m.hasTally = true
	ch.add(m.talliesKey)
	ch.report(m, rec.Seq)
	return t
}

// countFeed counts the event's feed entry, if it has one, in the community's month.
func (v *View) countFeed(ch *changes, rec domain.Recorded, ev domain.Event, community, category string) {
	if community == "" {
		return
	}
	ds := feed.Dimensions(ev, category)
	if len(ds) == 0 {
		return
	}
	m := v.month(community, v.periodOf(rec.Time))
	for _, d := range ds {
		m.dims[dimensionIndex[d]]++
	}
	ch.report(m, rec.Seq)
}

func rate(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// report makes the Report of a month, its community called name.
func (m *month) report(name string) Report {
	r := Report{
		Community: m.key.community, CommunityName: name, Period: m.key.period, Orders: m.orders,
		ResponseSample: m.due, RatingSample: m.ratings,
		Responded: m.responded, Solved: m.solved, Satisfied: m.satisfied,
		ByCategory: copyCounts(m.byCategory), ByLane: copyCounts(m.byLane),
		FeedByDimension: make(map[string]int, len(m.dims)), TopMembers: m.top(TopN), Seq: m.seq,
	}
	r.ResponseRate = rate(r.Responded, r.ResponseSample)
	r.ResolutionRate = rate(r.Solved, r.RatingSample)
	r.SatisfactionRate = rate(r.Satisfied, r.RatingSample)
	for i, d := range feed.All() {
		r.FeedByDimension[d] = m.dims[i]
	}
	return r
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, n := range m {
		out[k] = n
	}
	return out
}

// ranked returns the month's tallies by points, then completed orders, then member id.
func (m *month) ranked() []tally {
	out := make([]tally, 0, len(m.members))
	for _, t := range m.members {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b tally) int {
		switch {
		case a.Points != b.Points:
			return b.Points - a.Points
		case a.Completed != b.Completed:
			return b.Completed - a.Completed
		}
		return strings.Compare(a.Member, b.Member)
	})
	return out
}

func (m *month) top(n int) []TopMember {
	ranked := m.ranked()
	out := make([]TopMember, 0, min(n, len(ranked)))
	for _, t := range ranked[:min(n, len(ranked))] {
		var mean *float64
		if t.Ratings > 0 {
			x := float64(t.Stars) / float64(t.Ratings)
			mean = &x
		}
		out = append(out, TopMember{Member: t.Member, Name: t.Name, Completed: t.Completed, Points: t.Points, Ratings: t.Ratings, MeanStars: mean})
	}
	return out
}

func (m *month) tallies() tallies {
	ts := make([]tally, 0, len(m.members))
	for _, t := range m.members {
		ts = append(ts, *t)
	}
	slices.SortFunc(ts, func(a, b tally) int { return strings.Compare(a.Member, b.Member) })
	return tallies{Community: m.key.community, Period: m.key.period, Members: ts}
}
