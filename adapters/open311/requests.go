package open311

import (
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// Bounds of the requests list and of one POST.
const (
	// MaxRequests is the most requests one GET requests answers.
	MaxRequests = 1000
	// MaxSpan is the most start_date and end_date may be apart.
	MaxSpan = 90 * 24 * time.Hour
	// maxIDs is the most service_request_id one GET requests may list.
	maxIDs = 200
	// maxBody is the most a POST's form may hold (files are not kept).
	maxBody = 64 << 10
)

// requestDoc is one request as every GET shows it. It never holds the requester.
type requestDoc struct {
	ID                string   `xml:"service_request_id" json:"service_request_id"`
	Status            string   `xml:"status" json:"status"`
	StatusNotes       string   `xml:"status_notes" json:"status_notes"`
	ServiceName       string   `xml:"service_name" json:"service_name"`
	ServiceCode       string   `xml:"service_code" json:"service_code"`
	Description       string   `xml:"description" json:"description"`
	AgencyResponsible string   `xml:"agency_responsible" json:"agency_responsible"`
	ServiceNotice     string   `xml:"service_notice" json:"service_notice"`
	RequestedDatetime string   `xml:"requested_datetime" json:"requested_datetime"`
	UpdatedDatetime   string   `xml:"updated_datetime" json:"updated_datetime"`
	ExpectedDatetime  string   `xml:"expected_datetime" json:"expected_datetime"`
	Address           string   `xml:"address" json:"address"`
	AddressID         string   `xml:"address_id" json:"address_id"`
	Lat               *float64 `xml:"lat,omitempty" json:"lat,omitempty"`
	Long              *float64 `xml:"long,omitempty" json:"long,omitempty"`
	Number            string   `xml:"redlane_number" json:"redlane_number"`
	RedlaneStatus     string   `xml:"redlane_status" json:"redlane_status"`
}

type requestsDoc struct {
	XMLName  xml.Name     `xml:"service_requests"`
	Requests []requestDoc `xml:"request"`
}

// datetime shows a moment as W3C datetime in Asia/Shanghai, with its offset.
func datetime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(projections.Shanghai).Format("2006-01-02T15:04:05-07:00")
}

// notice says, in Chinese, by when the request is to be done.
func notice(completeBy time.Time) string {
	return "预计" + completeBy.In(projections.Shanghai).Format("2006年1月2日 15:04") + "（北京时间）前办结"
}

// communityName calls a community by its id, as the linkage feed does.
func communityName(id string) string {
	if id == "" || strings.HasSuffix(id, "社区") {
		return id
	}
	return id + "社区"
}

// show makes the public document of a request.
func (s *Server) show(r request) requestDoc {
	name := r.Category
	if c, ok := s.svc.Catalog().Lookup(r.Category); ok {
		name = c.Name
	}
	address := r.Lane
	var lat, long *float64
	if l, ok := s.svc.Dir.Lane(r.Lane); ok {
		address = cmp.Or(l.Address, l.Name, r.Lane)
		if l.Point != nil {
			lat, long = &l.Point.Lat, &l.Point.Long
		}
	}
	desc := r.Description
	if t := strings.TrimSuffix(r.Title, "…"); !strings.HasPrefix(desc, t) {
		desc = strings.TrimSuffix(r.Title+"\n"+desc, "\n")
	}
	return requestDoc{
		ID: r.ID, Status: open311Status(r.Status), StatusNotes: r.Note, ServiceName: name, ServiceCode: r.Category,
		Description: desc, AgencyResponsible: s.cfg.CommunityName(r.Community), ServiceNotice: notice(r.CompleteBy),
		RequestedDatetime: datetime(r.Requested), UpdatedDatetime: datetime(r.Updated), ExpectedDatetime: datetime(r.CompleteBy),
		Address: address, AddressID: r.Lane, Lat: lat, Long: long, Number: r.Number, RedlaneStatus: string(r.Status),
	}
}

