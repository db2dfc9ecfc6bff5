package report

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/redlane/redlane/projections/feed"
)

// communityDoc is the document community.<id>: a registered community's name.
type communityDoc struct {
	Name string `json:"name"`
}

// Report returns the report of a community for a period (YYYY-MM), and whether there is
// one: it is what Doc encodes, for callers that hold the view.
func (v *View) Report(community, period string) (Report, bool) {
	m := v.months[monthKey{community, period}]
	if m == nil || !m.hasReport {
		return Report{}, false
	}
	return m.report(v.communities[community]), true
}

// Doc returns the document under key as JSON, or nil.
func (v *View) Doc(key string) []byte {
	kind, rest, _ := strings.Cut(key, ".")
	var doc any
	switch kind {
	case "report", "members":
		community, period, ok := strings.Cut(rest, ".")
		if !ok {
			return nil
		}
		m := v.months[monthKey{community, period}]
		switch {
		case m == nil:
		case kind == "report" && m.hasReport:
			doc = m.report(v.communities[community])
		case kind == "members" && m.hasTally:
			doc = m.tallies()
		}
	case "order":
		if o, ok := v.orders[rest]; ok {
			doc = o
		}
	case "member":
		if mb, ok := v.members[rest]; ok {
			doc = mb
		}
	case "community":
		if name, ok := v.communities[rest]; ok {
			doc = communityDoc{Name: name}
		}
	}
	if doc == nil {
		return nil
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil // cannot happen: the documents hold strings, numbers and finite floats
	}
	return b
}

// Restore loads a document as Doc produced it.
func (v *View) Restore(key string, doc []byte) error {
	if err := v.restore(key, doc); err != nil {
		return fmt.Errorf("reports: restore %q: %w", key, err)
	}
	return nil
}

func (v *View) restore(key string, doc []byte) error {
	kind, rest, _ := strings.Cut(key, ".")
	if rest == "" {
		return fmt.Errorf("not a key of this view")
	}
	if len(doc) == 0 || string(doc) == "null" {
		return fmt.Errorf("empty document")
	}
	switch kind {
	case "report", "members":
		community, period, ok := strings.Cut(rest, ".")
		if !ok || community == "" || period == "" {
			return fmt.Errorf("not a key of this view")
		}
		if kind == "report" {
			var r Report
			if err := json.Unmarshal(doc, &r); err != nil {
				return err
			}
			if r.Community != community || r.Period != period {
				return fmt.Errorf("document is of %s %s", r.Community, r.Period)
			}
			if r.ResponseSample > r.Orders || r.ResponseSample < 0 {
				return fmt.Errorf("response_sample %d with %d orders", r.ResponseSample, r.Orders)
			}
			m := v.month(community, period)
			m.orders, m.due, m.responded = r.Orders, r.ResponseSample, r.Responded
			m.ratings, m.solved, m.satisfied = r.RatingSample, r.Solved, r.Satisfied
			m.byCategory, m.byLane = copyCounts(r.ByCategory), copyCounts(r.ByLane)
			for i, d := range feed.All() {
				m.dims[i] = r.FeedByDimension[d]
			}
			m.seq, m.hasReport = r.Seq, true
			v.applied.Saw(r.Seq)
			return nil
		}
		var ts tallies
		if err := json.Unmarshal(doc, &ts); err != nil {
			return err
		}
		if ts.Community != community || ts.Period != period {
			return fmt.Errorf("document is of %s %s", ts.Community, ts.Period)
		}
		m := v.month(community, period)
		m.members = make(map[string]*tally, len(ts.Members))
		for _, t := range ts.Members {
			m.members[t.Member] = &t
		}
		m.hasTally = true
		return nil
	case "order":
		var o orderDoc
		if err := json.Unmarshal(doc, &o); err != nil {
			return err
		}
		v.orders[rest] = &o
		return nil
	case "member":
		var mb memberDoc
		if err := json.Unmarshal(doc, &mb); err != nil {
			return err
		}
		v.members[rest] = &mb
		return nil
	case "community":
		var c communityDoc
		if err := json.Unmarshal(doc, &c); err != nil {
			return err
		}
		v.communities[rest] = c.Name
		return nil
	}
	return fmt.Errorf("not a key of this view")
}
