// Package open311 serves Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2)
// under /open311/v2/, so that any civic app, hotline vendor's tool or FixMyStreet can
// place and follow requests without learning Redlane's own API.
//
// # Endpoints
//
// Every endpoint answers XML (UTF-8, with an XML declaration) or JSON, as the path's
// suffix says (.xml or .json):
//
//	GET  discovery                  the endpoint, its formats and where to get a key
//	GET  services                   one service per category of the catalogue
//	GET  services/{service_code}    the category's questions (attributes; [] when none)
//	GET  requests                   requests by service_request_id list, or by service_code,
//	                                status and start_date/end_date (90 days at most;
//	                                the last 90 days by default), newest first, 1,000 at most
//	POST requests                   place a request (form-encoded; api_key required)
//	GET  requests/{id}              one request, by its id or its number
//	GET  tokens/{token}             the request a token stands for: the order's number
//	GET  servicerequestupdates      FixMyStreet's extension: one update per public
//	                                transition between start_date and end_date
//
// POST requires api_key, a hotline operator's or a station steward's API token; reads
// need none, and never show a resident's name or phone. Errors are Open311's own shape:
// JSON [{"code":400,"description":"…"}], XML <errors><error><code>…</code><description>…
// </description></error></errors>, never problem+json.
//
// # Extensions
//
// Answers carry fields GeoReport v2 does not name, all prefixed redlane_: redlane_number
// (the order's number, which residents quote), redlane_status (Redlane's own status:
// open, dispatched, accepted, completed, closed, cancelled) and, on POST only,
// redlane_receipt (the resident's receipt: it reads, rates and cancels that one order
// through /api/v1). servicerequestupdates carries FixMyStreet's extended status names in
// external_status_code, and in status itself with extended_statuses=true.
//
// # Reads
//
// A ledger in memory follows the order events of the log (Log): every live request, and
// the others for Keep after their last change. Lists and updates are drawn from it; one
// request is read from the log itself when the ledger does not hold it, so a request
// placed a moment ago, or long ago, is always found by its id (and by its number while
// Config.ByNumber knows it).
package open311

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

// Prefix is where the endpoints are served.
const Prefix = "/open311/v2/"

// Log is the part of the event log the ledger follows. FollowSubjects reads every event
// on subjects matching filters, oldest first, then follows new ones until ctx ends,
// calling caughtUp once everything stored at the start is delivered; Subject names an
// aggregate's subject ("*" as the id matches every one of the type).
type Log interface {
	FollowSubjects(ctx context.Context, filters []string, fn func(domain.Recorded) error, caughtUp func()) error
	Subject(aggType, aggID string) string
}

// Config wires the Open311 endpoint.
type Config struct {
	Service *service.Service
	// Log is followed for the ledger of requests and updates; without it lists and
	// updates stay empty and only single requests are read (tests of the edges).
	Log    Log
	Logger *slog.Logger
	// Jurisdiction, when set, is the only jurisdiction_id accepted (400 otherwise);
	// without it any jurisdiction_id is accepted and ignored.
	Jurisdiction string
	// BaseURL is the endpoint's absolute URL, ending in /open311/v2, as discovery names
	// it; empty derives it from each request's host.
	BaseURL string
	// Contact is discovery's contact line.
	Contact string
	// Keep is how long the ledger keeps a request after its last change once it is no
	// longer live (closed or cancelled); default 92 days.
	Keep time.Duration
	// MaxDistance is how far, in metres, a request's lat and long may be from the lane
	// it goes to (the nearest that carries a point); default 2,000.
	MaxDistance float64
	// CommunityName names a community (agency_responsible): redlane serve calls it by
	// its registered name (塔苑社区); nil calls it by its id (taoyuan社区).
	CommunityName func(id string) string
	// ByNumber, when set, finds an order's id by its number when the ledger does not
	// hold it (an order closed long ago, or left behind in an earlier period by a
	// roll): redlane serve passes the read side's index.
	ByNumber func(number string) (id string, ok bool)
	// Earlier, when set, reads the order events first stored in the periods before the
	// log's, oldest first, leaving out periods that ended before since: the ledger takes
	// from them the requests a period roll left behind (closed or cancelled), so that
	// lists and updates go on showing them for Keep. redlane serve reads the chain of
	// periods on the server.
	Earlier func(ctx context.Context, since time.Time, fn func(domain.Recorded) error) error
	// AllowRead, when set, is asked before every read: false answers 429 with
	// Retry-After (anonymous callers are limited per address).
	AllowRead func(*http.Request) (bool, time.Duration)
}

