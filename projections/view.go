package projections

import (
	"fmt"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/street"
)

// View is a read model: a pure, deterministic fold of stored events into JSON documents,
// each under a key. A view keeps its whole state in memory; the runner that feeds it
// restores the documents at start, applies events in log order, and stores the documents
// Apply reports as changed together with the view's checkpoint.
//
// Implementations do no I/O, read no clock and are not safe for concurrent use: one
// runner owns a view at a time.
type View interface {
	// Name is permanent: it names the view's storage and its durable consumer.
	Name() string
	// Types lists the aggregate types whose events the view reads.
	Types() []string
	// Apply folds one event in and returns the keys of the documents it changed (each
	// at most once is not required). It never fails: an event it does not know is
	// ignored.
	Apply(rec domain.Recorded, ev domain.Event) []string
	// Doc returns the JSON document now under key, or nil when the key holds nothing
	// (the runner then deletes it).
	Doc(key string) []byte
	// Restore loads one stored document, as Doc produced it.
	Restore(key string, doc []byte) error
}

// Events decodes any event a view may read.
var Events = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(
		domain.Def[order.Submitted](), domain.Def[order.Dispatched](), domain.Def[order.Reassigned](),
		domain.Def[order.Claimed](), domain.Def[order.Accepted](), domain.Def[order.Declined](),
		domain.Def[order.Completed](), domain.Def[order.Rated](), domain.Def[order.Cancelled](),
		domain.Def[order.Escalated](), domain.Def[order.Reopened](), domain.Def[order.Noted](),
		domain.Def[order.MarkedOverdue](), domain.Def[order.Returned](),
		domain.Def[lane.Registered](), domain.Def[lane.Updated](),
		domain.Def[member.Registered](), domain.Def[member.Updated](), domain.Def[member.Retired](),
		domain.Def[access.Issued](), domain.Def[access.Revoked](),
		domain.Def[street.Registered](), domain.Def[street.Renamed](),
		domain.Def[community.Registered](), domain.Def[community.Renamed](),
	)
	return r
}()

// Fold applies recorded events to a view in order, decoding each; it is how a view is
// built from nothing in tests and in rebuilds.
func Fold(v View, recs []domain.Recorded) error {
	for _, rec := range recs {
		ev, err := Events.Decode(rec.Envelope)
		if err != nil {
			return fmt.Errorf("view %s: seq %d: %w", v.Name(), rec.Seq, err)
		}
		v.Apply(rec, ev)
	}
	return nil
}

// Shanghai is where months and days are reckoned: evaluations and reports are by the
// local calendar, while every stored time is UTC.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*60*60) // China has kept +08:00 without DST since 1991
	}
	return loc
}()

// Period is the month ("2026-11") in Asia/Shanghai in which t falls.
func Period(t time.Time) string { return t.In(Shanghai).Format("2006-01") }

// Applied is a view's high-water mark: the stream position of the last event it folded
// in. A view keeps one so that an event delivered again (at or below the mark) changes
// nothing, whatever its runner does: Apply asks Fresh first, and Restore tells Saw the
// position each document records.
type Applied struct{ seq uint64 }

// Fresh reports whether rec comes after every event folded in so far, and moves the mark
// to it. Records with no position (built outside the log) are always fresh.
func (a *Applied) Fresh(rec domain.Recorded) bool {
	if rec.Seq == 0 {
		return true
	}
	if rec.Seq <= a.seq {
		return false
	}
	a.seq = rec.Seq
	return true
}

// Set puts the mark at seq, wherever it was. The runner knows better than the documents
// where a view stands: after a restore, at its checkpoint; before it folds a later
// period of the log (redlane period roll), at the last position carried into that
// period, whose positions start again below the earlier period's.
func (a *Applied) Set(seq uint64) { a.seq = seq }

// Marked is a view that keeps an Applied mark; its runner sets it (Applied.Set).
type Marked interface{ SetApplied(seq uint64) }

// SetApplied sets the mark of view, when it keeps one, to seq.
func SetApplied(view View, seq uint64) {
	if m, ok := view.(Marked); ok {
		m.SetApplied(seq)
	}
}

// Saw moves the mark to seq, if it is further: a restored document was written after
// the events up to seq.
func (a *Applied) Saw(seq uint64) {
	if seq > a.seq {
		a.seq = seq
	}
}
