package viewtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
)

// MaxDocBytes is the most a view's document may hold, however long the history: the
// view writer stores each document as one KV entry, and readers fetch it whole.
const MaxDocBytes = 64 << 10

// Contract is what every view promises, run by each view's tests:
//   - restore: every document it writes, restored into a fresh view, reads back the
//     same, and a view restored from the documents of the first part of a history and
//     fed the rest ends with the documents of one that folded all of it (a restart from
//     a checkpoint loses and duplicates nothing);
//   - idempotent apply: an event delivered again, at or below what a document has
//     applied, changes no document (redelivery after a crash between the write of the
//     documents and the acknowledgement);
//   - bounded documents: no document grows with the history: a district ten times as
//     busy writes no document larger than MaxDocBytes, and none more than a little
//     larger than the quieter district's largest.
func Contract(t *testing.T, newView func() projections.View) {
	t.Run("restore", func(t *testing.T) {
		h := District(t, 120, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
		whole := newView()
		keys := Apply(t, whole, h)
		half := len(h) / 2
		first := newView()
		firstKeys := Apply(t, first, h[:half])
		restored := newView()
		for _, k := range firstKeys {
			if d := first.Doc(k); d != nil {
				if err := restored.Restore(k, d); err != nil {
					t.Fatalf("Restore(%s, its own Doc): %v", k, err)
				}
			}
		}
		// A document may take in others restored after it (a ranking its members'
		// records): compared once every document is in.
		SameDocs(t, first, restored, firstKeys)
		// A writer restarted from a checkpoint may be handed some of what it applied
		// before (a redelivery): the restored view knows its documents' positions.
		Apply(t, restored, h[half/2:half])
		Apply(t, restored, h[half:])
		SameDocs(t, whole, restored, keys)
	})
	t.Run("idempotent apply", func(t *testing.T) {
		h := District(t, 60, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
		once := newView()
		keys := Apply(t, once, h)
		twice := newView()
		for i, rec := range h {
			ev := Decode(t, rec)
			twice.Apply(rec, ev)
			if i%3 == 0 { // a redelivery of the event just applied
				twice.Apply(rec, ev)
			}
		}
		// And a redelivery of an old event after the history went on.
		for _, rec := range h[:len(h)/4] {
			twice.Apply(rec, Decode(t, rec))
		}
		SameDocs(t, once, twice, keys)
	})
	t.Run("bounded documents", func(t *testing.T) {
		start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		largest := func(orders int) (string, int) {
			v := newView()
			key, size := "", 0
			for _, k := range Apply(t, v, District(t, orders, start)) {
				if n := len(v.Doc(k)); n > size {
					key, size = k, n
				}
			}
			return key, size
		}
		_, quiet := largest(200)
		key, busy := largest(2000)
		if busy > MaxDocBytes {
			t.Fatalf("document %s holds %d bytes, more than %d", key, busy, MaxDocBytes)
		}
		if busy > quiet*3/2+2048 {
			t.Fatalf("documents grow with the history: the largest is %d bytes after 200 orders, %d (%s) after 2,000", quiet, busy, key)
		}
	})
}

// District is a month of a lane's history: the lane, three members, and orders that
// go through every step of their life (dispatched, declined and reassigned, accepted,
// completed, rated, escalated, noted, cancelled, reopened), one every ten minutes from
// start.
func District(tb testing.TB, orders int, start time.Time) []domain.Recorded {
	tb.Helper()
	h := NewHistory(tb)
	h.Lane(start, "rouqiao-houxiang", lane.Registered{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng", Station: "柔桥后巷驿站"})
	members := []string{"m-001", "m-002", "m-003"}
	for i, m := range members {
		h.Member(start, m, member.Registered{Name: []string{"李明", "陈静", "张医生"}[i], Community: "taoyuan", Skills: []string{"repair"}})
	}
	for i := range orders {
		at := start.Add(time.Duration(i) * 10 * time.Minute)
		id := fmt.Sprintf("o-%06d", i)
		m := members[i%len(members)]
		h.Order(at, id, Submitted("rouqiao-houxiang", fmt.Sprintf("20261101-%06d", i), "楼道灯不亮了", at))
		switch i % 7 {
		case 6: // cancelled before anyone took it
			h.Order(at.Add(time.Minute), id, order.Cancelled{Reason: "居民自行解决"})
			continue
		case 5: // declined, then reassigned
			h.Order(at.Add(time.Minute), id, order.Dispatched{Member: m})
			h.Order(at.Add(2*time.Minute), id, order.Declined{Member: m, Reason: "不在社区"})
			m = members[(i+1)%len(members)]
		case 4: // escalated and noted
			h.Order(at.Add(time.Minute), id, order.Escalated{Level: order.LevelCommunity, Reason: "超时未接"})
			h.Order(at.Add(2*time.Minute), id, order.Noted{Text: "社区已跟进", Internal: true})
		}
		h.Order(at.Add(3*time.Minute), id, order.Dispatched{Member: m})
		h.Order(at.Add(4*time.Minute), id, order.Accepted{Member: m, OnTime: i%4 != 0})
		if i%9 == 8 { // still in hand
			continue
		}
		h.Order(at.Add(time.Hour), id, order.Completed{Member: m, Note: "换了感应灯", Minutes: 40, OnTime: i%5 != 0})
		if i%11 == 10 { // reopened: the work did not hold
			h.Order(at.Add(2*time.Hour), id, order.Reopened{Reason: "又坏了", AcceptBy: at.Add(26 * time.Hour), CompleteBy: at.Add(74 * time.Hour)})
			continue
		}
		if i%2 == 0 {
			h.Order(at.Add(3*time.Hour), id, order.Rated{Member: m, Solved: i%10 != 0, Stars: 3 + i%3})
		}
	}
	return h.Recs
}