// find returns the request with this id or number: from the ledger, or else, by id
// (or by the id Config.ByNumber gives a number), from the log.
func (s *Server) find(ctx context.Context, key string) (request, bool, error) {
	if r, ok := s.ledger.get(key); ok {
		return r, true, nil
	}
	if s.cfg.ByNumber != nil && len(key) <= 64 {
		if id, ok := s.cfg.ByNumber(strings.ToUpper(key)); ok {
			key = id
		}
	}
	if !domain.ValidID(key) || len(key) > 64 {
		return request{}, false, nil
	}
	recs, err := s.svc.History(ctx, key)
	if err != nil {
		return request{}, false, err
	}
	r, ok := foldAll(recs)
	return r, ok, nil
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request, f format, id string) {
	req, ok, err := s.find(r.Context(), id)
	if err == nil && !ok {
		err = notFound("service_request_id: no such request: " + id)
	}
	if err != nil {
		s.fail(w, r, f, err)
		return
	}
	doc := requestsDoc{Requests: []requestDoc{s.show(req)}}
	write(w, http.StatusOK, f, doc, doc.Requests)
}

type tokenDoc struct {
	ID    string `xml:"service_request_id" json:"service_request_id"`
	Token string `xml:"token" json:"token"`
}

type tokensDoc struct {
	XMLName  xml.Name   `xml:"service_requests"`
	Requests []tokenDoc `xml:"request"`
}

// token answers which request a token stands for. Redlane places every request at once
// and answers POST with its id, never a token; the token a client may hold is the
// order's number, which residents quote.
func (s *Server) token(w http.ResponseWriter, r *http.Request, f format, token string) {
	req, ok, err := s.find(r.Context(), token)
	if err == nil && !ok {
		err = notFound("token: no such token: " + token)
	}
	if err != nil {
		s.fail(w, r, f, err)
		return
	}
	doc := tokensDoc{Requests: []tokenDoc{{ID: req.ID, Token: token}}}
	write(w, http.StatusOK, f, doc, doc.Requests)
}

// unready answers 503 while the ledger catches up.
func (s *Server) unready(w http.ResponseWriter, r *http.Request, f format) bool {
	if err := s.Ready(); err != nil {
		w.Header().Set("Retry-After", "5")
		s.fail(w, r, f, &apiError{status: http.StatusServiceUnavailable, msgs: []string{err.Error()}})
		return true
	}
	return false
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, f format, _ string) {
	q := r.URL.Query()
	doc := requestsDoc{Requests: []requestDoc{}}
	if ids := splitList(q.Get("service_request_id")); len(ids) > 0 {
		// A list of ids overrides every other parameter (GeoReport v2).
		if len(ids) > maxIDs {
			s.fail(w, r, f, invalid("service_request_id", "lists at most 200 requests"))
			return
		}
		for _, id := range ids {
			req, ok, err := s.find(r.Context(), id)
			if err != nil {
				s.fail(w, r, f, err)
				return
			}
			if ok {
				doc.Requests = append(doc.Requests, s.show(req))
			}
		}
		write(w, http.StatusOK, f, doc, doc.Requests)
		return
	}
	lq, err := parseListQuery(q, s.svc.Now(), func(code string) bool {
		c, ok := s.svc.Catalog().Lookup(code)
		return ok && c.Code == code
	})
	if err != nil {
		s.fail(w, r, f, err)
		return
	}
	if s.unready(w, r, f) {
		return
	}
	for _, req := range s.ledger.list(lq) {
		doc.Requests = append(doc.Requests, s.show(req))
	}
	write(w, http.StatusOK, f, doc, doc.Requests)
}

// parseListQuery reads GET requests' parameters: service_code and status (each a comma
// list), start_date and end_date; known says which service codes exist. An error names
// every field at fault.
func parseListQuery(q url.Values, now time.Time, known func(string) bool) (listQuery, error) {
	lq := listQuery{Limit: MaxRequests}
	var v domain.Validator
	lq.Codes = splitList(q.Get("service_code"))
	for _, c := range lq.Codes {
		v.Check(known(c), "service_code", "no such service: "+c)
	}
	statuses := splitList(q.Get("status"))
	lq.Open, lq.Closed = len(statuses) == 0, len(statuses) == 0
	for _, st := range statuses {
		switch st {
		case "open":
			lq.Open = true
		case "closed":
			lq.Closed = true
		default:
			v.Check(false, "status", "must be open or closed, or both comma-separated")
		}
	}
	from, to, err := parseWindow(q, now, MaxSpan)
	if err != nil {
		v.Check(false, err.field, err.msg)
	}
	lq.From, lq.To = from, to
	return lq, v.Err()
}

type fieldError struct{ field, msg string }

