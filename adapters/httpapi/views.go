package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/projections/record"
	"github.com/redlane/redlane/query"
)

// ViewReader reads the projections as their writer stored them.
type ViewReader interface {
	// Get returns the JSON document under key in a view, or nil.
	Get(ctx context.Context, view, key string) ([]byte, error)
	// Keys lists a view's keys matching a NATS subject filter.
	Keys(ctx context.Context, view, filter string) ([]string, error)
	// Feed returns linkage feed entries matching q.
	Feed(ctx context.Context, q feed.Query) ([]feed.Entry, error)
	// FollowFeed calls fn with new entries matching q until ctx ends or fn fails.
	FollowFeed(ctx context.Context, q feed.Query, fn func(feed.Entry) error) error
}

// The views' names and keys, as their packages document them.
const (
	viewRecords = "records"
	viewReports = "reports"
)

var periodRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// period reads ?period=YYYY-MM, defaulting to this month in Asia/Shanghai.
func (a *API) period(r *http.Request) (string, error) {
	p := r.URL.Query().Get("period")
	if p == "" {
		return projections.Period(a.svc.Now()), nil
	}
	if !periodRE.MatchString(p) {
		return "", domain.Invalid("period", "must be a month such as 2026-11")
	}
	return p, nil
}

func (a *API) readDoc(ctx context.Context, view, key string, dst any) (bool, error) {
	if a.views == nil {
		return false, domain.Errorf(domain.KindInternal, "views are not configured")
	}
	b, err := a.views.Get(ctx, view, key)
	if err != nil || b == nil {
		return false, err
	}
	return true, json.Unmarshal(b, dst)
}

