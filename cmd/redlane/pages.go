package main

import (
	"log/slog"
	"net/http"
	"strings"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/web"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// newPages returns the web pages' handler (adapters/web), reading the views vs.
func newPages(svc *service.Service, vs *jsstore.Views, index *query.Index, log *slog.Logger) http.Handler {
	return web.New(web.Config{Service: svc, Views: vs, Index: index, Log: log})
}

// signedIn reports whether a page request carries a valid token: a bearer header or
// the session cookie. A made-up cookie is no sign-in.
func signedIn(svc *service.Service, r *http.Request) bool {
	secret := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, s, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			secret = strings.TrimSpace(s)
		}
	} else if c, err := r.Cookie(web.SessionCookie); err == nil {
		secret = c.Value
	}
	if secret == "" {
		return false
	}
	_, err := svc.Authenticate(secret)
	return err == nil
}
