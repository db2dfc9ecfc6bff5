package main

import (
	"log/slog"
	"net/http"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/service"
)

// newPages returns the web pages' handler; nil until the pages exist.
var newPages = func(svc *service.Service, vs *jsstore.Views, log *slog.Logger) http.Handler { return nil }
