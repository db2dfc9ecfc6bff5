package views

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DocWatcher takes a view's documents as a watch delivers them (query.Index is one).
type DocWatcher interface {
	// Reset forgets every document: the watch starts over, on a new generation's bucket.
	Reset()
	// Apply takes the document now under key; value is nil when the key was deleted.
	Apply(key string, value []byte) error
	// Loaded marks that every document stored when the watch began has been delivered.
	Loaded()
}

// Watch feeds w the documents of view whose keys match the subject filters keys, as
// they are now and then as the view's writer changes them, until ctx ends. It follows a
// rebuild to the new generation's bucket (w is reset and loaded again), and starts over
// after a NATS fault, saying so in the log. Readers keep indexes this way instead of
// reading a document per request.
func (v *Views) Watch(ctx context.Context, view string, keys []string, w DocWatcher) error {
	for {
		err := v.watchOnce(ctx, view, keys, w)
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, errSwitched) {
			v.log.Warn("view watch: starts over", "view", view, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

var errSwitched = errors.New("the view moved to a new bucket")

func (v *Views) watchOnce(ctx context.Context, view string, keys []string, w DocWatcher) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ptrs, err := v.js.KeyValue(ctx, PointerBucket)
	if err != nil {
		return err
	}
	pw, err := ptrs.Watch(ctx, view)
	if err != nil {
		return err
	}
	defer func() { _ = pw.Stop() }()
	// The pointer as it is now comes first: the bucket to watch.
	var current []byte
	for e := range pw.Updates() {
		if e == nil {
			break
		}
		if e.Operation() == jetstream.KeyValuePut {
			current = bytes.Clone(e.Value())
		}
	}
	for current == nil { // the view's writer has not started yet: wait for it
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-pw.Updates():
			if !ok {
				return errors.New("the pointer watch ended")
			}
			if e != nil && e.Operation() == jetstream.KeyValuePut {
				current = bytes.Clone(e.Value())
			}
		}
	}
	kv, _, err := v.bucket(ctx, view)
	if err != nil {
		return err
	}
	w.Reset()
	kw, err := kv.WatchFiltered(ctx, slices.Clone(keys)) // it writes the bucket's prefix into the slice
	if err != nil {
		return err
	}
	defer func() { _ = kw.Stop() }()
	bad := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-pw.Updates():
			if !ok {
				return errors.New("the pointer watch ended")
			}
			if e != nil && !bytes.Equal(e.Value(), current) {
				v.log.Info("view watch: follows a rebuild", "view", view)
				return errSwitched
			}
		case e, ok := <-kw.Updates():
			if !ok {
				return errors.New("the watch ended")
			}
			if e == nil {
				w.Loaded()
				continue
			}
			var value []byte
			if e.Operation() == jetstream.KeyValuePut {
				value = e.Value()
			}
			if err := w.Apply(e.Key(), value); err != nil {
				if bad++; bad == 1 || bad%1000 == 0 {
					v.log.Error("view watch: a document does not decode; it is left out", "view", view, "key", e.Key(), "err", err, "so_far", bad)
				}
			}
		}
	}
}
