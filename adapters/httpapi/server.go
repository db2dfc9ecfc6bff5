// Package httpapi serves Redlane's HTTP API, version 1 (see the README and
// spec/api.md): JSON in and out, problem+json errors, bearer tokens and residents'
// receipts.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// Config wires the API.
type Config struct {
	Service *service.Service
	Log     *slog.Logger
	// Ready reports why the process cannot serve yet, or nil.
	Ready func(context.Context) error
	// Degraded, when set, reports what the process serves despite (events in the log
	// that it set aside, say) as fields of /readyz's answer, or nil when nothing: /readyz
	// then answers 200 with "status":"degraded" and those fields.
	Degraded func() map[string]any
	// Registry collects metrics; /metrics serves what it gathers.
	Registry *prometheus.Registry
	// Views reads the projections; nil serves no projection routes' data.
	Views ViewReader
	// Index pages the backlogs and the order search (package query); the process keeps
	// it fed from the backlog view.
	Index *query.Index
	// IntakeRate and IntakeBurst limit public intake, submits without a token, per
	// client address: IntakeRate a second on average, in bursts of up to IntakeBurst.
	// Zero means the default (DefaultIntakeRate, DefaultIntakeBurst); a negative value
	// turns the limit off (middleware.go).
	IntakeRate  float64
	IntakeBurst int
	// IntakeLimiter, when set, is the limiter public intake takes from instead of one
	// made from IntakeRate and IntakeBurst: the pages' intake form shares it, so that a
	// resident's address has one allowance whichever way it submits.
	IntakeLimiter *Limiter
	// LookupLimiter limits receipt lookups per client address; nil means one every six
	// seconds on average, in bursts of ten.
	LookupLimiter *Limiter
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client, for
	// the rate limits; without them every request is from its TCP peer.
	TrustedProxies []netip.Prefix
	// Sessions keeps sign-ins with a username and password (POST /api/v1/sessions);
	// a session's id is then a bearer token. Nil: no sign-in by password.
	Sessions Sessions
	// SessionTTL is how long a session lasts (what expires_at says); 0: 12 hours.
	SessionTTL time.Duration
	// SignInLimiter limits sign-in attempts per client address; nil means ten at once,
	// then one every six seconds.
	SignInLimiter *Limiter
}

// API is the HTTP API's handler.
type API struct {
	cfg      Config
	svc      *service.Service
	views    ViewReader
	index    *query.Index
	lookups  *Limiter // receipt lookups, per client address
	signIns  *Limiter // sign-in attempts, per client address
	failures *Limiter // failed sign-ins, per username
	log      *slog.Logger
	ready    func(context.Context) error
	degraded func() map[string]any
	mux      *http.ServeMux
	guarded  http.Handler
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New returns the API.
func New(cfg Config) *API {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Ready == nil {
		cfg.Ready = func(context.Context) error { return nil }
	}
	a := &API{cfg: cfg, svc: cfg.Service, views: cfg.Views, index: cfg.Index, log: cfg.Log, ready: cfg.Ready, degraded: cfg.Degraded, mux: http.NewServeMux(), lookups: cfg.LookupLimiter}
	if a.lookups == nil {
		a.lookups = NewLimiter(lookupRate, lookupBurst)
	}
	a.signIns, a.failures = cfg.SignInLimiter, NewLimiter(signInRate, signInBurst)
	if a.signIns == nil {
		a.signIns = NewLimiter(signInRate, signInBurst)
	}
	a.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "redlane_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	a.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "redlane_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"route"})
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(a.requests, a.latency)
		a.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	}
	a.routes()
	a.guarded = a.guard(a.mux)
	return a
}

// Route is one route of the API: its pattern and handler. Routes lists them all, so that
// tests can prove each is covered.
type Route struct {
	Pattern string
	Handler http.HandlerFunc
}

func (a *API) routes() {
	for _, rt := range a.Routes() {
		a.mux.Handle(rt.Pattern, a.instrument(rt.Pattern, rt.Handler))
	}
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := a.allowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeProblem(w, r, a.log, &httpError{status: http.StatusMethodNotAllowed,
				detail: r.Method + " is not allowed here; allowed: " + strings.Join(allow, ", ")})
			return
		}
		writeProblem(w, r, a.log, &httpError{status: http.StatusNotFound, detail: "no such resource: " + r.URL.Path})
	})
}

// allowed lists the methods some route serves at the request's path: what a 405 names.
func (a *API) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "" && pattern != "/" {
			out = append(out, m)
		}
	}
	return out
}

