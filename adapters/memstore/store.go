// Package memstore is an in-memory domain.EventStore for tests and demos. It keeps the
// same contract as the JetStream store: one log ordering all aggregates, optimistic
// concurrency on the aggregate's last position, all-or-none appends and at-most-once
// storage per event id. Nothing survives the process.
package memstore

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sync"

	"github.com/redlane/redlane/domain"
)

// validID is what an aggregate type or id may look like; the JetStream store puts both
// into a subject, and this store refuses the same names so that tests catch them early.
var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// Store is an in-memory event log. The zero value is not usable; call New.
type Store struct {
	mu   sync.RWMutex
	log  []domain.Recorded   // log[i].Seq == i+1
	aggs map[string][]int    // aggregate key -> indexes into log, oldest first
	ids  map[string]storedID // event id -> where it is stored
}

type storedID struct {
	agg string
	seq uint64
}

var _ domain.EventStore = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{aggs: map[string][]int{}, ids: map[string]storedID{}}
}

func key(aggType, aggID string) (string, error) {
	if !validID.MatchString(aggType) {
		return "", domain.Invalid("id", fmt.Sprintf("aggregate type %q must be 1 to 128 letters, digits, '-' or '_'", aggType))
	}
	if !validID.MatchString(aggID) {
		return "", domain.Invalid("id", fmt.Sprintf("aggregate id %q must be 1 to 128 letters, digits, '-' or '_'", aggID))
	}
	return aggType + "." + aggID, nil
}

// Append stores events for one aggregate if its last event is at position expected; see
// domain.EventStore.
func (s *Store) Append(ctx context.Context, aggType, aggID string, expected uint64, events []domain.Envelope) ([]uint64, error) {
	k, err := key(aggType, aggID)
	if err != nil {
		return nil, err
	}
	if err := domain.CheckAppend(aggType, aggID, events); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	// A retry: the events are stored already, whatever expected says now. An id stored
	// for another aggregate is no retry but a conflict, as is a partly stored append.
	seqs := make([]uint64, 0, len(events))
	for _, e := range events {
		if at, ok := s.ids[e.ID]; ok && at.agg == k {
			seqs = append(seqs, at.seq)
		}
	}
	switch {
	case len(seqs) == len(events):
		return seqs, nil
	case len(seqs) > 0:
		return nil, fmt.Errorf("append %s/%s: some of the events are stored already, others not: %w", aggType, aggID, domain.ErrConflict)
	}

	idx := s.aggs[k]
	var last uint64
	if len(idx) > 0 {
		last = s.log[idx[len(idx)-1]].Seq
	}
	if last != expected {
		return nil, fmt.Errorf("append %s/%s: expected last position %d, is %d: %w", aggType, aggID, expected, last, domain.ErrConflict)
	}
	for _, e := range events {
		if at, ok := s.ids[e.ID]; ok {
			return nil, fmt.Errorf("append %s/%s: event id %s is stored for %s: %w", aggType, aggID, e.ID, at.agg, domain.ErrConflict)
		}
	}
	for _, e := range events {
		seq := uint64(len(s.log)) + 1
		e.Data = slices.Clone(e.Data)
		s.log = append(s.log, domain.Recorded{Envelope: e, Seq: seq})
		idx = append(idx, len(s.log)-1)
		s.ids[e.ID] = storedID{agg: k, seq: seq}
		seqs = append(seqs, seq)
	}
	s.aggs[k] = idx
	return seqs, nil
}

// Load returns the aggregate's events after position after, oldest first.
func (s *Store) Load(ctx context.Context, aggType, aggID string, after uint64) ([]domain.Recorded, error) {
	k, err := key(aggType, aggID)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	idx := s.aggs[k]
	// Positions grow with the index, so the first event after `after` is found by search.
	i, _ := slices.BinarySearchFunc(idx, after, func(li int, seq uint64) int {
		if s.log[li].Seq <= seq {
			return -1
		}
		return 1
	})
	if i == len(idx) {
		return nil, nil
	}
	out := make([]domain.Recorded, 0, len(idx)-i)
	for _, li := range idx[i:] {
		r := s.log[li]
		r.Data = slices.Clone(r.Data)
		out = append(out, r)
	}
	return out, nil
}

// LastSeq returns the position of the last stored event, 0 when there is none.
func (s *Store) LastSeq() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return uint64(len(s.log))
}

// ReadAll calls fn with every event from position from up to the last one stored when it
// is called, in log order. It stops at fn's first error and returns it.
func (s *Store) ReadAll(ctx context.Context, from uint64, fn func(domain.Recorded) error) error {
	s.mu.RLock()
	n := uint64(len(s.log))
	s.mu.RUnlock()
	for seq := max(from, 1); seq <= n; seq++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.RLock()
		r := s.log[seq-1]
		s.mu.RUnlock()
		r.Data = slices.Clone(r.Data)
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}
