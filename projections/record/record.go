// Package record keeps members' service records, month by month, and the evaluation
// ranking (评先评优) of each community's members. Every figure can be traced back to the
// events that made it: a record lists each of them with the points it gave.
//
// # Counting
//
// A month is an Asia/Shanghai calendar month (projections.Period) of the event's time,
// and an event counts in the month it happened: a December rating of a November order
// counts in December.
//
//	order.dispatched   dispatched +1 to the member
//	order.reassigned   dispatched +1 to the new member
//	order.accepted     accepted +1
//	order.claimed      accepted +1
//	order.declined     declined +1
//	order.completed    completed +1, minutes += minutes; +10 points, +2 more when on time
//	order.rated        ratings +1 to the rated member; 2 × (stars − 3) points
//	                   (1 star −4, 2 −2, 3 0, 4 +2, 5 +4)
//
// Each order event names the member it concerns, so the view keeps nothing per order.
// mean_stars is the mean of the month's ratings and on_time_rate the share of the month's
// completions that were on time, both 0 when there are none.
//
// # Documents
//
// Keys and their JSON (times RFC 3339, UTC):
//
//	member.<memberID>          {"id":"m-001","name":"李明","community":"taoyuan",
//	                            "teams":["红色方舟"],"active":true}
//
//	record.<memberID>.<YYYY-MM>
//	                           {"member":"m-001","name":"李明","community":"taoyuan",
//	                            "period":"2026-11","dispatched":2,"accepted":2,"declined":0,
//	                            "completed":2,"minutes":130,"ratings":1,"mean_stars":5,
//	                            "on_time_rate":0.5,"points":26,
//	                            "events":[{"seq":17,"id":"0193…","type":"redlane.order.completed.v1",
//	                                       "time":"2026-11-04T02:00:00Z","order":"0193…",
//	                                       "points":12,"what":"completed on time, 40 min: +10 +2"}, …],
//	                            "seq":31}
//
//	explain.<memberID>.<YYYY-MM>.<page>
//	                           {"member":"m-001","period":"2026-11","page":0,"events":[…]}
//	                           a busy month's earlier events, PageSize to a page; the
//	                           record then says "event_pages" and lists only the last page
//
//	ranking.<community>.<YYYY-MM>
//	                           {"community":"taoyuan","period":"2026-11",
//	                            "items":[{"member":"m-001","name":"李明","teams":["红色方舟"],
//	                                      "points":26,"completed":2,"ratings":1,"mean_stars":5,
//	                                      "sample":3}, …],
//	                            "seq":31}
//
// A record's events are every event that changed its figures, in log order; their
// points add up to the record's points, and counting-only events give 0. A ranking lists
// every member of the community with a record in the month, by points (highest first),
// then completed (most first), then member id; sample is completed + ratings, the number
// of facts the points rest on, so that one fast job does not make anyone "best".
//
// The community a record counts in is the member's community when the record began (when
// the member's profile is not yet known, from the moment it is). Names and teams are the
// member's as they are now: a changed profile changes the member's records and rankings.
// teams is sorted. seq is the stream sequence of the last event that changed the
// document.
package record

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
)

// Name is the view's permanent name: it names its storage and its durable consumer.
const Name = "records"

// The default points (product.md).
const (
	pointsCompleted = 10 // per completed order
	pointsOnTime    = 2  // more, when it was completed on time
	pointsPerStar   = 2  // per star above (or below) neutralStars
	neutralStars    = 3
)

// Key prefixes of the view's documents.
const (
	memberPrefix  = "member."
	recordPrefix  = "record."
	rankingPrefix = "ranking."
	explainPrefix = "explain."
)

// MemberKey is the key of a member's profile document.
func MemberKey(memberID string) string { return memberPrefix + memberID }

// RecordKey is the key of a member's record for period ("2026-11").
func RecordKey(memberID, period string) string { return recordPrefix + memberID + "." + period }

// PageSize is how many events a record document lists. When a month holds more, the
// earlier ones stand in explanation pages of this size, so that no document outgrows a
// NATS message however busy a member is.
const PageSize = 200

// ExplainKey is the key of a record's page of earlier events, counted from 0.
func ExplainKey(memberID, period string, page int) string {
	return fmt.Sprintf("%s%s.%s.%d", explainPrefix, memberID, period, page)
}

// Explain is a page of a record's earlier events.
type Explain struct {
	Member string        `json:"member"`
	Period string        `json:"period"`
	Page   int           `json:"page"`
	Events []RecordEvent `json:"events"`
}

// RankingKey is the key of a community's ranking for period ("2026-11").
func RankingKey(community, period string) string {
	return rankingPrefix + community + "." + period
}

// Profile is the document member.<memberID>.
type Profile struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Community string   `json:"community"`
	Teams     []string `json:"teams"` // sorted; never null
	Active    bool     `json:"active"`
}

