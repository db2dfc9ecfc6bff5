package service

import (
	"context"
	"sync"

	"github.com/redlane/redlane/domain/order"
)

// openedKey is the context key of an openedMemo.
type openedKey struct{}

// openedMemo keeps the requesters opened while one command is handled. Answering a
// command showed the order's requester by opening the sealed details, and opening asks
// the vault for the resident's key, a round trip to NATS; a command whose text is
// checked for the requester's name (notes, completions, ratings) opened them twice, and
// a submit sealed them and opened them again. Kept for one command only, so that an
// erasure, by this process or another, shows in the next answer.
type openedMemo struct {
	mu sync.Mutex
	m  map[string]order.Requester
}

// WithOpened returns a context in which the requesters the service seals or opens are
// opened once: give it to a command and to the answer that shows its order, and to
// nothing that outlives them.
func WithOpened(ctx context.Context) context.Context {
	return context.WithValue(ctx, openedKey{}, &openedMemo{})
}

func memoKey(s *order.Sealed) string { return s.Resident + "\x00" + string(s.Nonce) }

func openedFrom(ctx context.Context) *openedMemo {
	m, _ := ctx.Value(openedKey{}).(*openedMemo)
	return m
}

func (o *openedMemo) get(s *order.Sealed) (order.Requester, bool) {
	if o == nil {
		return order.Requester{}, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.m[memoKey(s)]
	return r, ok
}

func (o *openedMemo) put(s *order.Sealed, r order.Requester) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = make(map[string]order.Requester, 1)
	}
	o.m[memoKey(s)] = r
}
