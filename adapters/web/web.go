// Package web serves Redlane's pages (zh-CN): the steward's board, the member's task
// list, the resident's intake form and receipt, a station terminal's live feed and the
// auditor's history of an order. It renders html/template pages from embedded files,
// needs nothing from the network, and acts through the service layer server-side.
//
// # Addresses
//
//	/                      sign-in, or the signed-in role's home
//	/board                 steward: the live backlog of their lanes, rates, dispatch
//	/board/orders/{id}     steward: one order and every steward action on it
//	/tasks                 member: orders dispatched to them or accepted, and open ones to claim
//	/intake                resident (no sign-in): place a request
//	/receipt/{id}?r=R      resident: status, timeline, rating, cancel
//	/receipt/{id}/slip?r=R the printable receipt slip: number, code in fours, QR code
//	/receipt               a resident finds a receipt again by number and phone
//	/screen/{lane}         station terminal (no sign-in): the live linkage feed
//	/audit/orders/{id}     auditor, lane steward: the order's events
//	/admin                 admin: streets, communities, lanes, members, teams, accounts, tokens (admin.go)
//
// # Sign-in and CSRF
//
// POST /signin with a token sets the cookie redlane_session to the token (HttpOnly,
// SameSite=Strict, Path=/, Secure when configured); every request checks it again with
// the service, so a revoked token stops working at once. A signed-in POST must carry the
// session's CSRF token, an HMAC of the session secret, in the form field csrf or the
// header X-CSRF-Token; cross-origin POSTs are refused outright (Sec-Fetch-Site, Origin).
// A request with Authorization: Bearer TOKEN is authenticated by it instead and needs no
// CSRF token, for kiosks and scripts.
//
// # Live pages
//
// The board and the task list follow the linkage feed of their lanes as Server-Sent
// Events (/board/events, /tasks/events): an event "changed" tells the page to fetch its
// fragment again, sent once the backlog view has applied the event. The terminal's
// stream (/screen/{lane}/events) sends each entry as an HTML list item, id its sequence.
package web

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// Reader reads the projections as their writer stored them. It is the part of the
// JetStream views the pages use; implementations are safe for concurrent use.
type Reader interface {
	// Get returns the JSON document under key in a view, or nil when there is none.
	Get(ctx context.Context, view, key string) ([]byte, error)
	// Feed returns linkage feed entries matching q, oldest first.
	Feed(ctx context.Context, q feed.Query) ([]feed.Entry, error)
	// FollowFeed calls fn with each new entry matching q (from q.After when set) until
	// ctx ends or fn returns an error.
	FollowFeed(ctx context.Context, q feed.Query, fn func(feed.Entry) error) error
}

// Config wires the pages.
type Config struct {
	Service *service.Service
	Views   Reader
	// Index pages the backlogs (package query), fed from the backlog view.
	Index *query.Index
	Log   *slog.Logger
	// Secure marks the session cookie Secure: set it when the pages are served over HTTPS.
	Secure bool
	// Sessions keeps the sign-ins (required; memstore.Sessions keeps them in memory).
	Sessions SessionStore
	// SessionTTL is how long a sign-in lasts (default 12 hours); the store's own
	// lifetime should be the same.
	SessionTTL time.Duration
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// handler serves the pages.
type handler struct {
	svc      *service.Service
	views    Reader
	index    *query.Index
	sessions SessionStore
	ttl      time.Duration // of a session
	log      *slog.Logger
	secure   bool
	pages    map[string]*template.Template
	mux      *http.ServeMux
	cop      *http.CrossOriginProtection
}

// Pages serves the web pages.
type Pages struct{ h *handler }

// ServeHTTP serves a page.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.h.ServeHTTP(w, r) }

// SignedIn reports whether a request comes from someone signed in: a valid bearer token
// or a live session.
func (p *Pages) SignedIn(r *http.Request) bool { return p.h.SignedIn(r) }

// New returns the pages' handler. It panics if the embedded templates do not parse,
// which a test catches.
func New(cfg Config) *Pages {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Sessions == nil {
		panic("web: Config.Sessions is required")
	}
	h := &handler{svc: cfg.Service, views: cfg.Views, index: cfg.Index, sessions: cfg.Sessions, ttl: cfg.SessionTTL, log: cfg.Log, secure: cfg.Secure,
		pages: parsePages(), mux: http.NewServeMux(), cop: http.NewCrossOriginProtection()}
	h.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, nil, problem{Status: http.StatusForbidden, Title: "请求被拒绝", Lines: []string{"跨站提交的表单不被接受。"}})
	}))
	h.routes()
	return &Pages{h: h}
}

func (h *handler) routes() {
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	h.mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			h.fail(w, r, nil, problem{Status: http.StatusNotFound, Title: "找不到这个页面"})
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	}))
	h.mux.HandleFunc("GET /{$}", h.home)
	h.mux.HandleFunc("POST /signin", h.signIn)
	h.mux.HandleFunc("POST /signout", h.signOut)

	h.mux.HandleFunc("GET /board", h.board)
	h.mux.HandleFunc("GET /board/backlog", h.boardFragment)
	h.mux.HandleFunc("GET /board/events", h.boardEvents)
	h.mux.HandleFunc("GET /board/orders/{id}", h.stewardOrder)
	h.mux.HandleFunc("POST /board/orders/{id}/{action}", h.stewardAct)

	h.mux.HandleFunc("GET /escalations", h.officeBoard)
	h.mux.HandleFunc("GET /escalations/list", h.officeBoardFragment)
	h.mux.HandleFunc("GET /escalations/events", h.officeBoardEvents)
	h.mux.HandleFunc("GET /escalations/orders/{id}", h.officeOrder)
	h.mux.HandleFunc("POST /escalations/orders/{id}/{action}", h.officeAct)

	h.mux.HandleFunc("GET /tasks", h.tasks)
	h.mux.HandleFunc("GET /tasks/list", h.tasksFragment)
	h.mux.HandleFunc("GET /tasks/events", h.tasksEvents)
	h.mux.HandleFunc("POST /tasks/orders/{id}/{action}", h.memberAct)

	h.mux.HandleFunc("GET /intake", h.intakeForm)
	h.mux.HandleFunc("POST /intake", h.intakeSubmit)
	h.mux.HandleFunc("GET /receipt/{id}", h.receipt)
	h.mux.HandleFunc("GET /receipt/{id}/slip", h.slip)
	h.mux.HandleFunc("GET /receipt", h.findForm)
	h.mux.HandleFunc("POST /receipt", h.find)
	h.mux.HandleFunc("POST /receipt/{id}/{action}", h.receiptAct)

	h.mux.HandleFunc("GET /screen/{lane}", h.screen)
	h.mux.HandleFunc("GET /screen/{lane}/events", h.screenEvents)

	h.mux.HandleFunc("GET /audit", h.auditLookup)
	h.mux.HandleFunc("GET /audit/orders/{id}", h.audit)

	h.adminRoutes()

	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, nil, problem{Status: http.StatusNotFound, Title: "找不到这个页面"})
	})
}

// ServeHTTP serves a page with the pages' security headers.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	h.cop.Handler(h.mux).ServeHTTP(w, r)
}

// meta is the metadata of a command a page issues for actor.
func (h *handler) meta(actor domain.Actor) domain.Meta { return h.svc.Meta(actor, "") }