// Record is the document record.<memberID>.<YYYY-MM>: a member's service in a month.
type Record struct {
	Member     string        `json:"member"`
	Name       string        `json:"name"`
	Community  string        `json:"community"`
	Period     string        `json:"period"`
	Dispatched int           `json:"dispatched"`
	Accepted   int           `json:"accepted"`
	Declined   int           `json:"declined"`
	Completed  int           `json:"completed"`
	Minutes    int           `json:"minutes"`
	Ratings    int           `json:"ratings"`
	MeanStars  float64       `json:"mean_stars"`   // 0 when there are no ratings
	OnTimeRate float64       `json:"on_time_rate"` // 0 when there are no completions
	Points     int           `json:"points"`
	Events     []RecordEvent `json:"events"` // in log order; never null
	// EventPages, when over 1, says the month's events fill that many pages: events holds
	// the last, and explain.<member>.<period>.<page> the earlier ones (0 to pages−2).
	EventPages int    `json:"event_pages,omitempty"`
	Seq        uint64 `json:"seq"`
}

// RecordEvent is one event that changed a record, with the points it gave.
type RecordEvent struct {
	Seq    uint64    `json:"seq"`
	ID     string    `json:"id"`
	Type   string    `json:"type"`
	Time   time.Time `json:"time"`
	Order  string    `json:"order"`
	Points int       `json:"points"`
	What   string    `json:"what"` // a short English label, e.g. "rated 5 stars, solved: +4"
}

// Ranking is the document ranking.<community>.<YYYY-MM>: the evaluation (评先评优) of a
// community's members for a month.
type Ranking struct {
	Community string     `json:"community"`
	Period    string     `json:"period"`
	Items     []RankItem `json:"items"` // best first; never null
	Seq       uint64     `json:"seq"`
}

// RankItem is one member in a ranking.
type RankItem struct {
	Member    string   `json:"member"`
	Name      string   `json:"name"`
	Teams     []string `json:"teams"` // never null
	Points    int      `json:"points"`
	Completed int      `json:"completed"`
	Ratings   int      `json:"ratings"`
	MeanStars float64  `json:"mean_stars"`
	Sample    int      `json:"sample"` // completed + ratings
}

// memberState is a member: the profile, once known, and the records by period.
type memberState struct {
	id      string
	key     string
	profile *Profile
	records map[string]*recState
}

type recState struct {
	key       string
	m         *memberState
	period    string
	community string
	rank      *rankState // nil while the community is unknown

	dispatched, accepted, declined, completed, minutes int
	ratings, stars, onTime, points                     int
	events                                             []RecordEvent
	seq                                                uint64
}

type rankState struct {
	key, community, period string
	members                map[string]*recState
	seq                    uint64
}

// View is the service records and rankings. It implements projections.View; it is not
// safe for concurrent use.
type View struct {
	applied  projections.Applied // redeliveries change nothing
	members  map[string]*memberState
	rankings map[string]*rankState
	// pages restored before their record, by record key and page
	pending map[string]map[int][]RecordEvent
}

// New returns an empty view.
func New() *View {
	return &View{members: map[string]*memberState{}, rankings: map[string]*rankState{}, pending: map[string]map[int][]RecordEvent{}}
}

// Name is "records", permanent.
func (v *View) Name() string { return Name }

// SetApplied sets the view's high-water mark (projections.Marked).
func (v *View) SetApplied(seq uint64) { v.applied.Set(seq) }

// Types lists the aggregates the view reads: order and member.
func (v *View) Types() []string { return []string{order.AggregateType, member.AggregateType} }

// Apply folds one event in and returns the keys of the documents it changed.
func (v *View) Apply(rec domain.Recorded, ev domain.Event) []string {
	if !v.applied.Fresh(rec) {
		return nil
	}
	switch e := ev.(type) {
	case member.Registered:
		return v.applyProfile(rec, member.Profile(e), true)
	case member.Updated:
		return v.applyProfile(rec, member.Profile(e), false)
	case member.Retired:
		m := v.members[rec.AggregateID]
		if m == nil || m.profile == nil || !m.profile.Active {
			return nil
		}
		m.profile.Active = false
		return []string{m.key}

	case order.Dispatched:
		if r, made := v.record(rec, e.Member); r != nil {
			r.dispatched++
			return v.counted(rec, r, made, false, 0, "dispatched")
		}
	case order.Reassigned:
		if r, made := v.record(rec, e.Member); r != nil {
			r.dispatched++
			what := "reassigned"
			if e.From != "" {
				what = "reassigned from " + e.From
			}
			return v.counted(rec, r, made, false, 0, what)
		}
	case order.Claimed:
		if r, made := v.record(rec, e.Member); r != nil {
			r.accepted++
			return v.counted(rec, r, made, false, 0, late("claimed", e.OnTime))
		}
	case order.Accepted:
		if r, made := v.record(rec, e.Member); r != nil {
			r.accepted++
			return v.counted(rec, r, made, false, 0, late("accepted", e.OnTime))
		}
	case order.Declined:
		if r, made := v.record(rec, e.Member); r != nil {
			r.declined++
			return v.counted(rec, r, made, false, 0, "declined")
		}
	case order.Completed:
		if r, made := v.record(rec, e.Member); r != nil {
			r.completed++
			r.minutes += e.Minutes
			pts, what := pointsCompleted, "completed late, "+strconv.Itoa(e.Minutes)+" min: +10"
			if e.OnTime {
				r.onTime++
				pts, what = pointsCompleted+pointsOnTime, "completed on time, "+strconv.Itoa(e.Minutes)+" min: +10 +2"
			}
			return v.counted(rec, r, made, true, pts, what)
		}
	case order.Rated:
		if r, made := v.record(rec, e.Member); r != nil {
			r.ratings++
			r.stars += e.Stars
			pts := pointsPerStar * (e.Stars - neutralStars)
			return v.counted(rec, r, made, true, pts, rated(e.Stars, e.Solved, pts))
		}
	}
	return nil
}

