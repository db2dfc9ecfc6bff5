package jetstream

// Earlier periods, read-only: after a roll, an order left behind (cancelled, or closed
// before the grace) is only in the period where it ended. Earlier finds it there, so
// that it can still be read. It never writes: a command on such an order must not append
// to the current stream at a position of the old one (that would conflict for ever, or
// start a second history), so writers keep to the current stream alone and the service
// refuses a command on an order that only an earlier period holds.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/domain"
)

// earlierRefresh is how long Earlier keeps the chain of periods it read before it reads
// it again on a miss, so that a period restored from an archive is seen within a minute
// or so, while a miss costs no stream info.
const earlierRefresh = time.Minute

// Earlier reads aggregates from the periods before a store's own that are still on the
// server, following redlane.period.prev, the latest first. Safe for concurrent use.
type Earlier struct {
	cur *Store

	mu      sync.Mutex
	stores  []*Store // the earlier periods on the server, the latest first
	readAt  time.Time
	refresh time.Duration
}

// Earlier returns a reader of the periods before the store's own.
func (s *Store) Earlier() *Earlier {
	return &Earlier{cur: s, refresh: earlierRefresh}
}

// periods returns the earlier periods' stores, reading the chain when it was never read
// or was read more than refresh ago.
func (e *Earlier) periods(ctx context.Context) ([]*Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.readAt.IsZero() && time.Since(e.readAt) < e.refresh {
		return e.stores, nil
	}
	chain, _, err := e.cur.Periods(ctx)
	if err != nil {
		return nil, err
	}
	stores := make([]*Store, 0, len(chain)-1)
	for i := len(chain) - 2; i >= 0; i-- { // the current period is chain's last
		st, err := e.cur.OpenPeriod(ctx, chain[i].Stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			break // archived since Periods looked: so are those before it, as far as the chain tells
		}
		if err != nil {
			return nil, err
		}
		stores = append(stores, st)
	}
	e.stores, e.readAt = stores, time.Now()
	return stores, nil
}

// drop forgets an earlier period whose stream is gone (archived).
func (e *Earlier) drop(st *Store) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, s := range e.stores {
		if s == st {
			e.stores = append(e.stores[:i:i], e.stores[i+1:]...)
			return
		}
	}
}

// find returns the latest earlier period in which probe finds the aggregate, or nil.
// probe reads one period (a last-message lookup by subject, or the events themselves)
// and reports whether the aggregate is there; a period whose stream has gone is passed
// over and forgotten.
func (e *Earlier) find(ctx context.Context, aggType, aggID string, probe func(st *Store) (bool, error)) (*Store, error) {
	if _, err := e.cur.subject(aggType, aggID); err != nil {
		return nil, err
	}
	stores, err := e.periods(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range stores {
		found, err := probe(st)
		if err == nil {
			if found {
				return st, nil
			}
			continue
		}
		if gone, cerr := e.gone(ctx, st); cerr == nil && gone {
			e.drop(st)
			continue
		}
		return nil, fmt.Errorf("earlier period %s: %s %s: %w", st.name, aggType, aggID, err)
	}
	return nil, nil
}

// gone reports whether an earlier period's stream has left the server.
func (e *Earlier) gone(ctx context.Context, st *Store) (bool, error) {
	_, err := e.cur.js.Stream(ctx, st.name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return true, nil
	}
	return false, err
}

// Load returns the aggregate's events from the latest earlier period that holds it,
// oldest first, and that period's stream; none (and "") when no earlier period on the
// server holds it. The positions are the earlier stream's. One read per period: a
// period without the aggregate answers its last-event lookup with nothing.
func (e *Earlier) Load(ctx context.Context, aggType, aggID string) ([]domain.Recorded, string, error) {
	var recs []domain.Recorded
	st, err := e.find(ctx, aggType, aggID, func(st *Store) (bool, error) {
		var err error
		recs, err = st.Load(ctx, aggType, aggID, 0)
		return len(recs) > 0, err
	})
	if st == nil || err != nil {
		return nil, "", err
	}
	return recs, st.name, nil
}

// History is Store.History of the latest earlier period that holds the aggregate: its
// events there, those not obeyed marked Rejected; none when no earlier period on the
// server holds it. Periods are found by their last event of the aggregate, so that a
// miss costs no scan.
func (e *Earlier) History(ctx context.Context, aggType, aggID string) ([]domain.Recorded, error) {
	subj, err := e.cur.subject(aggType, aggID)
	if err != nil {
		return nil, err
	}
	st, err := e.find(ctx, aggType, aggID, func(st *Store) (bool, error) {
		_, err := st.stream.GetLastMsgForSubject(ctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	if st == nil || err != nil {
		return nil, err
	}
	return st.History(ctx, aggType, aggID)
}
