package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/open311"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// startOpen311 returns Open311 GeoReport v2 (adapters/open311), its ledger following the
// log until ctx ends. Its anonymous reads are limited per address as the feed's are
// (--feed-rate), from an allowance of their own. A request the ledger does not hold is
// found by its number through the read side's index.
func startOpen311(ctx context.Context, svc *service.Service, store *jsstore.Store, index *query.Index, log *slog.Logger, jurisdiction string, feedRate float64, proxies []netip.Prefix) *open311.Server {
	cfg := open311.Config{Service: svc, Log: store, Logger: log, Jurisdiction: jurisdiction, CommunityName: communityName(svc), ByNumber: index.ByNumber}
	if lim := feedLimiter(feedRate); lim != nil {
		cfg.AllowRead = func(r *http.Request) (bool, time.Duration) { return lim.Allow(httpapi.ClientIP(r, proxies)) }
	}
	s := open311.New(cfg)
	go func() { _ = s.Run(ctx) }()
	return s
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