func late(what string, onTime bool) string {
	if onTime {
		return what
	}
	return what + " after the accept deadline"
}

func rated(stars int, solved bool, pts int) string {
	var b strings.Builder
	b.WriteString("rated ")
	b.WriteString(strconv.Itoa(stars))
	if stars == 1 {
		b.WriteString(" star, ")
	} else {
		b.WriteString(" stars, ")
	}
	if !solved {
		b.WriteString("not ")
	}
	b.WriteString("solved: ")
	if pts > 0 {
		b.WriteByte('+')
	}
	b.WriteString(strconv.Itoa(pts))
	return b.String()
}

// member returns the member id, first making it.
func (v *View) member(id string) *memberState {
	m := v.members[id]
	if m == nil {
		m = &memberState{id: id, key: MemberKey(id), records: map[string]*recState{}}
		v.members[id] = m
	}
	return m
}

// record returns the record of memberID for the month of rec, and whether it was just
// made; nil when the event names no member.
func (v *View) record(rec domain.Recorded, memberID string) (*recState, bool) {
	if memberID == "" || rec.AggregateID == "" {
		return nil, false
	}
	m := v.member(memberID)
	period := projections.Period(rec.Time)
	if r := m.records[period]; r != nil {
		return r, false
	}
	r := &recState{key: RecordKey(memberID, period), m: m, period: period}
	m.records[period] = r
	if m.profile != nil {
		v.attach(r, m.profile.Community)
	}
	return r, true
}

// attach makes community the record's and puts the record in the community's ranking.
func (v *View) attach(r *recState, community string) {
	r.community = community
	if community == "" {
		return
	}
	key := RankingKey(community, r.period)
	rk := v.rankings[key]
	if rk == nil {
		rk = &rankState{key: key, community: community, period: r.period, members: map[string]*recState{}}
		v.rankings[key] = rk
	}
	rk.members[r.m.id] = r
	r.rank = rk
}

// counted finishes an order event that changed r: it lists the event with its points and
// reports the record, and its ranking when a ranked figure changed or the member just
// joined it.
func (v *View) counted(rec domain.Recorded, r *recState, made, ranked bool, pts int, what string) []string {
	r.points += pts
	r.events = append(r.events, RecordEvent{
		Seq: rec.Seq, ID: rec.ID, Type: rec.Type, Time: rec.Time.UTC(), Order: rec.AggregateID, Points: pts, What: what,
	})
	r.seq = rec.Seq
	keys := []string{r.key}
	if n := len(r.events); n > PageSize && (n-1)%PageSize == 0 {
		// The event starts a new page: the one before is full and now stands alone.
		keys = append(keys, ExplainKey(r.m.id, r.period, (n-1)/PageSize-1))
	}
	if r.rank == nil || !made && !ranked {
		return keys
	}
	r.rank.seq = rec.Seq
	return append(keys, r.rank.key)
}

// pages is how many pages the record's events fill.
func (r *recState) pages() int { return max(1, (len(r.events)+PageSize-1)/PageSize) }

// applyProfile applies a member's registration (which makes them active) or update.
func (v *View) applyProfile(rec domain.Recorded, p member.Profile, register bool) []string {
	id := rec.AggregateID
	if id == "" {
		return nil
	}
	m := v.member(id)
	next := Profile{ID: id, Name: p.Name, Community: p.Community, Teams: sortedTeams(p.Teams), Active: register}
	old := m.profile
	if old != nil && !register {
		next.Active = old.Active
	}
	if old != nil && old.Name == next.Name && old.Community == next.Community &&
		slices.Equal(old.Teams, next.Teams) && old.Active == next.Active {
		return nil
	}
	if old == nil {
		old = &Profile{}
	}
	m.profile = &next
	keys := []string{m.key}
	renamed, reteamed := old.Name != next.Name, !slices.Equal(old.Teams, next.Teams)
	for _, period := range slices.Sorted(maps.Keys(m.records)) {
		r := m.records[period]
		joined := false
		if r.community == "" && next.Community != "" {
			v.attach(r, next.Community)
			joined = true
		}
		if joined || renamed {
			r.seq = rec.Seq
			keys = append(keys, r.key)
		}
		if r.rank != nil && (joined || renamed || reteamed) {
			r.rank.seq = rec.Seq
			keys = append(keys, r.rank.key)
		}
	}
	return keys
}

func sortedTeams(teams []string) []string {
	out := make([]string, len(teams))
	copy(out, teams)
	slices.Sort(out)
	return out
}
