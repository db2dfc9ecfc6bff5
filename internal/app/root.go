package app

import (
	"net/http"
	"strings"
)

// rootHandler serves the API under /api/ with /healthz, /readyz and /metrics, and the
// pages everywhere else when there are any.
func rootHandler(api, pages http.Handler) http.Handler {
	if pages == nil {
		return api
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" || p == "/metrics" {
			api.ServeHTTP(w, r)
			return
		}
		pages.ServeHTTP(w, r)
	})
}