func (a *API) laneBacklog(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	laneID := r.PathValue("lane")
	if err == nil {
		err = forbidUnless(actor.StewardOf(laneID) || actor.Role == domain.RoleAuditor || actor.Role == domain.RoleAdmin,
			domain.CodeReadNotAllowed, "only the lane's stewards, auditors and admins read its backlog")
	}
	l, ok := a.svc.Dir.Lane(laneID)
	if err == nil && !ok {
		err = domain.Refuse(domain.KindNotFound, domain.CodeLaneNotFound, "no such lane")
	}
	var q query.BacklogQuery
	if err == nil {
		q, err = query.ParseBacklogQuery(r.URL.Query(), laneID, a.svc.Now())
	}
	if err == nil && a.index == nil {
		err = domain.Errorf(domain.KindInternal, "the backlog index is not configured")
	}
	var page query.BacklogPage
	if err == nil {
		page, err = a.index.Backlog(q)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	communityName, _ := a.svc.Dir.CommunityName(l.Community)
	streetName, _ := a.svc.Dir.StreetName(l.Street)
	writeJSON(w, http.StatusOK, map[string]any{
		"lane": laneID, "name": l.Name, "community": l.Community, "street": l.Street,
		"community_name": communityName, "street_name": streetName,
		"counts": page.Counts, "items": page.Items, "next_cursor": page.Next,
		"seq": a.index.Seq(), "as_of": page.AsOf, "sort": q.Sort,
		"callback_after_hours": a.index.CallbackAfter().Hours(),
	})
}

// searchOrders answers GET /api/v1/orders: the orders the caller may read, newest first;
// with escalation=community|street, an office's board instead (escalations).
func (a *API) searchOrders(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	if err == nil && r.URL.Query().Has("escalation") {
		a.escalations(w, r, actor)
		return
	}
	if err == nil {
		err = forbidUnless(query.MaySearch(actor), domain.CodeReadNotAllowed,
			"stewards, hotline operators, auditors and admins search orders")
	}
	var q query.SearchQuery
	if err == nil {
		q, err = query.ParseSearchQuery(r.URL.Query(), a.svc.Now())
	}
	if err == nil && a.index == nil {
		err = domain.Errorf(domain.KindInternal, "the backlog index is not configured")
	}
	var page query.SearchPage
	if err == nil {
		q.May = func(p query.Place) bool { return query.MayRead(actor, p, "") }
		page, err = a.index.Search(q)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// boardItem is an order on an office's board, with its places' names.
type boardItem struct {
	query.Item
	LaneName      string `json:"lane_name"`
	CommunityName string `json:"community_name"`
	StreetName    string `json:"street_name"`
}

// escalations answers GET /api/v1/orders?escalation=community|street: the unfinished
// orders escalated to that level, in the caller's communities or streets (query.
// MayListEscalations), most urgent first, paged like the backlog. community= and
// street= narrow it to one place, which must be the caller's.
func (a *API) escalations(w http.ResponseWriter, r *http.Request, actor domain.Actor) {
	q, err := query.ParseEscalationQuery(r.URL.Query(), a.svc.Now())
	if err == nil {
		err = a.holdToArea(actor, &q)
	}
	if err == nil && a.index == nil {
		err = domain.Errorf(domain.KindInternal, "the backlog index is not configured")
	}
	var page query.EscalationPage
	if err == nil {
		page, err = a.index.Escalations(q)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items := make([]boardItem, len(page.Items))
	for i, it := range page.Items {
		items[i] = boardItem{Item: it, CommunityName: it.Community, StreetName: it.Street, LaneName: it.Lane}
		if l, ok := a.svc.Dir.Lane(it.Lane); ok && l.Name != "" {
			items[i].LaneName = l.Name
		}
		if n, ok := a.svc.Dir.CommunityName(it.Community); ok {
			items[i].CommunityName = n
		}
		if n, ok := a.svc.Dir.StreetName(it.Street); ok {
			items[i].StreetName = n
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"escalation": q.Level, "items": items, "next_cursor": page.Next,
		"as_of": page.AsOf, "total": page.Total, "sort": q.Sort, "seq": a.index.Seq()})
}

// holdToArea holds an office's board to its own places: what it asked for, if that is
// its own, else all of its own.
func (a *API) holdToArea(actor domain.Actor, q *query.EscalationQuery) error {
	ok, communities, streets := query.MayListEscalations(actor, q.Level)
	if !ok {
		return domain.Refuse(domain.KindForbidden, domain.CodeReadNotAllowed,
			"community staff list the orders escalated to the community, street staff those escalated to the street")
	}
	hold := func(field string, asked *[]string, own []string) error {
		if own == nil {
			return nil
		}
		if *asked == nil {
			*asked = own
			return nil
		}
		if !slices.Contains(own, (*asked)[0]) {
			return domain.Refuse(domain.KindForbidden, domain.CodeReadNotAllowed, "%s %s is not yours", field, (*asked)[0])
		}
		return nil
	}
	if err := hold("community", &q.Communities, communities); err != nil {
		return err
	}
	if actor.Role == domain.RoleStreet && q.Communities != nil {
		// A street's staff narrow their board to one of their streets' communities.
		if c, ok := a.svc.Dir.Community(q.Communities[0]); !ok || !slices.Contains(streets, c.Street) {
			return domain.Refuse(domain.KindForbidden, domain.CodeReadNotAllowed, "community %s is not in your streets", q.Communities[0])
		}
	}
	return hold("street", &q.Streets, streets)
}

func (a *API) memberRecord(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	id := r.PathValue("id")
	if err == nil {
		err = forbidUnless(actor.Member == id || actor.Role == domain.RoleSteward || actor.Role == domain.RoleAuditor || actor.Role == domain.RoleAdmin,
			domain.CodeReadNotAllowed, "a member reads only their own record")
	}
	var period string
	if err == nil {
		period, err = a.period(r)
	}
	if err == nil {
		if _, ok := a.svc.Dir.Member(id); !ok {
			err = domain.Refuse(domain.KindNotFound, domain.CodeMemberNotFound, "no such member")
		}
	}
	var doc map[string]any
	var found bool
	if err == nil {
		found, err = a.readDoc(r.Context(), viewRecords, "record."+id+"."+period, &doc)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if found {
		err = a.recordEvents(r, id, period, doc)
	} else {
		m, _ := a.svc.Dir.Member(id)
		doc = map[string]any{"member": id, "name": m.Name, "community": m.Community, "period": period,
			"dispatched": 0, "accepted": 0, "declined": 0, "completed": 0, "minutes": 0, "ratings": 0,
			"mean_stars": 0, "on_time_rate": 0, "points": 0, "events": []any{}, "event_pages": 1, "events_page": 0}
		_, err = eventsPage(r, 1)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// recordEvents puts one page of the record's events into doc: a busy month's earlier
// events stand in pages of their own (record.PageSize each), and the record holds the
// last. ?events_page=K (from 0, the earliest) picks one; the default is the last, the
// newest. doc says which page it holds and how many there are.
func (a *API) recordEvents(r *http.Request, id, period string, doc map[string]any) error {
	pages := 1
	if n, ok := doc["event_pages"].(float64); ok && n > 1 {
		pages = int(n)
	}
	page, err := eventsPage(r, pages)
	if err != nil {
		return err
	}
	if page < pages-1 {
		var earlier struct {
			Events []any `json:"events"`
		}
		found, err := a.readDoc(r.Context(), viewRecords, record.ExplainKey(id, period, page), &earlier)
		if err != nil {
			return err
		}
		if !found {
			return domain.Errorf(domain.KindInternal, "record %s %s: page %d of its events is missing", id, period, page)
		}
		doc["events"] = earlier.Events
	}
	doc["event_pages"], doc["events_page"] = pages, page
	return nil
}

// eventsPage reads ?events_page, which of pages it names (default the last).
func eventsPage(r *http.Request, pages int) (int, error) {
	v := r.URL.Query().Get("events_page")
	if v == "" {
		return pages - 1, nil
	}
	page, err := strconv.Atoi(v)
	if err != nil || page < 0 || page >= pages {
		return 0, domain.Invalid("events_page", fmt.Sprintf("must be a page from 0 to %d", pages-1))
	}
	return page, nil
}

func (a *API) evaluations(w http.ResponseWriter, r *http.Request) {
	_, err := a.actor(r)
	q := r.URL.Query()
	community, team := q.Get("community"), q.Get("team")
	var period string
	if err == nil {
		period, err = a.period(r)
	}
	if err == nil && community == "" && team == "" {
		err = domain.Invalid("community", "give a community, or a team")
	}
	if err == nil && community != "" && !domain.ValidID(community) {
		err = domain.Invalid("community", domain.IDRule)
	}
	minSample := 0
	if err == nil && q.Get("min_sample") != "" {
		minSample, err = strconv.Atoi(q.Get("min_sample"))
		if err != nil || minSample < 0 {
			err = domain.Invalid("min_sample", "must be a whole number")
		}
	}
	var keys []string
	if err == nil {
		if community != "" {
			keys = []string{"ranking." + community + "." + period}
		} else {
			keys, err = a.views.Keys(r.Context(), viewRecords, "ranking.*."+period)
		}
	}
	type rankItem struct {
		Member    string   `json:"member"`
		Name      string   `json:"name"`
		Teams     []string `json:"teams"`
		Points    int      `json:"points"`
		Completed int      `json:"completed"`
		Ratings   int      `json:"ratings"`
		MeanStars float64  `json:"mean_stars"`
		Sample    int      `json:"sample"`
	}
	items := []rankItem{}
	for _, k := range keys {
		if err != nil {
			break
		}
		var doc struct {
			Items []rankItem `json:"items"`
		}
		_, err = a.readDoc(r.Context(), viewRecords, k, &doc)
		for _, it := range doc.Items {
			if (team == "" || contains(it.Teams, team)) && it.Sample >= minSample {
				items = append(items, it)
			}
		}
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sortRanking(items, func(x rankItem) (int, int, string) { return x.Points, x.Completed, x.Member })
	sample := 0
	for _, it := range items {
		sample += it.Sample
	}
	writeJSON(w, http.StatusOK, map[string]any{"community": community, "team": team, "period": period,
		"min_sample": minSample, "members": len(items), "sample": sample, "items": items})
}

func (a *API) monthlyReport(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	if err == nil {
		err = forbidUnless(actor.Role != domain.RoleMember, domain.CodeReadNotAllowed, "members do not read community reports")
	}
	community := r.URL.Query().Get("community")
	var period string
	if err == nil {
		period, err = a.period(r)
	}
	if err == nil && !domain.ValidID(community) {
		err = domain.Invalid("community", "is required: "+domain.IDRule)
	}
	var doc map[string]any
	var found bool
	if err == nil {
		found, err = a.readDoc(r.Context(), viewReports, "report."+community+"."+period, &doc)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !found {
		doc = map[string]any{"community": community, "period": period, "orders": 0,
			"response_rate": nil, "resolution_rate": nil, "satisfaction_rate": nil,
			"by_category": map[string]int{}, "by_lane": map[string]int{}, "feed_by_dimension": map[string]int{}, "top_members": []any{}}
	}
	writeJSON(w, http.StatusOK, doc)
}

// feedQuery reads the feed's filters from the query string.
func feedQuery(r *http.Request) (feed.Query, error) {
	q := r.URL.Query()
	fq := feed.Query{Lane: q.Get("lane"), Community: q.Get("community"), Dimension: q.Get("dimension")}
	var v domain.Validator
	v.Check(fq.Lane == "" || domain.ValidID(fq.Lane), "lane", domain.IDRule)
	v.Check(fq.Community == "" || domain.ValidID(fq.Community), "community", domain.IDRule)
	v.Check(fq.Dimension == "" || feed.Valid(fq.Dimension), "dimension", "must be people, money, materials, places, matters or organisations")
	after := q.Get("after")
	if after == "" {
		after = r.Header.Get("Last-Event-ID")
	}
	if after != "" {
		n, err := strconv.ParseUint(after, 10, 64)
		v.Check(err == nil, "after", "must be an event sequence number")
		fq.After = n
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		v.Check(err == nil && n >= 1 && n <= 500, "limit", "must be from 1 to 500")
		fq.Limit = n
	}
	return fq, v.Err()
}

func (a *API) feedList(w http.ResponseWriter, r *http.Request) {
	fq, err := feedQuery(r)
	var items []feed.Entry
	if err == nil {
		items, err = a.views.Feed(r.Context(), fq)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// feedStream serves the feed as Server-Sent Events: each entry is an event whose id is
// its sequence, so a reconnecting client resumes with Last-Event-ID.
func (a *API) feedStream(w http.ResponseWriter, r *http.Request) {
	fq, err := feedQuery(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		a.fail(w, r, fmt.Errorf("streaming unsupported"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": redlane linkage feed\n\n")
	flusher.Flush()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	entries := make(chan feed.Entry, 64)
	go func() {
		defer cancel()
		_ = a.views.FollowFeed(ctx, fq, func(e feed.Entry) error {
			select {
			case entries <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case e := <-entries:
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "id: %d\nevent: entry\ndata: %s\n\n", e.Seq, b)
		}
		flusher.Flush()
	}
}