// Server serves Open311 GeoReport v2. It is safe for concurrent use.
type Server struct {
	cfg     Config
	svc     *service.Service
	log     *slog.Logger
	ledger  *ledger
	started time.Time
	ready   atomic.Bool
	earlier atomic.Bool // the earlier periods are read (see readEarlier)
}

// New returns the Open311 endpoint; Run keeps its ledger.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 92 * 24 * time.Hour
	}
	if cfg.MaxDistance <= 0 {
		cfg.MaxDistance = 2000
	}
	if cfg.CommunityName == nil {
		cfg.CommunityName = communityName
	}
	return &Server{cfg: cfg, svc: cfg.Service, log: cfg.Logger, ledger: newLedger(), started: time.Now().UTC().Truncate(time.Second)}
}

// Run follows the log into the ledger until ctx ends, and prunes what it no longer keeps
// every hour. A broken follow is taken up again; events seen twice are ignored.
func (s *Server) Run(ctx context.Context) error {
	if s.cfg.Log == nil {
		s.ready.Store(true)
		<-ctx.Done()
		return ctx.Err()
	}
	go func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.ledger.prune(s.svc.Now().Add(-s.cfg.Keep))
			}
		}
	}()
	filters := []string{s.cfg.Log.Subject(orderAggregate, "*")}
	for {
		err := s.cfg.Log.FollowSubjects(ctx, filters, func(rec domain.Recorded) error {
			s.ledger.apply(rec, s.log)
			return nil
		}, func() {
			s.readEarlier(ctx)
			s.ledger.prune(s.svc.Now().Add(-s.cfg.Keep))
			s.ready.Store(true)
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("open311: following the log failed; trying again", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// readEarlier files the requests left behind in earlier periods (Config.Earlier), once,
// after the ledger has caught up with the log: those it does not hold and that are over.
// An order still live at a roll was carried into the log the ledger follows.
func (s *Server) readEarlier(ctx context.Context) {
	if s.cfg.Earlier == nil || s.earlier.Load() {
		return
	}
	found := map[string]*request{}
	err := s.cfg.Earlier(ctx, s.svc.Now().Add(-s.cfg.Keep), func(rec domain.Recorded) error {
		if rec.AggregateType != orderAggregate || rec.AggregateID == "" {
			return nil
		}
		ev, err := order.Events.Decode(rec.Envelope)
		if err != nil {
			return nil
		}
		r := found[rec.AggregateID]
		if r == nil {
			r = &request{}
			found[rec.AggregateID] = r
		}
		rec.Seq = 0 // positions of two periods do not compare: the events come in order
		fold(r, rec, ev)
		return nil
	})
	if err != nil {
		s.log.Warn("open311: reading the earlier periods failed: requests left in them are not listed until the ledger follows the log again", "err", err)
		return
	}
	s.earlier.Store(true)
	if n := s.ledger.adopt(found); n > 0 {
		s.log.Info("open311: requests left in earlier periods", "requests", n)
	}
}

// Ready reports an error until the ledger has caught up with the log.
func (s *Server) Ready() error {
	if !s.ready.Load() {
		return errors.New("the Open311 ledger is catching up with the log")
	}
	return nil
}

// Mount serves the endpoint's paths and hands every other request to next: the one
// place the process routes to it.
func (s *Server) Mount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") || strings.HasPrefix(r.URL.Path, Prefix) {
			s.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// format is an answer's format, from the path's suffix.
type format int

const (
	formatXML format = iota
	formatJSON
)

// ServeHTTP serves one Open311 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	rest := strings.TrimPrefix(r.URL.Path, Prefix)
	f, name, ok := splitFormat(rest)
	if !ok {
		s.fail(w, r, formatXML, notFound("no such Open311 resource: "+r.URL.Path+" (paths end in .xml or .json)"))
		return
	}
	route, arg := name, ""
	if i := strings.IndexByte(name, '/'); i >= 0 {
		route, arg = name[:i], name[i+1:]
		if arg == "" || strings.Contains(arg, "/") {
			route = ""
		}
	}
	var get, post func(http.ResponseWriter, *http.Request, format, string)
	switch {
	case route == "discovery" && arg == "":
		get = s.discovery
	case route == "services" && arg == "":
		get = s.services
	case route == "services":
		get = s.serviceDefinition
	case route == "requests" && arg == "":
		get, post = s.listRequests, s.postRequest
	case route == "requests":
		get = s.getRequest
	case route == "tokens" && arg != "":
		get = s.token
	case route == "servicerequestupdates" && arg == "":
		get = s.updates
	}
	switch {
	case get == nil:
		s.fail(w, r, f, notFound("no such Open311 resource: "+r.URL.Path))
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		h.Set("Access-Control-Allow-Origin", "*") // public reads, for city apps in browsers
		if s.cfg.AllowRead != nil {
			if ok, wait := s.cfg.AllowRead(r); !ok {
				h.Set("Retry-After", strconv.Itoa(max(1, int((wait+time.Second-1)/time.Second))))
				s.fail(w, r, f, &apiError{status: http.StatusTooManyRequests, msgs: []string{"too many requests from this address; try again later"}})
				return
			}
		}
		if err := s.checkJurisdiction(r.URL.Query().Get("jurisdiction_id")); err != nil {
			s.fail(w, r, f, err)
			return
		}
		get(w, r, f, arg)
	case r.Method == http.MethodPost && post != nil:
		post(w, r, f, arg)
	default:
		allow := "GET, HEAD"
		if post != nil {
			allow += ", POST"
		}
		h.Set("Allow", allow)
		s.fail(w, r, f, &apiError{status: http.StatusMethodNotAllowed, msgs: []string{r.Method + " is not allowed here; allowed: " + allow}})
	}
}

// splitFormat splits "requests/42.json" into JSON and "requests/42".
func splitFormat(p string) (format, string, bool) {
	switch {
	case strings.HasSuffix(p, ".xml"):
		return formatXML, strings.TrimSuffix(p, ".xml"), true
	case strings.HasSuffix(p, ".json"):
		return formatJSON, strings.TrimSuffix(p, ".json"), true
	}
	return formatXML, "", false
}

// write answers v: as XML, xmlV (the document, with its root element); as JSON, jsonV.
func write(w http.ResponseWriter, status int, f format, xmlV, jsonV any) {
	if f == formatJSON {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(jsonV)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xmlHeader))
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	_ = enc.Encode(xmlV)
	_, _ = w.Write([]byte("\n"))
}

// xmlHeader opens every XML answer.
const xmlHeader = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

// apiError is an Open311 error answer: a status and one description per fault.
type apiError struct {
	status int
	msgs   []string
}

func (e *apiError) Error() string { return strings.Join(e.msgs, "; ") }

func notFound(msg string) *apiError {
	return &apiError{status: http.StatusNotFound, msgs: []string{msg}}
}

// invalid is a 400 naming field.
func invalid(field, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, msgs: []string{field + ": " + msg}}
}

type errorItem struct {
	Code        int    `xml:"code" json:"code"`
	Description string `xml:"description" json:"description"`
}

type errorsDoc struct {
	XMLName xml.Name    `xml:"errors"`
	Errors  []errorItem `xml:"error"`
}

// fail answers err in Open311's shape. Domain refusals keep their kind's status (an
// invalid field 400 naming it as Open311 names it, forbidden 403, not found 404,
// conflict 409); anything else is logged and answered 500 with a plain description.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, f format, err error) {
	var ae *apiError
	var de *domain.Error
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &de) && de.Kind != domain.KindInternal:
		ae = &apiError{status: statusOf(de.Kind)}
		for _, fe := range de.Fields {
			ae.msgs = append(ae.msgs, fieldName(fe.Field)+": "+fe.Message)
		}
		if len(ae.msgs) == 0 {
			ae.msgs = []string{de.Message}
		}
	default:
		s.log.Error("open311 request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{status: http.StatusInternalServerError, msgs: []string{"something went wrong on our side; it has been logged"}}
	}
	doc := errorsDoc{}
	for _, m := range ae.msgs {
		doc.Errors = append(doc.Errors, errorItem{Code: ae.status, Description: m})
	}
	write(w, ae.status, f, doc, doc.Errors)
}

