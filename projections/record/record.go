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
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
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

// Types lists the aggregates the view reads: order and member.
func (v *View) Types() []string { return []string{order.AggregateType, member.AggregateType} }

// Apply folds one event in and returns the keys of the documents it changed.
func (v *View) Apply(rec domain.Recorded, ev domain.Event) []string {
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

// Doc returns the document under key, or nil when there is none.
func (v *View) Doc(key string) []byte {
	var doc any
	switch {
	case strings.HasPrefix(key, memberPrefix):
		m := v.members[key[len(memberPrefix):]]
		if m == nil || m.profile == nil {
			return nil
		}
		doc = m.profile
	case strings.HasPrefix(key, recordPrefix):
		id, period, ok := splitKey(key[len(recordPrefix):])
		m := v.members[id]
		if !ok || m == nil || m.records[period] == nil {
			return nil
		}
		doc = m.records[period].doc()
	case strings.HasPrefix(key, rankingPrefix):
		rk := v.rankings[key]
		if rk == nil {
			return nil
		}
		doc = rk.doc()
	case strings.HasPrefix(key, explainPrefix):
		id, period, page, ok := splitExplainKey(key)
		m := v.members[id]
		if !ok || m == nil || m.records[period] == nil {
			return nil
		}
		r := m.records[period]
		if page >= r.pages()-1 {
			return nil
		}
		doc = Explain{Member: id, Period: period, Page: page, Events: r.events[page*PageSize : (page+1)*PageSize]}
	default:
		return nil
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic("record: encode " + key + ": " + err.Error()) // cannot happen: plain structs
	}
	return b
}

// splitKey splits "<id>.<period>"; ids hold no dots.
// splitExplainKey parses explain.<member>.<period>.<page>.
func splitExplainKey(key string) (id, period string, page int, ok bool) {
	rest, found := strings.CutPrefix(key, explainPrefix)
	i := strings.LastIndexByte(rest, '.')
	if !found || i < 0 {
		return "", "", 0, false
	}
	n, err := strconv.Atoi(rest[i+1:])
	if err != nil || n < 0 {
		return "", "", 0, false
	}
	id, period, ok = splitKey(rest[:i])
	return id, period, n, ok
}

func splitKey(s string) (id, period string, ok bool) {
	id, period, ok = strings.Cut(s, ".")
	return id, period, ok && id != "" && period != "" && !strings.Contains(period, ".")
}

func (r *recState) name() string {
	if r.m.profile == nil {
		return ""
	}
	return r.m.profile.Name
}

func (r *recState) meanStars() float64 {
	if r.ratings == 0 {
		return 0
	}
	return float64(r.stars) / float64(r.ratings)
}

func (r *recState) doc() Record {
	d := Record{
		Member: r.m.id, Name: r.name(), Community: r.community, Period: r.period,
		Dispatched: r.dispatched, Accepted: r.accepted, Declined: r.declined, Completed: r.completed,
		Minutes: r.minutes, Ratings: r.ratings, MeanStars: r.meanStars(), Points: r.points,
		Events: r.events[(r.pages()-1)*PageSize:], Seq: r.seq,
	}
	if p := r.pages(); p > 1 {
		d.EventPages = p
	}
	if r.completed > 0 {
		d.OnTimeRate = float64(r.onTime) / float64(r.completed)
	}
	if d.Events == nil {
		d.Events = []RecordEvent{}
	}
	return d
}

func (rk *rankState) doc() Ranking {
	d := Ranking{Community: rk.community, Period: rk.period, Items: make([]RankItem, 0, len(rk.members)), Seq: rk.seq}
	for _, r := range rk.members {
		teams := []string{}
		if r.m.profile != nil && r.m.profile.Teams != nil {
			teams = r.m.profile.Teams
		}
		d.Items = append(d.Items, RankItem{
			Member: r.m.id, Name: r.name(), Teams: teams, Points: r.points, Completed: r.completed,
			Ratings: r.ratings, MeanStars: r.meanStars(), Sample: r.completed + r.ratings,
		})
	}
	slices.SortFunc(d.Items, func(a, b RankItem) int {
		if c := cmp.Compare(b.Points, a.Points); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Completed, a.Completed); c != 0 {
			return c
		}
		return strings.Compare(a.Member, b.Member)
	})
	return d
}

