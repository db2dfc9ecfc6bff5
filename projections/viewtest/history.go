package viewtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
)

// Steward is the actor of the events a History writes.
var Steward = domain.Actor{ID: "tok-steward", Name: "王芳", Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang"}}

// History builds sealed, recorded events with increasing stream positions, as the
// store would hold them.
type History struct {
	tb       testing.TB
	versions map[string]uint64
	Recs     []domain.Recorded
}

// NewHistory returns an empty history.
func NewHistory(tb testing.TB) *History { return &History{tb: tb, versions: map[string]uint64{}} }

// Add appends one event of the aggregate aggType/id, happening at at.
func (h *History) Add(at time.Time, aggType, id string, ev domain.Event) domain.Recorded {
	h.tb.Helper()
	seq := uint64(len(h.Recs)) + 1
	agg := aggType + "/" + id
	envs, err := domain.Seal(aggType, id, h.versions[agg], []domain.Event{ev}, []string{fmt.Sprintf("ev-%06d", seq)},
		domain.Meta{Actor: Steward, Time: at, CorrelationID: "corr", CausationID: "cause"})
	if err != nil {
		h.tb.Fatal(err)
	}
	h.versions[agg]++
	rec := domain.Recorded{Envelope: envs[0], Seq: seq}
	h.Recs = append(h.Recs, rec)
	return rec
}

// Order appends an order event.
func (h *History) Order(at time.Time, id string, ev domain.Event) domain.Recorded {
	h.tb.Helper()
	return h.Add(at, order.AggregateType, id, ev)
}

// Lane appends a lane event.
func (h *History) Lane(at time.Time, id string, ev domain.Event) domain.Recorded {
	h.tb.Helper()
	return h.Add(at, lane.AggregateType, id, ev)
}

// Member appends a member event.
func (h *History) Member(at time.Time, id string, ev domain.Event) domain.Recorded {
	h.tb.Helper()
	return h.Add(at, member.AggregateType, id, ev)
}

// Submitted is a normal repair request to laneID in taoyuan with the default deadlines
// from at.
func Submitted(laneID, number, title string, at time.Time) order.Submitted {
	return order.Submitted{
		Number: number, Lane: laneID, Community: "taoyuan", Street: "dongcheng", Category: "repair",
		Title: title, Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"},
		Mode: order.ModeInstant, Channel: order.ChannelStation, Priority: order.PriorityNormal,
		AcceptBy: at.Add(24 * time.Hour), CompleteBy: at.Add(72 * time.Hour),
	}
}

// Decode turns a record back into its event, as the runner does.
func Decode(tb testing.TB, rec domain.Recorded) domain.Event {
	tb.Helper()
	ev, err := projections.Events.Decode(rec.Envelope)
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// Apply applies recs to v and returns every key Apply reported, sorted and once each.
func Apply(tb testing.TB, v projections.View, recs []domain.Recorded) []string {
	tb.Helper()
	var keys []string
	for _, rec := range recs {
		keys = append(keys, v.Apply(rec, Decode(tb, rec))...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// Doc decodes the document under key, failing when there is none.
func Doc[T any](tb testing.TB, v projections.View, key string) T {
	tb.Helper()
	var d T
	b := v.Doc(key)
	if b == nil {
		tb.Fatalf("no document under %s", key)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		tb.Fatalf("decode %s: %v", key, err)
	}
	return d
}

// SameDocs fails unless a and b hold byte-identical documents under every key.
func SameDocs(tb testing.TB, a, b projections.View, keys []string) {
	tb.Helper()
	for _, k := range keys {
		if da, db := a.Doc(k), b.Doc(k); !bytes.Equal(da, db) {
			tb.Fatalf("documents under %s differ:\n%s\n%s", k, da, db)
		}
	}
}

// PanicTB lets a history be built outside a test (a shared, lazily made one); it fails
// by panicking.
type PanicTB struct{ testing.TB }

// Helper does nothing.
func (PanicTB) Helper() {}

// Fatal panics.
func (PanicTB) Fatal(args ...any) { panic(fmt.Sprint(args...)) }

// Fatalf panics.
func (PanicTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
