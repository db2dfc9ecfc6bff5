package record_test

import (
	"bytes"
	"testing"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/projections/record"
)

// FuzzRestore feeds Restore arbitrary bytes under arbitrary keys, as a damaged or
// hostile bucket would. Restore may refuse them, but must not panic; what it accepts,
// Doc writes back in a form that Restore reads to the same document; and the view goes
// on applying events afterwards without panicking. Before fuzzing it checks that every
// document of a short history, restored into a fresh view, reads back byte for byte.
func FuzzRestore(f *testing.F) {
	recs := synth(f, 3, 6, 24)
	orig := record.New()
	docs := map[string][]byte{}
	for _, rec := range recs {
		for _, k := range orig.Apply(rec, decode(f, rec)) {
			docs[k] = nil
		}
	}
	restored := record.New()
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
	// More seeds, hostile ones, are in testdata/fuzz/FuzzRestore.

	// The events a restored view goes on to apply: the history's second half.
	tail := recs[len(recs)/2:]
	events := make([]domain.Event, len(tail))
	for i, rec := range tail {
		events[i] = decode(f, rec)
	}

	f.Fuzz(func(t *testing.T, key string, doc []byte) {
		v := record.New()
		if err := v.Restore(key, doc); err != nil {
			return
		}
		if d1 := v.Doc(key); d1 != nil {
			again := record.New()
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
