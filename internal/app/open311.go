package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/open311"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// startOpen311 returns Open311 GeoReport v2 (adapters/open311), its ledger following the
// log until ctx ends. Its anonymous reads are limited per address as the feed's are
// (--feed-rate), from an allowance of their own. A request the ledger does not hold is
// found by its number through the read side's index.
func startOpen311(ctx context.Context, svc *service.Service, store *jsstore.Store, index *query.Index, log *slog.Logger, jurisdiction string, feedRate float64, proxies []netip.Prefix) *open311.Server {
	cfg := open311.Config{Service: svc, Log: store, Logger: log, Jurisdiction: jurisdiction, CommunityName: communityName(svc), ByNumber: index.ByNumber,
		Earlier: func(ctx context.Context, since time.Time, fn func(domain.Recorded) error) error {
			return earlierOrders(ctx, store, since, fn)
		}}
	if lim := feedLimiter(feedRate); lim != nil {
		cfg.AllowRead = func(r *http.Request) (bool, time.Duration) { return lim.Allow(httpapi.ClientIP(r, proxies)) }
	}
	s := open311.New(cfg)
	go func() { _ = s.Run(ctx) }()
	return s
}

// earlierOrders reads the order events first stored in each period before store's that
// is still on the server and ended at or after since, the earliest first (an archived
// period, and those before it, are passed over: Open311 lists what the server holds).
func earlierOrders(ctx context.Context, store *jsstore.Store, since time.Time, fn func(domain.Recorded) error) error {
	chain, _, err := store.Periods(ctx)
	if err != nil {
		return err
	}
	for i, p := range chain[:len(chain)-1] {
		period, err := store.OpenPeriod(ctx, p.Stream)
		if err != nil {
			return err
		}
		info, err := period.Stream().Info(ctx)
		if err != nil {
			return fmt.Errorf("period stream %s: %w", p.Stream, err)
		}
		if info.State.LastTime.Before(since) {
			continue
		}
		from := uint64(1)
		if i > 0 {
			from = p.CarriedUpto + 1 // before it, copies of the period before
		}
		// Read to the end (a period over takes nothing more), then stop following.
		rctx, stop := context.WithCancel(ctx)
		err = period.FollowSubjects(rctx, []string{period.Subject(order.AggregateType, "*")}, func(rec domain.Recorded) error {
			if rec.Seq < from {
				return nil
			}
			return fn(rec)
		}, stop)
		stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("period stream %s: %w", p.Stream, err)
		}
	}
	return nil
}

// communityName calls a community by the name it was registered with, else by its id
// (taoyuan社区), as the pages and the feed do.
func communityName(svc *service.Service) func(id string) string {
	return func(id string) string {
		if name, ok := svc.Dir.CommunityName(id); ok {
			return name
		}
		return feed.CommunityByID(id)
	}
}