// parseWindow reads start_date and end_date: at most MaxSpan apart. Without either, the
// window is the span before now; with one, the span after start or before end.
func parseWindow(q url.Values, now time.Time, span time.Duration) (time.Time, time.Time, *fieldError) {
	var times [2]time.Time
	for i, name := range []string{"start_date", "end_date"} {
		s := strings.TrimSpace(q.Get(name))
		if s == "" {
			continue
		}
		t, err := parseDate(s)
		if err != nil {
			return time.Time{}, time.Time{}, &fieldError{name, "must be a W3C datetime, such as 2026-11-30T10:00:00+08:00, or a date (Asia/Shanghai)"}
		}
		times[i] = t.UTC()
	}
	from, to := times[0], times[1]
	switch {
	case from.IsZero() && to.IsZero():
		to = now
		from = now.Add(-span)
	case from.IsZero():
		from = to.Add(-span)
	case to.IsZero():
		to = from.Add(span)
	}
	if to.Before(from) {
		return from, to, &fieldError{"end_date", "must not be before start_date"}
	}
	if to.Sub(from) > MaxSpan {
		return from, to, &fieldError{"end_date", "must be at most 90 days after start_date"}
	}
	return from, to, nil
}

// parseDate reads a W3C datetime (RFC 3339, seconds optional) or a date in Asia/Shanghai.
func parseDate(s string) (time.Time, error) {
	if t, err := query.ParseTime(s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, projections.Shanghai); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a datetime")
}

// createdDoc is POST requests' answer: the new request's id (never a token) and notice,
// and Redlane's extensions: the order's number and the resident's receipt.
type createdDoc struct {
	ID        string  `xml:"service_request_id" json:"service_request_id"`
	Notice    string  `xml:"service_notice" json:"service_notice"`
	AccountID *string `xml:"account_id" json:"account_id"`
	Number    string  `xml:"redlane_number" json:"redlane_number"`
	Receipt   string  `xml:"redlane_receipt" json:"redlane_receipt"`
}

type createdListDoc struct {
	XMLName  xml.Name     `xml:"service_requests"`
	Requests []createdDoc `xml:"request"`
}

func (s *Server) postRequest(w http.ResponseWriter, r *http.Request, f format, _ string) {
	form, err := readForm(w, r)
	if err == nil {
		err = s.checkJurisdiction(first(form, r.URL.Query(), "jurisdiction_id"))
	}
	var actor domain.Actor
	if err == nil {
		actor, err = s.authenticate(first(form, r.URL.Query(), "api_key"))
	}
	var sub submission
	if err == nil {
		sub, err = parseSubmission(form)
	}
	var cat order.Category
	if err == nil {
		var ok bool
		if cat, ok = s.svc.Catalog().Lookup(sub.ServiceCode); !ok {
			err = invalid("service_code", "no such service: "+sub.ServiceCode)
		}
	}
	var l lane.State
	var where string
	if err == nil {
		l, where, err = s.place(sub)
	}
	if err != nil {
		s.fail(w, r, f, err)
		return
	}
	desc := sub.Description
	if where != "" {
		desc = strings.TrimSpace(desc + "\n\n地址：" + where)
	}
	if sub.MediaURL != "" {
		desc = strings.TrimSpace(desc + "\n\n图片：" + sub.MediaURL)
	}
	corr := r.Header.Get("X-Correlation-ID")
	if len(corr) > 64 || !domain.ValidID(corr) {
		corr = ""
	}
	snap, _, err := s.svc.Submit(r.Context(), s.svc.Meta(actor, corr), service.SubmitRequest{
		LaneID: l.ID,
		Submit: order.Submit{
			Category: cat.Code, Title: titleOf(sub.Description, cat.Name), Description: desc,
			Requester: order.Requester{Name: requesterName(sub.FirstName, sub.LastName), Phone: sub.Phone},
			Mode:      order.ModeInstant, Channel: order.ChannelOpen311, Priority: order.PriorityNormal,
			Answers: sub.Attributes,
		},
	})
	if err != nil {
		s.fail(w, r, f, err)
		return
	}
	st := snap.State
	// Lists show the new request at once, not only once the ledger's follower has it.
	if recs, err := s.svc.History(r.Context(), st.ID); err == nil {
		if req, ok := foldAll(recs); ok {
			s.ledger.put(req)
		}
	}
	w.Header().Set("Location", Prefix+"requests/"+st.ID+map[format]string{formatXML: ".xml", formatJSON: ".json"}[f])
	doc := createdListDoc{Requests: []createdDoc{{ID: st.ID, Notice: notice(st.CompleteBy), Number: st.Number, Receipt: s.svc.Receipt(st.ID)}}}
	write(w, http.StatusCreated, f, doc, doc.Requests)
}

