package main

import (
	"log/slog"
	"net/http"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/web"
	"github.com/redlane/redlane/service"
)

// newPages returns the web pages' handler (adapters/web), reading the views vs.
var newPages = func(svc *service.Service, vs *jsstore.Views, log *slog.Logger) http.Handler {
	return web.New(web.Config{Service: svc, Views: vs, Log: log})
}
