package record_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/record"
)

// TestBusyMonthIsPaged: a member with more events in a month than a page holds gets a
// record listing the last page and explanation pages for the rest; every document stays
// small, together they explain every point, and a restore in any order gives them back.
func TestBusyMonthIsPaged(t *testing.T) {
	h := newHistory(t)
	h.Member(t0, "m-1", member.Registered{Name: "李明", Community: "taoyuan"})
	const orders = 150 // three events each (claimed, completed, rated): 450 events
	for i := range orders {
		at := t0.Add(time.Duration(i) * time.Minute)
		id := fmt.Sprintf("o-%03d", i)
		h.Order(at, id, submitted("rouqiao-houxiang", id, "换灯", at))
		h.Order(at, id, order.Claimed{Member: "m-1", OnTime: true})
		h.Order(at, id, order.Completed{Member: "m-1", Note: "好", Minutes: 10, OnTime: true})
		h.Order(at, id, order.Rated{Member: "m-1", Solved: true, Stars: 5})
	}
	v := record.New()
	keys := apply(t, v, h.Recs)
	for _, want := range []string{record.ExplainKey("m-1", "2026-11", 0), record.ExplainKey("m-1", "2026-11", 1)} {
		if !bytes.Contains([]byte(fmt.Sprint(keys)), []byte(want)) {
			t.Errorf("Apply never reported %s: %v", want, keys)
		}
	}
	rec := doc[record.Record](t, v, record.RecordKey("m-1", "2026-11"))
	if rec.EventPages != 3 || len(rec.Events) != 450-2*record.PageSize {
		t.Fatalf("record lists %d events on %d pages, want 50 on 3", len(rec.Events), rec.EventPages)
	}
	all := rec.Events
	for p := rec.EventPages - 2; p >= 0; p-- {
		page := doc[record.Explain](t, v, record.ExplainKey("m-1", "2026-11", p))
		if len(page.Events) != record.PageSize {
			t.Fatalf("page %d holds %d events", p, len(page.Events))
		}
		all = append(page.Events, all...)
	}
	points := 0
	for i, e := range all {
		points += e.Points
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Fatalf("events out of order at %d", i)
		}
	}
	// 150 × (10 + 2 + 2×(5−3)) = 2400
	if points != rec.Points || rec.Points != 2400 {
		t.Fatalf("pages explain %d points, record says %d, want 2400", points, rec.Points)
	}
	if v.Doc(record.ExplainKey("m-1", "2026-11", 2)) != nil {
		t.Error("the last page stands as a page of its own as well as in the record")
	}
	for _, k := range keys {
		if d := v.Doc(k); len(d) > 64<<10 {
			t.Errorf("%s is %d bytes", k, len(d))
		}
	}
	// Restore in a random order, then apply one more event to both.
	v2 := record.New()
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for _, k := range keys {
		if d := v.Doc(k); d != nil {
			if err := v2.Restore(k, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	more := h.Order(t0.Add(time.Hour*5), "o-000", order.Noted{Text: "x"})
	next := h.Order(t0.Add(time.Hour*5), "o-999", order.Claimed{Member: "m-1", OnTime: true})
	for _, vv := range []*record.View{v, v2} {
		vv.Apply(more, decode(t, more))
		vv.Apply(next, decode(t, next))
	}
	for _, k := range append(keys, record.RecordKey("m-1", "2026-11")) {
		if !bytes.Equal(v.Doc(k), v2.Doc(k)) {
			t.Fatalf("after a restore %s differs:\n%s\n%s", k, v.Doc(k), v2.Doc(k))
		}
	}
}
