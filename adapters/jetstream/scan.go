package jetstream

import (
	"context"
	"runtime"
	"sync/atomic"
)

// ScanParallel is store.Scan from position from with the work each message needs on
// its own (decoding, checking) done by prep on every core, ahead of fn, which is called
// with each message and what prep made of it, in order, on one goroutine. prep must be
// safe for concurrent use. fn's first error stops the scan and is returned.
func ScanParallel[T any](ctx context.Context, store *Store, from uint64, prep func(RawEvent) T, fn func(RawEvent, T) error) error {
	const batchSize = 256
	type batch struct {
		evs  []RawEvent
		out  []T
		done chan struct{}
	}
	newBatch := func() *batch { return &batch{evs: make([]RawEvent, 0, batchSize), done: make(chan struct{})} }
	workers := max(runtime.GOMAXPROCS(0), 1)
	jobs := make(chan *batch, 2*workers)
	ordered := make(chan *batch, 4*workers)
	for range workers {
		go func() {
			for b := range jobs {
				b.out = make([]T, len(b.evs))
				for i, ev := range b.evs {
					b.out[i] = prep(ev)
				}
				close(b.done)
			}
		}()
	}
	var stopped atomic.Pointer[error]
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for b := range ordered {
			<-b.done
			if stopped.Load() != nil {
				continue // drain
			}
			for i, ev := range b.evs {
				if err := fn(ev, b.out[i]); err != nil {
					stopped.Store(&err)
					break
				}
			}
		}
	}()
	cur := newBatch()
	send := func() {
		ordered <- cur
		jobs <- cur
		cur = newBatch()
	}
	err := store.Scan(ctx, from, func(ev RawEvent) error {
		if p := stopped.Load(); p != nil {
			return *p
		}
		cur.evs = append(cur.evs, ev)
		if len(cur.evs) == batchSize {
			send()
		}
		return nil
	})
	if len(cur.evs) > 0 {
		send()
	}
	close(jobs)
	close(ordered)
	<-consumed
	if p := stopped.Load(); p != nil {
		return *p
	}
	return err
}
