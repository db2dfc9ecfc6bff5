package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
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

// registerGroupMetrics exposes group commit's counts: redlane_group_appends_total (single
// events appended), redlane_group_batches_total (atomic batches sent),
// redlane_group_batched_total (events that went in one), redlane_group_alone_total (sent
// alone) and redlane_group_fallbacks_total (appends made again alone after their batch
// was refused).
func registerGroupMetrics(reg prometheus.Registerer, g *jsstore.GroupStore) error {
	for _, c := range []struct {
		name, help string
		val        func(jsstore.GroupStats) int64
	}{
		{"redlane_group_appends_total", "Single-event appends made through group commit.", func(s jsstore.GroupStats) int64 { return s.Appends }},
		{"redlane_group_batches_total", "Atomic batches group commit sent.", func(s jsstore.GroupStats) int64 { return s.Batches }},
		{"redlane_group_batched_total", "Events that went to the server in an atomic batch.", func(s jsstore.GroupStats) int64 { return s.Batched }},
		{"redlane_group_alone_total", "Events group commit sent alone (no one else waiting, or too few).", func(s jsstore.GroupStats) int64 { return s.Alone }},
		{"redlane_group_fallbacks_total", "Appends made again alone after their batch was refused (a conflict in it).", func(s jsstore.GroupStats) int64 { return s.Fallbacks }},
	} {
		val := c.val
		if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return float64(val(g.Stats())) })); err != nil {
			return err
		}
	}
	return nil
}
