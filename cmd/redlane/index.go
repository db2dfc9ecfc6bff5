package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redlane/redlane/adapters/httpapi"
	"github.com/redlane/redlane/query"
)

// registerIndexMetrics exposes the backlog index's size: redlane_backlog_index_orders
// (kept for the search), redlane_backlog_index_live (on the lanes' lists) and
// redlane_backlog_index_undecodable (documents left out since the last load).
func registerIndexMetrics(reg prometheus.Registerer, idx *query.Index) error {
	for _, g := range []struct {
		name, help string
		val        func(query.Stats) int
	}{
		{"redlane_backlog_index_orders", "Orders the backlog index holds: every live order and those submitted within --search-days.", func(s query.Stats) int { return s.Orders }},
		{"redlane_backlog_index_live", "Live orders on the lanes' lists in the backlog index.", func(s query.Stats) int { return s.Live }},
		{"redlane_backlog_index_undecodable", "Backlog documents the index could not decode and left out, since it last loaded.", func(s query.Stats) int { return s.Undecodable }},
	} {
		val := g.val
		if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.name, Help: g.help},
			func() float64 { return float64(val(idx.Stats())) })); err != nil {
			return err
		}
	}
	return nil
}

// pruneEvery drops, every interval, the orders that have left the search's window.
func pruneEvery(ctx context.Context, idx *query.Index, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			idx.Prune()
		}
	}
}

// feedLimiter is the allowance of anonymous feed reads per address (--feed-rate): nil,
// for no limit, when the rate is not positive.
func feedLimiter(perSecond float64) *httpapi.Limiter {
	if perSecond <= 0 {
		return nil
	}
	return httpapi.NewLimiter(perSecond, max(1, int(perSecond*10)))
}
