package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// apiOn serves the API of svc on store as serve does: the views written and the backlog
// index fed from them, caught up before it returns. stop ends the views' writers.
func apiOn(t *testing.T, w *rollWorld, store *jsstore.Store, svc *service.Service) (srv *httptest.Server, stop func()) {
	t.Helper()
	vs, stopViews := runViews(t, w.js, store)
	index := query.NewIndex(query.IndexConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { defer close(watched); _ = vs.Watch(ctx, backlog.Name, query.BacklogKeys, index) }()
	stop = func() { cancel(); <-watched; stopViews() }
	t.Cleanup(stop)
	deadline := time.Now().Add(time.Minute)
	for {
		cp, err := vs.Checkpoint(context.Background(), backlog.Name)
		if err == nil && index.Seq() >= cp {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backlog index did not catch up: at %d, the view at %d (%v)", index.Seq(), cp, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	lookups := httpapi.NewLimiter(1000, 1000)
	srv = httptest.NewServer(httpapi.New(httpapi.Config{Service: svc, Views: vs, Index: index, LookupLimiter: lookups}))
	t.Cleanup(srv.Close)
	return srv, stop
}

// serving is the service of a process serving store, as serve makes it: the orders left
// behind in earlier periods read from there, the directory read from store.
func serving(t *testing.T, store *jsstore.Store) *service.Service {
	t.Helper()
	svc := service.New(service.Config{Store: store, Earlier: store.Earlier(), Catalog: order.DefaultCatalog(), ReceiptKey: []byte("k"),
		Clock: domain.ClockFunc(time.Now), NewID: func() string { return uuid.Must(uuid.NewV7()).String() }})
	if err := store.ReadAll(context.Background(), 1, func(rec domain.Recorded) error {
		if slices.Contains(service.DirectoryTypes, rec.AggregateType) {
			return svc.Dir.Apply(rec)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return svc
}

// call makes a request with the token and returns the status and the body.
func call(t *testing.T, srv *httptest.Server, method, path, token string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// After a roll, an order left behind in the earlier period is read from there, as it
// was before the roll; it takes no command, and when its period is archived it is gone.
func TestPeriodRollLeavesOrdersReadable(t *testing.T) {
	w := newRollWorld(t)
	ctx := context.Background()
	admin := w.svc.Meta(service.Admin, "")
	_, steward, err := w.svc.IssueToken(ctx, admin, access.Issue{Role: domain.RoleSteward, Name: "王芳", Lanes: []string{"rouqiao"}})
	if err != nil {
		t.Fatal(err)
	}
	_, auditor, err := w.svc.IssueToken(ctx, admin, access.Issue{Role: domain.RoleAuditor, Name: "审计"})
	if err != nil {
		t.Fatal(err)
	}
	left := []string{w.orders["cancelled"], w.orders["closed"]}
	cancelled := w.orders["cancelled"]
	snap, err := w.svc.Order(ctx, cancelled)
	if err != nil {
		t.Fatal(err)
	}
	lookup := map[string]string{"number": snap.State.Number, "phone": "13812345678"}

	// What the API answers before the roll.
	type answers struct{ order, events string }
	read := func(srv *httptest.Server, id string) answers {
		t.Helper()
		var a answers
		var code int
		if code, a.order = call(t, srv, "GET", "/api/v1/orders/"+id, steward, nil); code != http.StatusOK {
			t.Fatalf("GET order %s: %d %s", id, code, a.order)
		}
		if code, a.events = call(t, srv, "GET", "/api/v1/orders/"+id+"/events", auditor, nil); code != http.StatusOK {
			t.Fatalf("GET events of %s: %d %s", id, code, a.events)
		}
		return a
	}
	srv, stop := apiOn(t, w, w.store, serving(t, w.store))
	before := map[string]answers{}
	for _, id := range left {
		before[id] = read(srv, id)
	}
	code, found := call(t, srv, "POST", "/api/v1/receipts/lookup", "", lookup)
	if code != http.StatusOK {
		t.Fatalf("receipt lookup before the roll: %d %s", code, found)
	}
	stop()
	srv.Close()

	if _, err := RollPeriod(ctx, &Log{JS: w.js, Store: w.store, Close: func() {}}, RollOptions{To: "REDLANE_2027_01", CatchUp: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}

	// A serving process on the next period, as serve opens it.
	next := w.open(t, "REDLANE_2027_01", jsstore.Config{})
	svc := serving(t, next)
	srv, _ = apiOn(t, w, next, svc)
	for _, id := range left {
		if recs, err := next.Load(ctx, order.AggregateType, id, 0); err != nil || len(recs) != 0 {
			t.Fatalf("order %s is in the next period: %d events (%v)", id, len(recs), err)
		}
		if got := read(srv, id); got != before[id] {
			t.Errorf("order %s after the roll:\n%+v\nbefore:\n%+v", id, got, before[id])
		}
	}
	if code, got := call(t, srv, "POST", "/api/v1/receipts/lookup", "", lookup); code != http.StatusOK || got != found {
		t.Errorf("receipt lookup after the roll: %d %s, before: %s", code, got, found)
	}

	// The service says where each was read from: the steward's page shows a left-behind
	// order read-only, without the forms the service would refuse.
	for id, want := range map[string]string{w.orders["closed"]: jsstore.DefaultStream, w.orders["open"]: ""} {
		if _, from, err := svc.OrderFrom(ctx, id); err != nil || from != want {
			t.Errorf("order %s read from %q (%v), want %q", id, from, err, want)
		}
	}

	// A command on it is refused and writes nothing, in either period.
	counts := func() [2]uint64 {
		t.Helper()
		var n [2]uint64
		for i, st := range []*jsstore.Store{w.store, next} {
			var err error
			if n[i], err = st.LastSeq(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	was := counts()
	for _, c := range []struct{ id, action string }{{cancelled, "note"}, {w.orders["closed"], "reopen"}} {
		code, body := call(t, srv, "POST", "/api/v1/orders/"+c.id+"/"+c.action, steward, map[string]any{"text": "再看看", "reason": "又坏了"})
		var p struct{ Code string }
		_ = json.Unmarshal([]byte(body), &p)
		if code != http.StatusConflict || p.Code != string(domain.CodeInEarlierPeriod) {
			t.Errorf("%s on an order left behind: %d %s, want 409 %s", c.action, code, body, domain.CodeInEarlierPeriod)
		}
	}
	if now := counts(); now != was {
		t.Errorf("a refused command wrote: positions %v, were %v", now, was)
	}

	// An unknown order is still not found, and a carried one is read from the next period.
	if code, body := call(t, srv, "GET", "/api/v1/orders/"+uuid.Must(uuid.NewV7()).String(), steward, nil); code != http.StatusNotFound {
		t.Errorf("an unknown order: %d %s", code, body)
	}
	open := read(srv, w.orders["open"])

	// Archived: the earlier period's orders are gone, nothing else is.
	if err := w.js.DeleteStream(ctx, jsstore.DefaultStream); err != nil {
		t.Fatal(err)
	}
	for _, id := range left {
		if code, body := call(t, srv, "GET", "/api/v1/orders/"+id, steward, nil); code != http.StatusNotFound {
			t.Errorf("order %s with its period archived: %d %s", id, code, body)
		}
		if code, body := call(t, srv, "GET", "/api/v1/orders/"+id+"/events", auditor, nil); code != http.StatusNotFound {
			t.Errorf("events of %s with its period archived: %d %s", id, code, body)
		}
	}
	if code, body := call(t, srv, "POST", "/api/v1/orders/"+cancelled+"/note", steward, map[string]any{"text": "再看看"}); code != http.StatusNotFound {
		t.Errorf("a note on an archived order: %d %s", code, body)
	}
	if got := read(srv, w.orders["open"]); got != open {
		t.Errorf("the carried open order changed when the earlier period was archived:\n%+v\n%+v", got, open)
	}
	if _, _, err := svc.Submit(ctx, svc.Meta(service.Resident, ""), service.SubmitRequest{LaneID: "rouqiao", Submit: order.Submit{
		Category: "repair", Title: "新的诉求", Requester: order.Requester{Name: "赵", Phone: "13812345679"}}}); err != nil {
		t.Errorf("a submit with the earlier period archived: %v", err)
	}
}