// Routes lists every route the API serves besides /metrics.
func (a *API) Routes() []Route {
	routes := []Route{
		{"GET /healthz", a.healthz},
		{"GET /readyz", a.readyz},
		{"GET /api/v1/openapi.json", a.openAPI},
		{"POST /api/v1/tokens", a.issueToken},
		{"DELETE /api/v1/tokens/{id}", a.revokeToken},
		{"POST /api/v1/accounts", a.createAccount},
		{"GET /api/v1/accounts", a.listAccounts},
		{"PUT /api/v1/accounts/{username}/password", a.setPassword},
		{"DELETE /api/v1/accounts/{username}", a.revokeAccount},
		{"POST /api/v1/sessions", a.startSession},
		{"DELETE /api/v1/sessions/current", a.endSession},
		{"POST /api/v1/streets", a.registerStreet},
		{"GET /api/v1/streets", a.listStreets},
		{"POST /api/v1/communities", a.registerCommunity},
		{"GET /api/v1/communities", a.listCommunities},
		{"POST /api/v1/lanes", a.registerLane},
		{"GET /api/v1/lanes", a.listLanes},
		{"POST /api/v1/members", a.registerMember},
		{"GET /api/v1/members", a.listMembers},
		{"PUT /api/v1/members/{id}", a.updateMember},
		{"GET /api/v1/categories", a.listCategories},
		{"PUT /api/v1/categories/{code}", a.defineCategory},
		{"POST /api/v1/orders", a.submit},
		{"GET /api/v1/orders", a.searchOrders},
		{"POST /api/v1/receipts/lookup", a.lookupReceipt},
		{"GET /api/v1/orders/{id}", a.getOrder},
		{"GET /api/v1/orders/{id}/events", a.orderEvents},
		{"POST /api/v1/orders/{id}/{action}", a.act},
		{"GET /api/v1/lanes/{lane}/backlog", a.laneBacklog},
		{"GET /api/v1/members/{id}/record", a.memberRecord},
		{"GET /api/v1/evaluations", a.evaluations},
		{"GET /api/v1/feed", a.feedList},
		{"GET /api/v1/feed/stream", a.feedStream},
		{"GET /api/v1/reports/monthly", a.monthlyReport},
		{"POST /api/v1/schedules", a.defineSchedule},
		{"GET /api/v1/schedules", a.listSchedules},
		{"DELETE /api/v1/schedules/{id}", a.cancelSchedule},
		{"POST /api/v1/campaigns", a.launchCampaign},
		{"GET /api/v1/campaigns", a.listCampaigns},
		{"DELETE /api/v1/campaigns/{id}", a.endCampaign},
		{"POST /api/v1/privacy/erase", a.erase},
	}
	return append(routes, a.auditRoutes()...)
}

// ServeHTTP serves the API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	a.guarded.ServeHTTP(w, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status    int
	bytes     int64
	streams   prometheus.Gauge // when set, counts the answers that are event streams
	streaming bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
		if s.streams != nil && strings.HasPrefix(s.Header().Get("Content-Type"), "text/event-stream") {
			s.streaming = true
			s.streams.Inc()
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (deadlines for live feeds).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (a *API) instrument(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		a.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		a.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.ready(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
		return
	}
	if a.degraded != nil {
		if d := a.degraded(); d != nil {
			d["status"] = "degraded"
			writeJSON(w, http.StatusOK, d)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// bearer returns the secret of an Authorization: Bearer header, and whether one was sent.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(secret), true
}

// actor authenticates the request's bearer token, an API token or a session's; no token
// is an error.
func (a *API) actor(r *http.Request) (domain.Actor, error) {
	secret, _ := bearer(r)
	actor, err := a.svc.Authenticate(secret)
	if err == nil || a.cfg.Sessions == nil || domain.CodeOf(err) != domain.CodeTokenInvalid {
		return actor, err
	}
	tokenID, ok, lerr := a.cfg.Sessions.Lookup(r.Context(), secret)
	if lerr != nil {
		return domain.Actor{}, lerr
	}
	tokenID, api := strings.CutPrefix(tokenID, service.APISession)
	if !ok || !api {
		return domain.Actor{}, err // a page's cookie is no bearer token
	}
	return a.svc.ActorOfToken(tokenID)
}

// meta is the metadata of a command issued by this request.
func (a *API) meta(r *http.Request, actor domain.Actor) domain.Meta {
	corr := r.Header.Get("X-Correlation-ID")
	if len(corr) > 64 || !domain.ValidID(corr) {
		corr = ""
	}
	return a.svc.Meta(actor, corr)
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, r, a.log, err)
}

// forbidUnless refuses with code and why unless ok.
func forbidUnless(ok bool, code domain.Code, why string) error {
	if ok {
		return nil
	}
	return domain.Refuse(domain.KindForbidden, code, "%s", why)
}
