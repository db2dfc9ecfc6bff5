package httpapi

import "net/http"

// auditRoutes are the auditor's routes (audit.go fills them in).
func (a *API) auditRoutes() []Route { return auditRouteList(a) }

// auditRouteList is replaced by audit.go's routes.
var auditRouteList = func(*API) []Route { return nil }

// guard wraps every request before routing: rate limits and security headers live here
// (middleware.go).
var guard = func(a *API, next http.Handler) http.Handler { return next }
