package domain

import (
	"context"
	"fmt"
	"time"
)

// EventStore is the append-only log of every aggregate's events: the port the command
// runner writes through and audits read from.
//
// An aggregate is named by its type and id; its events form one ordered stream inside a
// single log that orders all events (Recorded.Seq). Implementations are safe for
// concurrent use.
type EventStore interface {
	// Append stores events for one aggregate, all or none, if the aggregate's last stored
	// event is still at log position expected (0: the aggregate has no events yet).
	// Otherwise it stores nothing and returns an error for which errors.Is(err,
	// ErrConflict) holds. Events are stored at most once per id: appending an event whose
	// id is already stored (a retry) stores nothing new and reports the first positions.
	// It returns the log position of each event.
	Append(ctx context.Context, aggType, aggID string, expected uint64, events []Envelope) ([]uint64, error)

	// Load returns the aggregate's events stored after log position after, oldest first.
	// An aggregate with no events yields none and no error.
	Load(ctx context.Context, aggType, aggID string, after uint64) ([]Recorded, error)
}

// CheckAppend refuses envelopes that do not belong to the aggregate, lack an id or
// repeat one: what every EventStore checks before it writes.
func CheckAppend(aggType, aggID string, events []Envelope) error {
	seen := make(map[string]bool, len(events))
	for i, e := range events {
		switch {
		case e.ID == "":
			return Invalid("events", fmt.Sprintf("event %d has no id", i))
		case seen[e.ID]:
			return Invalid("events", fmt.Sprintf("event id %s appears twice", e.ID))
		case e.AggregateType != aggType || e.AggregateID != aggID:
			return Invalid("events", fmt.Sprintf("event %s belongs to %s/%s, not %s/%s", e.ID, e.AggregateType, e.AggregateID, aggType, aggID))
		}
		seen[e.ID] = true
	}
	return nil
}

// Clock tells the time. The domain never reads the wall clock itself.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }
