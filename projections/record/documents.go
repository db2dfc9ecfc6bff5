package record

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

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
	if err := v.restore(key, doc); err != nil {
		return err
	}
	return nil
}

func (v *View) restore(key string, doc []byte) error {
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
		v.applied.Saw(d.Seq)
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
		v.applied.Saw(d.Seq)
		return nil
	}
	return fmt.Errorf("restore %s: not a key of the records view", key)
}
