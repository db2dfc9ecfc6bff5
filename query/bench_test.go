package query_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/query"
)

// busyIndex holds n live orders in one lane (a quarter of each live status, some
// urgent, some past due) and as many closed ones in another, as a district's index would.
func busyIndex(n int) *query.Index {
	x := newIndex()
	for i := range n {
		st := []order.Status{order.StatusOpen, order.StatusDispatched, order.StatusAccepted, order.StatusCompleted}[i%4]
		d := doc("busy", fmt.Sprintf("o-%07d", i), time.Duration(i%5000)*time.Minute, st)
		if i%17 == 0 {
			d.Priority = order.PriorityUrgent
		}
		if st != order.StatusOpen {
			d.Assignee = fmt.Sprintf("m-%03d", i%300)
		}
		x.Put(d)
		x.Put(doc("elsewhere", fmt.Sprintf("c-%07d", i), time.Duration(i%5000)*time.Minute, order.StatusClosed))
	}
	return x
}

var sizes = []int{1_000, 10_000, 100_000}

// BenchmarkBacklogFirstPage is a steward opening the board: the first 50 of a lane's
// live orders, most urgent first, with the lane's exact counts.
func BenchmarkBacklogFirstPage(b *testing.B) {
	for _, n := range sizes {
		x := busyIndex(n)
		b.Run(fmt.Sprintf("orders=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := x.Backlog(query.BacklogQuery{Lane: "busy", Limit: 50, Now: now})
				if err != nil || len(p.Items) != 50 {
					b.Fatal(err, len(p.Items))
				}
			}
		})
	}
}

// BenchmarkBacklogFiltered is the overdue orders of one member, sorted by age.
func BenchmarkBacklogFiltered(b *testing.B) {
	for _, n := range sizes {
		x := busyIndex(n)
		b.Run(fmt.Sprintf("orders=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.Backlog(query.BacklogQuery{Lane: "busy", Assignee: "m-007", Overdue: true, Sort: query.SortAge, Limit: 50, Now: now}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSearch is an operator looking an order up by a word of its title, over the
// lane's live orders and as many closed ones.
func BenchmarkSearch(b *testing.B) {
	for _, n := range sizes {
		x := busyIndex(n)
		b.Run(fmt.Sprintf("orders=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.Search(query.SearchQuery{Text: "o-0000123", Limit: 50, Now: now}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
