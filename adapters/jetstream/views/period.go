package views

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/projections"
)

// CatchUp runs the views' writers, as serve does, until every view has applied every
// stored event it reads, or until limit has passed (an error then). A period roll uses
// it so that the views stand at the end of the period before it ends.
func (v *Views) CatchUp(ctx context.Context, newViews []func() projections.View, limit time.Duration) error {
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = v.Run(rctx, newViews...) })
	defer wg.Wait()
	defer cancel()
	deadline := time.Now().Add(limit)
	for {
		behind := ""
		for _, nv := range newViews {
			view := nv()
			ok, err := v.CaughtUp(ctx, view)
			if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
				return fmt.Errorf("view %s: %w", view.Name(), err)
			}
			if !ok {
				behind = view.Name()
				break
			}
		}
		if behind == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("view %s did not catch up with the log within %s", behind, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// MoveToPeriod sets each view's checkpoint to position seq of stream, the next period's
// stream, where seq is its last carried copy: the writers go on there with the first new
// event, and never apply a copy of an event they applied in the period before. Each
// checkpoint must stand at the end of the store's stream (CatchUp); the write is fenced
// on the checkpoint read, so a writer that wrote meanwhile makes it fail.
func (v *Views) MoveToPeriod(ctx context.Context, newViews []func() projections.View, stream string, seq uint64) error {
	for _, nv := range newViews {
		view := nv()
		name := view.Name()
		last, err := v.lastRelevant(ctx, view)
		if err != nil {
			return fmt.Errorf("view %s: %w", name, err)
		}
		kv, _, err := v.bucket(ctx, name)
		if err != nil {
			return fmt.Errorf("view %s: %w", name, err)
		}
		var cp checkpoint
		var rev uint64
		e, err := kv.Get(ctx, checkpointKey)
		switch {
		case err == nil:
			if err := json.Unmarshal(e.Value(), &cp); err != nil {
				return fmt.Errorf("view %s checkpoint: %w", name, err)
			}
			rev = e.Revision()
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return fmt.Errorf("view %s checkpoint: %w", name, err)
		}
		if cp.Stream == stream {
			continue // moved already (a roll run again)
		}
		if err := v.sameStream(ctx, cp); err != nil {
			return fmt.Errorf("view %s: %w", name, err)
		}
		if cp.Seq < last {
			return fmt.Errorf("view %s stands at %d, before the last event it reads (%d): it must catch up before the period ends", name, cp.Seq, last)
		}
		body, _ := json.Marshal(checkpoint{Seq: seq, Stream: stream, Writer: "period roll:" + v.owner, At: time.Now().UTC()})
		if rev == 0 {
			_, err = kv.Create(ctx, checkpointKey, body)
		} else {
			_, err = kv.Update(ctx, checkpointKey, body, rev)
		}
		if err != nil {
			return fmt.Errorf("view %s: move its checkpoint to %s at %d: %w", name, stream, seq, err)
		}
		_ = v.store.Stream().DeleteConsumer(ctx, "view-"+name) // the old period's reader; best effort
	}
	return nil
}