// statusOf maps a domain error kind to its HTTP status.
func statusOf(k domain.Kind) int {
	switch k {
	case domain.KindInvalid:
		return http.StatusBadRequest
	case domain.KindUnauthorized, domain.KindForbidden:
		return http.StatusForbidden // Open311 has no 401: a missing or bad api_key is 403
	case domain.KindNotFound:
		return http.StatusNotFound
	case domain.KindConflict:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// fieldName is the Open311 parameter a field of Redlane's submit command came from.
func fieldName(field string) string {
	switch field {
	case "lane":
		return "address_id"
	case "category":
		return "service_code"
	case "title", "description":
		return "description"
	case "requester.name":
		return "first_name"
	case "requester.phone":
		return "phone"
	}
	if code, ok := strings.CutPrefix(field, "answers."); ok {
		return "attribute[" + code + "]"
	}
	return field
}

// checkJurisdiction refuses a jurisdiction_id other than the configured one; without one
// configured, any is accepted and ignored.
func (s *Server) checkJurisdiction(id string) error {
	if s.cfg.Jurisdiction == "" || id == "" || id == s.cfg.Jurisdiction {
		return nil
	}
	return invalid("jurisdiction_id", "this endpoint serves jurisdiction "+s.cfg.Jurisdiction+" only")
}
