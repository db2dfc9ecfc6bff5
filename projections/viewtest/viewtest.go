// Package viewtest holds what every view's tests share: the fuzz target for Restore,
// which stored view records must survive whatever a damaged or hostile bucket holds.
package viewtest

import (
	"bytes"
	"testing"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/projections"
)

// FuzzRestore feeds a view's Restore arbitrary bytes under arbitrary keys. Restore may
// refuse them but must not panic; what it accepts, Doc writes back in a form Restore
// reads to the same document; and the view goes on applying events afterwards without
// panicking. Before fuzzing it checks that every document of history, restored into a
// fresh view, reads back byte for byte, and seeds the corpus with those documents (more
// seeds, hostile ones, are in the package's testdata/fuzz/FuzzRestore).
func FuzzRestore(f *testing.F, newView func() projections.View, history []domain.Recorded) {
	f.Helper()
	decode := func(rec domain.Recorded) domain.Event {
		ev, err := projections.Events.Decode(rec.Envelope)
		if err != nil {
			f.Fatal(err)
		}
		return ev
	}
	orig := newView()
	docs := map[string][]byte{}
	for _, rec := range history {
		for _, k := range orig.Apply(rec, decode(rec)) {
			docs[k] = nil
		}
	}
	restored := newView()
	for k := range docs {
		if docs[k] = orig.Doc(k); docs[k] == nil {
			delete(docs, k)
			continue
		}
		if err := restored.Restore(k, docs[k]); err != nil {
			f.Fatalf("Restore(%s, its own Doc): %v", k, err)
		}
	}
	for k, d := range docs {
		if got := restored.Doc(k); !bytes.Equal(got, d) {
			f.Fatalf("Doc(%s) after Restore:\n%s\nwant\n%s", k, got, d)
		}
		f.Add(k, d)
	}

	// The events a restored view goes on to apply: the history's second half.
	tail := history[len(history)/2:]
	events := make([]domain.Event, len(tail))
	for i, rec := range tail {
		events[i] = decode(rec)
	}

	f.Fuzz(func(t *testing.T, key string, doc []byte) {
		v := newView()
		if err := v.Restore(key, doc); err != nil {
			return
		}
		if d1 := v.Doc(key); d1 != nil {
			again := newView()
			if err := again.Restore(key, d1); err != nil {
				t.Fatalf("Restore(%q, %q) took it, but refuses its Doc %s: %v", key, doc, d1, err)
			}
			if d2 := again.Doc(key); !bytes.Equal(d1, d2) {
				t.Fatalf("Restore(%q, %q): Doc %s, restored again %s", key, doc, d1, d2)
			}
		}
		for i, rec := range tail {
			for _, k := range v.Apply(rec, events[i]) {
				v.Doc(k)
			}
		}
		v.Doc(key)
	})
}
