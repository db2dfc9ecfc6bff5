package views

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
)

// applyStored is the one step of every fold of the log into a view — the live writer,
// a rebuild, projections verify and audit replay — so that they agree on every log. The
// caller has already set aside what Redlane did not sign and what is no event. An event
// of a type the view does not read changes nothing. An event of a type this version
// cannot decode (written by a newer Redlane, say) is passed over, never a reason to stop:
// known is false, and the caller counts it and says so once in its log.
func applyStored(view projections.View, rec domain.Recorded) (keys []string, known bool) {
	if !slices.Contains(view.Types(), rec.AggregateType) {
		return nil, true
	}
	ev, err := projections.Events.Decode(rec.Envelope)
	if err != nil {
		return nil, false
	}
	return view.Apply(rec, ev), true
}

// FoldLog builds a view from the log's events up to position until of the store's
// stream (0: the last one stored now), and returns every key it wrote and the position
// in the store's stream up to which it has folded. When the stream is a later period
// (jetstream/period.go), the periods before it are folded first, the earliest first,
// each from the first position after its carried copies, so that no event counts twice;
// every earlier period's stream must be on the server (restored, if it was archived).
func (v *Views) FoldLog(ctx context.Context, view projections.View, until uint64, progress jsstore.Progress) ([]string, uint64, error) {
	keys := map[string]struct{}{}
	var applied, carried uint64
	err := v.store.EachPeriod(ctx, func(store *jsstore.Store, from uint64, last bool) error {
		end, pr := uint64(0), jsstore.Progress(nil)
		if last {
			end, pr = until, progress
			carried = from - 1
		}
		if from > 1 {
			projections.SetApplied(view, from-1) // a later period: its positions start again
		}
		var err error
		applied, err = v.foldStream(ctx, store, view, from, end, keys, pr)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("fold %s: %w", view.Name(), err)
	}
	applied = max(applied, carried)
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, applied, nil
}

// foldStream folds store's events from position from through until (0: the last) into
// view, adding the keys it writes to keys, and returns the last position applied.
func (v *Views) foldStream(ctx context.Context, store *jsstore.Store, view projections.View, from, until uint64, keys map[string]struct{}, progress jsstore.Progress) (uint64, error) {
	total, err := store.LastSeq(ctx)
	if err != nil {
		return 0, err
	}
	if until == 0 || until > total {
		until = total
	}
	types := view.Types()
	var applied uint64
	passed := 0
	tick := time.Now()
	errStop := errors.New("stop")
	err = store.ReadAll(ctx, from, func(rec domain.Recorded) error {
		if rec.Seq > until {
			return errStop
		}
		if slices.Contains(types, rec.AggregateType) {
			changed, known := applyStored(view, rec)
			if !known {
				if passed++; passed == 1 {
					v.log.Warn("fold passes over an event it cannot decode", "view", view.Name(), "stream", store.StreamName(), "seq", rec.Seq, "type", rec.Type)
				}
			}
			for _, k := range changed {
				keys[k] = struct{}{}
			}
			applied = rec.Seq
			if fv, ok := view.(interface{ Take() []feed.Entry }); ok {
				fv.Take() // the feed's entries are already published; a rebuild remakes its context
			}
		}
		if progress != nil && (rec.Seq == until || time.Since(tick) > 200*time.Millisecond) {
			progress(rec.Seq, until)
			tick = time.Now()
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return 0, err
	}
	if progress != nil {
		progress(until, until)
	}
	return applied, nil
}

// Rebuild builds a view from nothing into a new generation's bucket and then switches
// readers and the writer to it in one step, so no reader sees a half-built view. The
// previous generation is kept until the next rebuild.
func (v *Views) Rebuild(ctx context.Context, nv func() projections.View, progress jsstore.Progress) (string, error) {
	view := nv()
	name := view.Name()
	// The generation comes from the pointer alone: a rebuild also mends a view whose
	// bucket is gone.
	cur, err := v.currentPointer(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		_, cur, err = v.bucket(ctx, name)
	}
	if err != nil {
		return "", err
	}
	next := pointer{Bucket: bucketName(name, cur.Generation+1), Generation: cur.Generation + 1}
	_ = v.js.DeleteKeyValue(ctx, next.Bucket) // the remains of an interrupted rebuild
	kv, err := v.createBucket(ctx, next.Bucket)
	if err != nil {
		return "", err
	}
	keys, last, err := v.FoldLog(ctx, view, 0, progress)
	if err != nil {
		return "", err
	}
	if err := v.writeAll(ctx, kv, view, keys); err != nil {
		return "", err
	}
	cp, _ := json.Marshal(checkpoint{Seq: last, Stream: v.store.StreamName(), Writer: "rebuild:" + v.owner, At: time.Now().UTC()})
	if _, err := kv.Put(ctx, checkpointKey, cp); err != nil {
		return "", err
	}
	ptrs, err := v.js.KeyValue(ctx, PointerBucket)
	if err != nil {
		return "", err
	}
	e, err := ptrs.Get(ctx, name)
	if err != nil {
		return "", err
	}
	var now pointer
	if err := json.Unmarshal(e.Value(), &now); err != nil {
		return "", err
	}
	if now.Generation != cur.Generation {
		return "", fmt.Errorf("view %s: another rebuild switched to generation %d meanwhile", name, now.Generation)
	}
	next.Since = time.Now().UTC()
	body, _ := json.Marshal(next)
	if _, err := ptrs.Update(ctx, name, body, e.Revision()); err != nil {
		return "", fmt.Errorf("view %s: switch: %w", name, err)
	}
	if cur.Generation > 1 {
		_ = v.js.DeleteKeyValue(ctx, bucketName(name, cur.Generation-1))
	}
	return next.Bucket, nil
}

// writeAll stores the view's documents under keys, publishing asynchronously.
func (v *Views) writeAll(ctx context.Context, kv jetstream.KeyValue, view projections.View, keys []string) error {
	prefix := "$KV." + kv.Bucket() + "."
	for chunk := range slices.Chunk(keys, 4096) {
		for _, k := range chunk {
			doc := view.Doc(k)
			if doc == nil {
				continue
			}
			m := nats.NewMsg(prefix + k)
			m.Data = doc
			if _, err := v.js.PublishMsgAsync(m); err != nil {
				return err
			}
		}
		select {
		case <-v.js.PublishAsyncComplete():
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Minute):
			return errors.New("rebuild: the server did not acknowledge the documents")
		}
	}
	return nil
}

// Dump returns every document of a view as stored now, without the checkpoint.
func (v *Views) Dump(ctx context.Context, name string) (map[string][]byte, error) {
	kv, _, err := v.bucket(ctx, name)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	st, err := v.js.Stream(ctx, "KV_"+kv.Bucket())
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx)
	if err != nil || info.State.Msgs == 0 {
		return out, err
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy})
	if err != nil {
		return nil, err
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, err
	}
	defer it.Stop()
	prefix := "$KV." + kv.Bucket() + "."
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return nil, err
		}
		key := strings.TrimPrefix(msg.Subject(), prefix)
		if op := msg.Headers().Get("KV-Operation"); op == "" && key != checkpointKey {
			out[key] = msg.Data()
		}
		md, err := msg.Metadata()
		if err != nil {
			return nil, err
		}
		if md.NumPending == 0 {
			return out, nil
		}
	}
}

