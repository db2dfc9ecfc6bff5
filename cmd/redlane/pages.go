package main

import (
	"log/slog"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/web"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// newPages returns the web pages (adapters/web), reading the views vs, with their
// sign-ins kept in NATS KV for every process.
func newPages(svc *service.Service, vs *jsstore.Views, index *query.Index, sessions *jsstore.Sessions, secure bool, ttl time.Duration, log *slog.Logger) *web.Pages {
	return web.New(web.Config{Service: svc, Views: vs, Index: index, Sessions: sessions, Secure: secure, SessionTTL: ttl, Log: log})
}
