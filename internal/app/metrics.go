package app

import (
	"context"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
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

// registerVaultMetrics tells whether the vault's key cache is on and how many reads it
// answered.
func registerVaultMetrics(reg prometheus.Registerer, v *jsvault.Vault) error {
	on := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "redlane_vault_key_cache_on", Help: "1 while residents' keys are kept in memory (their bucket's watch runs); 0 when every key is read from the bucket."},
		func() float64 {
			if v.KeysCached() {
				return 1
			}
			return 0
		})
	hits := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "redlane_vault_key_cache_hits_total", Help: "Reads of residents' and members' keys answered from memory."},
		func() float64 { return float64(v.CachedKeyReads()) })
	for _, c := range []prometheus.Collector{on, hits} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// serveMetrics are serve's own metrics besides the API's and the store's.
type serveMetrics struct {
	commands *prometheus.CounterVec
	took     *prometheus.HistogramVec
	streams  prometheus.Gauge
}

func newServeMetrics(reg *prometheus.Registry, nc *nats.Conn) *serveMetrics {
	m := &serveMetrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redlane_commands_total", Help: "Commands run, by aggregate, command and outcome (ok, invalid, unauthorized, forbidden, not_found, conflict, internal).",
		}, []string{"aggregate", "command", "outcome"}),
		took: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "redlane_command_duration_seconds", Help: "How long a command took, decided and stored, by aggregate and command.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 15),
		}, []string{"aggregate", "command"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "redlane_sse_clients", Help: "Server-Sent Events streams open now (feeds, boards, task lists, station screens).",
		}),
	}
	reg.MustRegister(m.commands, m.took, m.streams, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "redlane_nats_connected", Help: "1 while the connection to NATS is up, else 0.",
	}, func() float64 {
		if nc.IsConnected() {
			return 1
		}
		return 0
	}))
	return m
}

// watchCache exposes the size of the orders' cache.
func (m *serveMetrics) watchCache(reg *prometheus.Registry, svc *service.Service) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "redlane_runner_cache_bytes", Help: "Bytes the orders kept in memory take, as counted (bounded by --cache-mib)."},
			func() float64 { _, b := svc.Orders.CacheStats(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "redlane_runner_cache_orders", Help: "Orders kept in memory."},
			func() float64 { n, _ := svc.Orders.CacheStats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "redlane_runner_cache_bytes_per_order", Help: "Bytes an order kept in memory takes on average, as counted (0 when none is kept)."},
			func() float64 {
				n, b := svc.Orders.CacheStats()
				if n == 0 {
					return 0
				}
				return float64(b) / float64(n)
			}),
	)
}

// command is service.Config.Observe.
func (m *serveMetrics) command(aggregate, command string, took time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = strings.ReplaceAll(domain.KindOf(err).String(), " ", "_")
	}
	m.commands.WithLabelValues(aggregate, command, outcome).Inc()
	m.took.WithLabelValues(aggregate, command).Observe(took.Seconds())
}