// first returns a parameter from the form, or else from the query string.
func first(form, q url.Values, name string) string {
	if v := form.Get(name); v != "" {
		return v
	}
	return q.Get(name)
}

// readForm reads a POST's form: URL-encoded, or multipart (whose files are ignored).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mt {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxBody)
		if r.MultipartForm != nil {
			defer func() { _ = r.MultipartForm.RemoveAll() }()
		}
	default:
		return nil, &apiError{status: http.StatusBadRequest, msgs: []string{"Content-Type: must be application/x-www-form-urlencoded or multipart/form-data"}}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, msgs: []string{"the form is over 64 KiB"}}
	}
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, msgs: []string{"the form cannot be read: " + err.Error()}}
	}
	return r.PostForm, nil
}

// authenticate checks api_key: a hotline operator's or a station steward's token.
func (s *Server) authenticate(key string) (domain.Actor, error) {
	if key == "" {
		return domain.Actor{}, &apiError{status: http.StatusForbidden, msgs: []string{"api_key: is required to place a request"}}
	}
	a, err := s.svc.Authenticate(key)
	if err != nil {
		return domain.Actor{}, &apiError{status: http.StatusForbidden, msgs: []string{"api_key: is not valid"}}
	}
	if a.Role != domain.RoleOperator && a.Role != domain.RoleSteward {
		return domain.Actor{}, &apiError{status: http.StatusForbidden, msgs: []string{"api_key: only a hotline operator's or a station steward's key places requests"}}
	}
	return a, nil
}

// place finds the lane a request is for: address_id names it by id, address_string by
// its name or its station's (or holds that name, as in 柔桥后巷3号楼, and is then kept
// in the description), and lat and long by the nearest lane that carries a point,
// within MaxDistance.
func (s *Server) place(sub submission) (lane.State, string, error) {
	if sub.AddressID != "" {
		l, ok := s.svc.Dir.Lane(sub.AddressID)
		if !ok {
			return lane.State{}, "", invalid("address_id", "no such lane: "+sub.AddressID)
		}
		where := sub.AddressString
		if where == l.Name || where == l.Station {
			where = ""
		}
		return l, where, nil
	}
	if sub.AddressString != "" {
		var best lane.State
		size := 0
		for _, l := range s.svc.Dir.Lanes() {
			if sub.AddressString == l.ID || sub.AddressString == l.Name || sub.AddressString == l.Station {
				return l, "", nil
			}
			for _, n := range []string{l.Name, l.Station} {
				if n != "" && len(n) > size && strings.Contains(sub.AddressString, n) {
					best, size = l, len(n)
				}
			}
		}
		if size > 0 {
			return best, sub.AddressString, nil
		}
		return lane.State{}, "", invalid("address_string", "names no lane of this district: give a lane's name, such as 柔桥后巷")
	}
	if sub.Lat != nil {
		return s.nearest(*sub.Lat, *sub.Long)
	}
	return lane.State{}, "", invalid("address_id", "a location is required: address_id (a lane's id), address_string (a lane's name) or lat and long")
}

// nearest finds the lane whose point is nearest to lat, long, within MaxDistance; the
// point is kept in the description.
func (s *Server) nearest(lat, long float64) (lane.State, string, error) {
	var best lane.State
	dist, found := math.Inf(1), false
	for _, l := range s.svc.Dir.Lanes() {
		if l.Point == nil {
			continue
		}
		found = true
		if d := distance(lat, long, l.Point.Lat, l.Point.Long); d < dist {
			best, dist = l, d
		}
	}
	switch {
	case !found:
		return lane.State{}, "", invalid("lat", "no lane here carries coordinates to match: give address_id (a lane's id) or address_string (a lane's name)")
	case dist > s.cfg.MaxDistance:
		return lane.State{}, "", invalid("lat", fmt.Sprintf("no lane within %.0f m of this point: give address_id (a lane's id) or address_string (a lane's name)", s.cfg.MaxDistance))
	}
	return best, fmt.Sprintf("%.6f, %.6f", lat, long), nil
}

// distance is how far apart two points on the globe are, in metres (haversine).
func distance(lat1, long1, lat2, long2 float64) float64 {
	const earth = 6371e3
	rad := math.Pi / 180
	dLat, dLong := (lat2-lat1)*rad, (long2-long1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLong/2)*math.Sin(dLong/2)
	return 2 * earth * math.Asin(math.Min(1, math.Sqrt(a)))
}