// Diff compares a view as stored with the same view folded from nothing out of the log
// up to the stored checkpoint, and describes each document that differs. An empty
// answer means the stored view is exactly what a rebuild would give.
func (v *Views) Diff(ctx context.Context, nv func() projections.View) ([]string, error) {
	fresh := nv()
	name := fresh.Name()
	cp, err := v.Checkpoint(ctx, name)
	if err != nil {
		return nil, err
	}
	live, err := v.Dump(ctx, name)
	if err != nil {
		return nil, err
	}
	if cp == 0 {
		if len(live) > 0 {
			return []string{fmt.Sprintf("view %s: %d documents but no checkpoint", name, len(live))}, nil
		}
		return nil, nil
	}
	keys, _, err := v.FoldLog(ctx, fresh, cp, nil)
	if err != nil {
		return nil, err
	}
	var diffs []string
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
		doc := fresh.Doc(k)
		stored, ok := live[k]
		switch {
		case doc == nil && ok:
			diffs = append(diffs, fmt.Sprintf("view %s: %s is stored but a rebuild has none", name, k))
		case doc != nil && !ok:
			diffs = append(diffs, fmt.Sprintf("view %s: %s is missing", name, k))
		case doc != nil && string(doc) != string(stored):
			diffs = append(diffs, fmt.Sprintf("view %s: %s differs: %s", name, k, ShortDiff(stored, doc)))
		}
	}
	for k := range live {
		if !seen[k] {
			diffs = append(diffs, fmt.Sprintf("view %s: %s is stored but no event made it", name, k))
		}
	}
	slices.Sort(diffs)
	return diffs, nil
}

// ShortDiff says where two JSON documents differ, field by field (stored → rebuilt), in
// a line or two: at most five fields, each value cut to 60 characters.
func ShortDiff(stored, rebuilt []byte) string {
	var a, b any
	if json.Unmarshal(stored, &a) != nil || json.Unmarshal(rebuilt, &b) != nil {
		return fmt.Sprintf("%s → %s", clip(string(stored)), clip(string(rebuilt)))
	}
	var out []string
	diffJSON("", a, b, &out)
	const most = 5
	if len(out) > most {
		out = append(out[:most], fmt.Sprintf("and %d more", len(out)-most))
	}
	return strings.Join(out, "; ")
}

func diffJSON(path string, a, b any, out *[]string) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		slices.Sort(sorted)
		for _, k := range sorted {
			diffJSON(path+"."+k, am[k], bm[k], out)
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		for i := range al {
			diffJSON(fmt.Sprintf("%s[%d]", path, i), al[i], bl[i], out)
		}
		return
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		*out = append(*out, fmt.Sprintf("%s: %s → %s", strings.TrimPrefix(path, "."), clip(string(ja)), clip(string(jb))))
	}
}

func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:57]) + "…"
	}
	return s
}