// Restore loads one document as Doc produced it, in any order of keys.
func (v *View) Restore(key string, doc []byte) error {
	switch {
	case strings.HasPrefix(key, memberPrefix):
		var p Profile
		if err := json.Unmarshal(doc, &p); err != nil {
			return fmt.Errorf("restore %s: %w", key, err)
		}
		if p.ID == "" || MemberKey(p.ID) != key {
			return fmt.Errorf("restore %s: the document is of member %q", key, p.ID)
		}
		if p.Teams == nil {
			p.Teams = []string{}
		}
		v.member(p.ID).profile = &p
		return nil
	case strings.HasPrefix(key, recordPrefix):
		var d Record
		if err := json.Unmarshal(doc, &d); err != nil {
			return fmt.Errorf("restore %s: %w", key, err)
		}
		if d.Member == "" || d.Period == "" || RecordKey(d.Member, d.Period) != key {
			return fmt.Errorf("restore %s: the document is of member %q for %q", key, d.Member, d.Period)
		}
		m := v.member(d.Member)
		if old := m.records[d.Period]; old != nil && old.rank != nil {
			delete(old.rank.members, d.Member)
		}
		events := d.Events
		if d.EventPages > 1 {
			events = append(make([]RecordEvent, (d.EventPages-1)*PageSize), d.Events...)
			for page, evs := range v.pending[key] {
				if page < d.EventPages-1 {
					copy(events[page*PageSize:], evs)
				}
			}
			delete(v.pending, key)
		}
		r := &recState{
			key: key, m: m, period: d.Period,
			dispatched: d.Dispatched, accepted: d.Accepted, declined: d.Declined, completed: d.Completed,
			minutes: d.Minutes, ratings: d.Ratings, points: d.Points, events: events, seq: d.Seq,
			// The rates are quotients of whole numbers no larger than the counts: float64
			// carries them, and JSON round-trips them, exactly enough to recover the
			// numerators by rounding.
			onTime: int(math.Round(d.OnTimeRate * float64(d.Completed))),
			stars:  int(math.Round(d.MeanStars * float64(d.Ratings))),
		}
		for i := range r.events {
			r.events[i].Time = r.events[i].Time.UTC()
		}
		m.records[d.Period] = r
		v.attach(r, d.Community)
		return nil
	case strings.HasPrefix(key, explainPrefix):
		var d Explain
		if err := json.Unmarshal(doc, &d); err != nil {
			return fmt.Errorf("restore %s: %w", key, err)
		}
		if d.Member == "" || d.Period == "" || ExplainKey(d.Member, d.Period, d.Page) != key || len(d.Events) != PageSize {
			return fmt.Errorf("restore %s: the document is not page %d of %q for %q", key, d.Page, d.Member, d.Period)
		}
		for i := range d.Events {
			d.Events[i].Time = d.Events[i].Time.UTC()
		}
		if m := v.members[d.Member]; m != nil && m.records[d.Period] != nil && d.Page < m.records[d.Period].pages()-1 {
			copy(m.records[d.Period].events[d.Page*PageSize:], d.Events)
			return nil
		}
		rk := RecordKey(d.Member, d.Period)
		if v.pending[rk] == nil {
			v.pending[rk] = map[int][]RecordEvent{}
		}
		v.pending[rk][d.Page] = d.Events
		return nil
	case strings.HasPrefix(key, rankingPrefix):
		var d Ranking
		if err := json.Unmarshal(doc, &d); err != nil {
			return fmt.Errorf("restore %s: %w", key, err)
		}
		if d.Community == "" || d.Period == "" || RankingKey(d.Community, d.Period) != key {
			return fmt.Errorf("restore %s: the document is of community %q for %q", key, d.Community, d.Period)
		}
		rk := v.rankings[key]
		if rk == nil {
			// Its members join it as their records are restored.
			rk = &rankState{key: key, community: d.Community, period: d.Period, members: map[string]*recState{}}
			v.rankings[key] = rk
		}
		rk.seq = d.Seq
		return nil
	}
	return fmt.Errorf("restore %s: not a key of the records view", key)
}
