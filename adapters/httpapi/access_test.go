package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/redlane/redlane/adapters/httpapi"
	"github.com/redlane/redlane/adapters/memstore"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/campaign"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/schedule"
	"github.com/redlane/redlane/domain/street"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// memAPI is the real handler over a service on an in-memory store, called without a
// network: fast enough to build afresh for every case of a table or every fuzz input.
type memAPI struct {
	tb    testing.TB
	api   *httpapi.API
	svc   *service.Service
	store *memstore.Store
	// The district: lanes A (rouqiao-houxiang, taoyuan) and B (wudongqiao, yingchun);
	// members m-1 and m-2 of taoyuan, m-9 of yingchun; a token of each kind.
	tokens map[string]string // principal → bearer secret
}

const memAdmin = "mem-admin-token"

// noViews answers every projection read with nothing, and a feed that ends at once.
type noViews struct{}

func (noViews) Get(context.Context, string, string) ([]byte, error)    { return nil, nil }
func (noViews) Keys(context.Context, string, string) ([]string, error) { return nil, nil }
func (noViews) Feed(context.Context, feed.Query) ([]feed.Entry, error) { return nil, nil }
func (noViews) FollowFeed(context.Context, feed.Query, func(feed.Entry) error) error {
	return nil
}

var memIDs atomic.Uint64

// memVault is a service.Vault in memory; a box is only the index of what it holds.
type memVault struct {
	mu     sync.Mutex
	boxes  map[string]order.Requester // nonce → requester
	erased map[string]bool            // resident → erased
}

func (v *memVault) Resident(phone string) string { return "r-" + strings.TrimSpace(phone) }

func (v *memVault) Seal(_ context.Context, r order.Requester) (*order.Sealed, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	nonce := fmt.Sprint(len(v.boxes))
	v.boxes[nonce] = r
	return &order.Sealed{Resident: v.Resident(r.Phone), Nonce: []byte(nonce)}, nil
}

func (v *memVault) Open(_ context.Context, s *order.Sealed) (order.Requester, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.erased[s.Resident] {
		return order.Requester{}, service.ErrErased
	}
	return v.boxes[string(s.Nonce)], nil
}

func (v *memVault) Erase(_ context.Context, phone string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.erased == nil {
		v.erased = map[string]bool{}
	}
	v.erased[v.Resident(phone)] = true
	return v.Resident(phone), nil
}

func (v *memVault) SealMember(_ context.Context, member, phone string) (*order.Sealed, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	nonce := fmt.Sprint(len(v.boxes))
	v.boxes[nonce] = order.Requester{Phone: phone}
	return &order.Sealed{Resident: service.MemberKey(member), Nonce: []byte(nonce)}, nil
}

func (v *memVault) EraseMember(_ context.Context, member string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.erased == nil {
		v.erased = map[string]bool{}
	}
	v.erased[service.MemberKey(member)] = true
	return nil
}

func newMemAPI(tb testing.TB, cfg httpapi.Config) *memAPI {
	tb.Helper()
	store := memstore.New()
	svc := service.New(service.Config{
		Store: store, Clock: domain.ClockFunc(time.Now),
		NewID:   func() string { return fmt.Sprintf("id-%d", memIDs.Add(1)) },
		Catalog: order.DefaultCatalog(), AdminToken: memAdmin, ReceiptKey: []byte("mem receipt key"),
		Vault:       &memVault{boxes: map[string]order.Requester{}},
		Credentials: memstore.NewCredentials(), PasswordCost: bcrypt.MinCost,
	})
	cfg.Service = svc
	if cfg.Sessions == nil {
		cfg.Sessions = memstore.NewSessions(time.Hour)
	}
	if cfg.SignInLimiter == nil {
		cfg.SignInLimiter = httpapi.NewLimiter(1000, 1000)
	}
	if cfg.Views == nil {
		cfg.Views = noViews{}
	}
	if cfg.LookupLimiter == nil {
		cfg.LookupLimiter = httpapi.NewLimiter(1000, 1000)
	}
	if cfg.Index == nil {
		cfg.Index = query.NewIndex(query.IndexConfig{})
	}
	m := &memAPI{tb: tb, api: httpapi.New(cfg), svc: svc, store: store, tokens: map[string]string{"admin": memAdmin}}
	ctx, admin := context.Background(), svc.Meta(service.Admin, "")
	for _, st := range []struct{ id, name, community, communityName string }{
		{"dongcheng", "东城街道", "taoyuan", "塔苑社区"}, {"xicheng", "西城街道", "yingchun", "迎春社区"},
	} {
		if _, err := svc.RegisterStreet(ctx, admin, st.id, street.Register{Name: st.name}); err != nil {
			tb.Fatal(err)
		}
		if _, err := svc.RegisterCommunity(ctx, admin, st.community, community.Register{Name: st.communityName, Street: st.id}); err != nil {
			tb.Fatal(err)
		}
	}
	for id, l := range map[string]lane.Register{
		"rouqiao-houxiang": {Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng"},
		"wudongqiao":       {Name: "五洞桥", Community: "yingchun", Street: "xicheng"},
	} {
		if _, err := svc.RegisterLane(ctx, admin, id, l); err != nil {
			tb.Fatal(err)
		}
	}
	for id, r := range map[string]member.Register{
		"m-1": {Name: "李明", Community: "taoyuan"},
		"m-2": {Name: "陈静", Community: "taoyuan"},
		"m-9": {Name: "王律师", Community: "yingchun"},
	} {
		if _, err := svc.RegisterMember(ctx, admin, id, r); err != nil {
			tb.Fatal(err)
		}
	}
	for name, iss := range map[string]access.Issue{
		"steward":         {Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang"}, Name: "王芳"},
		"other steward":   {Role: domain.RoleSteward, Lanes: []string{"wudongqiao"}, Name: "刘洋"},
		"assigned":        {Role: domain.RoleMember, Member: "m-1", Name: "李明"},
		"member":          {Role: domain.RoleMember, Member: "m-2", Name: "陈静"},
		"outsider":        {Role: domain.RoleMember, Member: "m-9", Name: "王律师"},
		"operator":        {Role: domain.RoleOperator, Name: "96345"},
		"auditor":         {Role: domain.RoleAuditor, Name: "审计"},
		"revoked":         {Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang"}, Name: "离职管家"},
		"community":       {Role: domain.RoleCommunity, Communities: []string{"taoyuan"}, Name: "塔苑社区"},
		"other community": {Role: domain.RoleCommunity, Communities: []string{"yingchun"}, Name: "迎春社区"},
		"street":          {Role: domain.RoleStreet, Streets: []string{"dongcheng"}, Name: "东城街道"},
		"other street":    {Role: domain.RoleStreet, Streets: []string{"xicheng"}, Name: "西城街道"},
	} {
		id, secret, err := svc.IssueToken(ctx, admin, iss)
		if err != nil {
			tb.Fatal(err)
		}
		m.tokens[name] = secret
		if name == "revoked" {
			if err := svc.RevokeToken(ctx, admin, id); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return m
}

// actor is who holds a principal's token.
func (m *memAPI) actor(principal string) domain.Actor {
	m.tb.Helper()
	a, err := m.svc.Authenticate(m.tokens[principal])
	if err != nil {
		m.tb.Fatalf("%s: %v", principal, err)
	}
	return a
}

// order makes an order of lane A and walks it to state: open, dispatched (to m-1),
// accepted (by m-1), completed or closed. It returns the order's id.
func (m *memAPI) order(state order.Status) string {
	m.tb.Helper()
	ctx := context.Background()
	snap, _, err := m.svc.Submit(ctx, m.svc.Meta(service.Resident, ""), service.SubmitRequest{
		LaneID: "rouqiao-houxiang",
		Submit: order.Submit{Category: "repair", Title: "楼道灯不亮了", Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"}},
	})
	if err != nil {
		m.tb.Fatal(err)
	}
	steps := map[order.Status][]struct {
		who string
		cmd order.Command
	}{
		order.StatusOpen:       nil,
		order.StatusDispatched: {{"steward", order.Dispatch{Member: order.MemberRef{ID: "m-1"}}}},
		order.StatusAccepted:   {{"steward", order.Dispatch{Member: order.MemberRef{ID: "m-1"}}}, {"assigned", order.Accept{}}},
		order.StatusCompleted: {{"steward", order.Dispatch{Member: order.MemberRef{ID: "m-1"}}}, {"assigned", order.Accept{}},
			{"assigned", order.Complete{Note: "换了灯", Minutes: 30}}},
		order.StatusClosed: {{"steward", order.Dispatch{Member: order.MemberRef{ID: "m-1"}}}, {"assigned", order.Accept{}},
			{"assigned", order.Complete{Note: "换了灯", Minutes: 30}}, {"", order.Rate{Solved: ptrTrue(), Stars: 5}}},
	}[state]
	for _, s := range steps {
		a := service.Resident
		if s.who != "" {
			a = m.actor(s.who)
		}
		if _, err := m.svc.Act(ctx, m.svc.Meta(a, ""), snap.ID, s.cmd, 0); err != nil {
			m.tb.Fatalf("walk order to %s: %T: %v", state, s.cmd, err)
		}
	}
	return snap.ID
}

// escalated makes an order of lane A in state, as order does, and has the steward
// escalate it to level.
func (m *memAPI) escalated(state order.Status, level order.Level) string {
	m.tb.Helper()
	id := m.order(state)
	// One step at a time: the lane's steward to the community, the community on.
	if _, err := m.svc.Act(context.Background(), m.svc.Meta(m.actor("steward"), ""), id, order.Escalate{Level: order.LevelCommunity, Reason: "需要协调"}, 0); err != nil {
		m.tb.Fatal(err)
	}
	if level == order.LevelStreet {
		if _, err := m.svc.Act(context.Background(), m.svc.Meta(m.actor("community"), ""), id, order.Escalate{Level: level, Reason: "需要街道协调"}, 0); err != nil {
			m.tb.Fatal(err)
		}
	}
	return id
}

// onEscalated makes a fresh order in state escalated to level for each principal, and a
// request about it.
func onEscalated(state order.Status, level order.Level, method, suffix, body string) func(*memAPI) accessReq {
	return func(m *memAPI) accessReq {
		id := m.escalated(state, level)
		return accessReq{method: method, path: "/api/v1/orders/" + id + suffix, body: body, order: id}
	}
}

// account opens an auditor's account whose password is 正确的密码 1234 and returns its username.
// street registers a new street and returns its id.
func (m *memAPI) street() string {
	m.tb.Helper()
	id := "s-" + uuid.NewString()[:8]
	if _, err := m.svc.RegisterStreet(context.Background(), m.svc.Meta(service.Admin, ""), id, street.Register{Name: "东城街道"}); err != nil {
		m.tb.Fatal(err)
	}
	return id
}

func (m *memAPI) account() string {
	m.tb.Helper()
	username := "u" + uuid.NewString()[:8]
	_, err := m.svc.CreateAccount(context.Background(), m.svc.Meta(service.Admin, ""), service.NewAccount{
		Username: username, Password: "正确的密码 1234", Issue: access.Issue{Role: domain.RoleAuditor, Name: "审计"}})
	if err != nil {
		m.tb.Fatal(err)
	}
	return username
}

// schedule defines a weekly schedule on laneID and returns its id.
func (m *memAPI) schedule(laneID string) string {
	m.tb.Helper()
	id := "s-" + uuid.NewString()[:8]
	_, err := m.svc.DefineSchedule(context.Background(), m.svc.Meta(service.Admin, ""), id, schedule.Define{
		Lane: laneID, Category: "repair", Title: "独居老人探访", Requester: order.Requester{Name: "王奶奶", Phone: "13700001111"},
		Every: schedule.Weekly, Weekday: 2, At: "09:30", From: "2026-12-01",
	})
	if err != nil {
		m.tb.Fatal(err)
	}
	return id
}

func ptrTrue() *bool { t := true; return &t }

// serve sends one request through the API's handler.
func (m *memAPI) serve(method, path string, body []byte, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(string(body)))
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	m.api.ServeHTTP(rec, req)
	return rec
}

// The principals: who sends a request, by token or receipt.
var principals = []string{
	"no token", "bad token", "revoked", "admin", "steward", "other steward", "assigned",
	"member", "outsider", "operator", "auditor", "receipt", "other receipt",
	"community", "other community", "street", "other street",
}

// accessReq is one request of a row, made afresh for each principal.
type accessReq struct {
	method, path, body string
	order              string // the order the request is about, for "receipt"
}

// accessRow is what each principal gets from one request to one route.
type accessRow struct {
	route string // the pattern, as Routes lists it
	name  string // what the row tries, when a route has several rows
	req   func(m *memAPI) accessReq
	want  [17]int // by principals
}

// Columns: none, bad, revoked, admin, steward (of the order's lane), other steward,
// assigned member, member of the community, outsider (another community), operator,
// auditor, receipt of this order, receipt of another; then the offices: community staff
// of the order's community (taoyuan), of another (yingchun), street staff of the
// order's street (dongcheng), of another (xicheng).
var accessTable = []accessRow{
	{"GET /healthz", "", fixed("GET", "/healthz", ""),
		[17]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /readyz", "", fixed("GET", "/readyz", ""),
		[17]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /metrics", "", fixed("GET", "/metrics", ""),
		[17]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /api/v1/openapi.json", "", fixed("GET", "/api/v1/openapi.json", ""),
		[17]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"POST /api/v1/tokens", "", fixed("POST", "/api/v1/tokens", `{"role":"auditor","name":"新审计"}`),
		[17]int{401, 401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"DELETE /api/v1/tokens/{id}", "", func(m *memAPI) accessReq {
		id, _, err := m.svc.IssueToken(context.Background(), m.svc.Meta(service.Admin, ""), access.Issue{Role: domain.RoleAuditor, Name: "临时"})
		if err != nil {
			m.tb.Fatal(err)
		}
		return accessReq{method: "DELETE", path: "/api/v1/tokens/" + id}
	}, [17]int{401, 401, 401, 204, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"POST /api/v1/accounts", "", func(m *memAPI) accessReq {
		return accessReq{method: "POST", path: "/api/v1/accounts", body: `{"username":"u` + uuid.NewString()[:8] + `","password":"正确的密码 1234","name":"审计","role":"auditor"}`}
	}, [17]int{401, 401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"GET /api/v1/accounts", "", fixed("GET", "/api/v1/accounts", ""),
		[17]int{401, 401, 401, 200, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"PUT /api/v1/accounts/{username}/password", "", func(m *memAPI) accessReq {
		return accessReq{method: "PUT", path: "/api/v1/accounts/" + m.account() + "/password", body: `{"password":"另一个密码 2222"}`}
	}, [17]int{401, 401, 401, 204, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"DELETE /api/v1/accounts/{username}", "", func(m *memAPI) accessReq {
		return accessReq{method: "DELETE", path: "/api/v1/accounts/" + m.account()}
	}, [17]int{401, 401, 401, 204, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	// Anyone may sign in with a right pair; the bearer sent along is not looked at.
	{"POST /api/v1/sessions", "", func(m *memAPI) accessReq {
		return accessReq{method: "POST", path: "/api/v1/sessions", body: `{"username":"` + m.account() + `","password":"正确的密码 1234"}`}
	}, [17]int{201, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201}},
	// Only a session ends a session: API tokens and receipts are none.
	{"DELETE /api/v1/sessions/current", "", fixed("DELETE", "/api/v1/sessions/current", ""),
		[17]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	{"POST /api/v1/streets", "", func(m *memAPI) accessReq {
		return accessReq{method: "POST", path: "/api/v1/streets", body: `{"id":"s-` + uuid.NewString()[:8] + `","name":"东城街道"}`}
	}, [17]int{401, 401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"GET /api/v1/streets", "", fixed("GET", "/api/v1/streets", ""),
		[17]int{401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 200, 200, 200, 200}},
	{"POST /api/v1/communities", "", func(m *memAPI) accessReq {
		return accessReq{method: "POST", path: "/api/v1/communities", body: `{"id":"c-` + uuid.NewString()[:8] + `","name":"塔苑社区","street":"` + m.street() + `"}`}
	}, [17]int{401, 401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"GET /api/v1/communities", "", fixed("GET", "/api/v1/communities", ""),
		[17]int{401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 200, 200, 200, 200}},
	{"POST /api/v1/lanes", "", func(m *memAPI) accessReq {
		return accessReq{method: "POST", path: "/api/v1/lanes", body: `{"id":"kongyuan-` + uuid.NewString()[:8] + `","name":"孔园","community":"taoyuan","street":"dongcheng"}`}
	}, [17]int{401, 401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"GET /api/v1/lanes", "", fixed("GET", "/api/v1/lanes", ""),
		[17]int{401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 200, 200, 200, 200}},
	{"POST /api/v1/members", "", func(m *memAPI) accessReq {
		return accessReq{method: "POST", path: "/api/v1/members", body: `{"id":"m-` + uuid.NewString()[:8] + `","name":"周老师","community":"taoyuan"}`}
	}, [17]int{401, 401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"PUT /api/v1/members/{id}", "", fixed("PUT", "/api/v1/members/m-9", `{"name":"王律师","community":"yingchun","phone":"13800009999","skills":["legal"]}`),
		[17]int{401, 401, 401, 200, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"GET /api/v1/members", "", fixed("GET", "/api/v1/members", ""),
		[17]int{401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 200, 200, 200, 200}},
	{"GET /api/v1/categories", "", fixed("GET", "/api/v1/categories", ""),
		[17]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"PUT /api/v1/categories/{code}", "", fixed("PUT", "/api/v1/categories/heating",
		`{"name":"供暖报修","skills":["repair"],"questions":[{"code":"rooms","description":"几个房间不热？","datatype":"number","required":true}]}`),
		[17]int{401, 401, 401, 200, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	// Residents submit without a token; a receipt is no token, so they submit too.
	{"POST /api/v1/orders", "", fixed("POST", "/api/v1/orders",
		`{"lane":"rouqiao-houxiang","category":"repair","title":"水管漏水","requester":{"name":"李大爷","phone":"13900001111"}}`),
		[17]int{201, 401, 401, 403, 201, 403, 403, 403, 403, 201, 403, 201, 201, 403, 403, 403, 403}},
	// Members read their community's orders; the phone is masked for all but stewards.
	{"GET /api/v1/orders/{id}", "", onOrder(order.StatusDispatched, "GET", "", ""),
		[17]int{401, 401, 401, 200, 200, 403, 200, 200, 403, 200, 200, 200, 401, 403, 403, 403, 403}},
	// A receipt is a keyed digest of the order's id: one for an unknown id proves nothing
	// exists, and finds nothing.
	{"GET /api/v1/orders/{id}", "unknown order", func(m *memAPI) accessReq {
		return accessReq{method: "GET", path: "/api/v1/orders/no-such-order", order: "no-such-order"}
	}, [17]int{401, 401, 401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 401, 404, 404, 404, 404}},
	{"GET /api/v1/orders/{id}/events", "", onOrder(order.StatusDispatched, "GET", "/events", ""),
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 200, 401, 401, 403, 403, 403, 403}},
	{"GET /api/v1/audit/orders/{id}", "", func(m *memAPI) accessReq {
		id := m.order(order.StatusDispatched)
		return accessReq{method: "GET", path: "/api/v1/audit/orders/" + id, order: id}
	},
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 200, 401, 401, 403, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "dispatch", onOrder(order.StatusOpen, "POST", "/dispatch", `{"member":"m-1"}`),
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 401, 403, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "reassign", onOrder(order.StatusDispatched, "POST", "/reassign", `{"member":"m-2","reason":"出差"}`),
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 401, 403, 403, 403, 403}},
	// m-1 is of the lane's community too: on an open order nobody is assigned yet.
	{"POST /api/v1/orders/{id}/{action}", "claim", onOrder(order.StatusOpen, "POST", "/claim", ""),
		[17]int{401, 401, 401, 403, 403, 403, 200, 200, 403, 403, 403, 403, 401, 403, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "accept", onOrder(order.StatusDispatched, "POST", "/accept", ""),
		[17]int{401, 401, 401, 403, 403, 403, 200, 403, 403, 403, 403, 403, 401, 403, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "decline", onOrder(order.StatusDispatched, "POST", "/decline", `{"reason":"没空"}`),
		[17]int{401, 401, 401, 403, 403, 403, 200, 403, 403, 403, 403, 403, 401, 403, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "complete", onOrder(order.StatusAccepted, "POST", "/complete", `{"note":"好了","minutes":20}`),
		[17]int{401, 401, 401, 403, 403, 403, 200, 403, 403, 403, 403, 403, 401, 403, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "rate", onOrder(order.StatusCompleted, "POST", "/rate", `{"solved":true,"stars":4}`),
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 403, 200, 401, 403, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "cancel", onOrder(order.StatusOpen, "POST", "/cancel", `{"reason":"不需要了"}`),
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 403, 200, 401, 403, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "escalate", onOrder(order.StatusOpen, "POST", "/escalate", `{"level":"community","reason":"久拖"}`),
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 401, 403, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "reopen", onOrder(order.StatusClosed, "POST", "/reopen", `{"reason":"又坏了"}`),
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 401, 403, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "note", onOrder(order.StatusAccepted, "POST", "/note", `{"text":"已联系"}`),
		[17]int{401, 401, 401, 403, 200, 403, 200, 403, 403, 403, 403, 403, 401, 403, 403, 403, 403}},
	// The offices (兜底): an order escalated to the community is the community's to act on
	// and read, and the street's once it goes up there; the lane's steward keeps it too.
	{"GET /api/v1/orders/{id}", "escalated to the community", onEscalated(order.StatusDispatched, order.LevelCommunity, "GET", "", ""),
		[17]int{401, 401, 401, 200, 200, 403, 200, 200, 403, 200, 200, 200, 401, 200, 403, 403, 403}},
	{"GET /api/v1/orders/{id}", "escalated to the street", onEscalated(order.StatusDispatched, order.LevelStreet, "GET", "", ""),
		[17]int{401, 401, 401, 200, 200, 403, 200, 200, 403, 200, 200, 200, 401, 200, 403, 200, 403}},
	{"POST /api/v1/orders/{id}/{action}", "dispatch at community level", onEscalated(order.StatusOpen, order.LevelCommunity, "POST", "/dispatch", `{"member":"m-2"}`),
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 401, 200, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "dispatch at street level", onEscalated(order.StatusOpen, order.LevelStreet, "POST", "/dispatch", `{"member":"m-2"}`),
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 401, 403, 403, 200, 403}},
	// An office hands an order only to a member of its community: m-9 is yingchun's.
	{"POST /api/v1/orders/{id}/{action}", "dispatch outside the community", onEscalated(order.StatusOpen, order.LevelCommunity, "POST", "/dispatch", `{"member":"m-9"}`),
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 401, 400, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "reassign at community level", onEscalated(order.StatusAccepted, order.LevelCommunity, "POST", "/reassign", `{"member":"m-2","reason":"出差"}`),
		[17]int{401, 401, 401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 401, 200, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "escalate from community to street", onEscalated(order.StatusOpen, order.LevelCommunity, "POST", "/escalate", `{"level":"street","reason":"跨社区"}`),
		[17]int{401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 200, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "return", onEscalated(order.StatusDispatched, order.LevelCommunity, "POST", "/return", `{"reason":"驿站可以处理"}`),
		[17]int{401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 200, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "return from the street", onEscalated(order.StatusOpen, order.LevelStreet, "POST", "/return", `{"reason":"社区先协调"}`),
		[17]int{401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 403, 403, 200, 403}},
	{"POST /api/v1/orders/{id}/{action}", "close", onEscalated(order.StatusAccepted, order.LevelCommunity, "POST", "/close", `{"reason":"已转交城管"}`),
		[17]int{401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 200, 403, 403, 403}},
	{"POST /api/v1/orders/{id}/{action}", "close at street level", onEscalated(order.StatusOpen, order.LevelStreet, "POST", "/close", `{"reason":"重复诉求"}`),
		[17]int{401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 403, 403, 200, 403}},
	// The offices' boards: each lists its own level in its own places.
	{"GET /api/v1/orders", "community board", fixed("GET", "/api/v1/orders?escalation=community", ""),
		[17]int{401, 401, 401, 200, 403, 403, 403, 403, 403, 403, 200, 401, 401, 200, 200, 403, 403}},
	{"GET /api/v1/orders", "street board", fixed("GET", "/api/v1/orders?escalation=street", ""),
		[17]int{401, 401, 401, 200, 403, 403, 403, 403, 403, 403, 200, 401, 401, 403, 403, 200, 200}},
	{"GET /api/v1/orders", "another community's board", fixed("GET", "/api/v1/orders?escalation=community&community=yingchun", ""),
		[17]int{401, 401, 401, 200, 403, 403, 403, 403, 403, 403, 200, 401, 401, 403, 200, 403, 403}},
	{"GET /api/v1/orders", "a street's board of one of its communities", fixed("GET", "/api/v1/orders?escalation=street&community=taoyuan", ""),
		[17]int{401, 401, 401, 200, 403, 403, 403, 403, 403, 403, 200, 401, 401, 403, 403, 200, 403}},
	{"POST /api/v1/orders/{id}/{action}", "unknown action", onOrder(order.StatusOpen, "POST", "/teleport", `{}`),
		[17]int{404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
	// Anyone may look a receipt up (an unknown number here: the same 404 as a wrong phone).
	{"POST /api/v1/receipts/lookup", "", fixed("POST", "/api/v1/receipts/lookup", `{"number":"20261130-NOSUCH","phone":"13812345678"}`),
		[17]int{404, 401, 401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
	// Stewards search what they may read (their lanes); members use their task page.
	{"GET /api/v1/orders", "", fixed("GET", "/api/v1/orders?q=%E7%81%AF", ""),
		[17]int{401, 401, 401, 200, 200, 200, 403, 403, 403, 200, 200, 401, 401, 200, 200, 200, 200}},
	{"GET /api/v1/lanes/{lane}/backlog", "", fixed("GET", "/api/v1/lanes/rouqiao-houxiang/backlog", ""),
		[17]int{401, 401, 401, 200, 200, 403, 403, 403, 403, 403, 200, 401, 401, 403, 403, 403, 403}},
	// Any steward reads any member's record; a member reads only their own.
	{"GET /api/v1/members/{id}/record", "", fixed("GET", "/api/v1/members/m-1/record", ""),
		[17]int{401, 401, 401, 200, 200, 200, 200, 403, 403, 403, 200, 401, 401, 403, 403, 403, 403}},
	{"GET /api/v1/evaluations", "", fixed("GET", "/api/v1/evaluations?community=taoyuan", ""),
		[17]int{401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 200, 200, 200, 200}},
	// The linkage feed is public by design: it names no resident.
	{"GET /api/v1/feed", "", fixed("GET", "/api/v1/feed", ""),
		[17]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /api/v1/feed/stream", "", fixed("GET", "/api/v1/feed/stream", ""),
		[17]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"POST /api/v1/schedules", "", func(m *memAPI) accessReq {
		return accessReq{method: "POST", path: "/api/v1/schedules", body: `{"id":"s-` + uuid.NewString()[:8] + `","lane":"rouqiao-houxiang",` +
			`"category":"repair","title":"独居老人探访","requester":{"name":"王奶奶","phone":"13700001111"},"every":"weekly","weekday":2,"at":"09:30","from":"2026-12-01"}`}
	}, [17]int{401, 401, 401, 201, 201, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	// Everyone with a token lists schedules, but sees only those of orders they may read
	// (TestScheduleListIsFiltered).
	{"GET /api/v1/schedules", "", fixed("GET", "/api/v1/schedules", ""),
		[17]int{401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 200, 200, 200, 200}},
	{"DELETE /api/v1/schedules/{id}", "", func(m *memAPI) accessReq {
		return accessReq{method: "DELETE", path: "/api/v1/schedules/" + m.schedule("rouqiao-houxiang")}
	}, [17]int{401, 401, 401, 204, 204, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"POST /api/v1/campaigns", "", func(m *memAPI) accessReq {
		return accessReq{method: "POST", path: "/api/v1/campaigns", body: `{"id":"c-` + uuid.NewString()[:8] + `","theme":"冬季暖心","community":"taoyuan","from":"2026-12-01","until":"2026-12-31"}`}
	}, [17]int{401, 401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"GET /api/v1/campaigns", "", fixed("GET", "/api/v1/campaigns", ""),
		[17]int{401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 200, 200, 200, 200}},
	{"DELETE /api/v1/campaigns/{id}", "", func(m *memAPI) accessReq {
		id := "c-" + uuid.NewString()[:8]
		if _, err := m.svc.LaunchCampaign(context.Background(), m.svc.Meta(service.Admin, ""), id,
			campaign.Launch{Theme: "冬季暖心", Community: "taoyuan", From: "2026-12-01", Until: "2026-12-31"}); err != nil {
			m.tb.Fatal(err)
		}
		return accessReq{method: "DELETE", path: "/api/v1/campaigns/" + id}
	}, [17]int{401, 401, 401, 204, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"POST /api/v1/privacy/erase", "", fixed("POST", "/api/v1/privacy/erase", `{"phone":"13812345678"}`),
		[17]int{401, 401, 401, 200, 403, 403, 403, 403, 403, 403, 403, 401, 401, 403, 403, 403, 403}},
	{"GET /api/v1/reports/monthly", "", fixed("GET", "/api/v1/reports/monthly?community=taoyuan", ""),
		[17]int{401, 401, 401, 200, 200, 200, 403, 403, 403, 200, 200, 401, 401, 200, 200, 200, 200}},
}

// The actions of POST /api/v1/orders/{id}/{action}, as spec/api.md lists them: each
// must have its row.
var actions = []string{"dispatch", "claim", "reassign", "accept", "decline", "complete", "rate", "cancel", "escalate", "reopen", "note", "return", "close"}

func fixed(method, path, body string) func(*memAPI) accessReq {
	return func(*memAPI) accessReq { return accessReq{method: method, path: path, body: body} }
}

// onOrder makes a fresh order in state for each principal, and a request about it.
func onOrder(state order.Status, method, suffix, body string) func(*memAPI) accessReq {
	return func(m *memAPI) accessReq {
		id := m.order(state)
		return accessReq{method: method, path: "/api/v1/orders/" + id + suffix, body: body, order: id}
	}
}

// TestAccessTable sends every route's request as every principal and checks the
// status against the table; a refusal must write nothing and answer problem+json. A
// route the API serves without a row, or an action without one, fails the test.
func TestAccessTable(t *testing.T) {
	m := newMemAPI(t, httpapi.Config{Registry: prometheus.NewRegistry(), IntakeRate: -1})
	other := m.order(order.StatusOpen)

	covered := map[string]bool{}
	for _, row := range accessTable {
		covered[row.route] = true
		if row.route == "POST /api/v1/orders/{id}/{action}" {
			covered["action "+row.name] = true
		}
	}
	routes := map[string]bool{"GET /metrics": true}
	for _, rt := range m.api.Routes() {
		routes[rt.Pattern] = true
		if !covered[rt.Pattern] {
			t.Errorf("route %s has no row in the access table", rt.Pattern)
		}
	}
	for _, a := range actions {
		if !covered["action "+a] {
			t.Errorf("action %s has no row in the access table", a)
		}
	}
	for _, row := range accessTable {
		if !routes[row.route] {
			t.Errorf("the access table has a row for %s, which the API does not serve", row.route)
		}
	}

	for _, row := range accessTable {
		name := row.route
		if row.name != "" {
			name += " " + row.name
		}
		t.Run(name, func(t *testing.T) {
			for i, who := range principals {
				req := row.req(m)
				h := http.Header{}
				switch who {
				case "no token":
				case "bad token":
					h.Set("Authorization", "Bearer rl_forged")
				case "receipt":
					if req.order == "" {
						req.order = other // no order of its own: any order's receipt
					}
					h.Set("X-Receipt", m.svc.Receipt(req.order))
				case "other receipt":
					h.Set("X-Receipt", m.svc.Receipt(m.order(order.StatusOpen)))
				default:
					h.Set("Authorization", "Bearer "+m.tokens[who])
				}
				before := m.store.LastSeq()
				rec := m.serve(req.method, req.path, []byte(req.body), h)
				if rec.Code != row.want[i] {
					t.Errorf("%s: %s %s answered %d, want %d: %s", who, req.method, req.path, rec.Code, row.want[i], rec.Body.Bytes())
					continue
				}
				if rec.Code < 400 {
					continue
				}
				if after := m.store.LastSeq(); after != before {
					t.Errorf("%s: refused with %d, yet %d events were written", who, rec.Code, after-before)
				}
				var p struct{ Status int }
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != rec.Code {
					t.Errorf("%s: %d is not problem+json (%s): %s", who, rec.Code, ct, rec.Body.Bytes())
				}
			}
		})
	}
}

// TestScheduleListIsFiltered checks that a schedule, which names a resident like an
// order does, is listed only to those who may read that lane's orders.
// TestOpenAPIHoldsEveryRouteAndAnswer: the document served at /api/v1/openapi.json has
// an operation for every route the API serves and none besides, and lists every status
// the access table records for a route.
func TestOpenAPIHoldsEveryRouteAndAnswer(t *testing.T) {
	m := newMemAPI(t, httpapi.Config{})
	served := map[string]bool{"GET /metrics": true}
	for _, rt := range m.api.Routes() {
		served[rt.Pattern] = true
	}
	documented := map[string]bool{}
	for _, p := range httpapi.DocumentedPatterns() {
		documented[p] = true
		if !served[p] {
			t.Errorf("the OpenAPI document has %s, which the API does not serve", p)
		}
	}
	for p := range served {
		if !documented[p] {
			t.Errorf("the API serves %s, which the OpenAPI document lacks", p)
		}
	}
	for _, row := range accessTable {
		for _, code := range row.want {
			if !httpapi.Documented(row.route, code) {
				t.Errorf("%s answers %d (%s), which the OpenAPI document does not list", row.route, code, row.name)
			}
		}
	}
	// It is served, as JSON with an operation per route.
	rec := httptest.NewRecorder()
	m.api.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != 200 || !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("GET /api/v1/openapi.json: %d %v", rec.Code, err)
	}
	n := 0
	for _, item := range doc.Paths {
		n += len(item)
	}
	if n != len(documented) {
		t.Errorf("the served document has %d operations, want %d", n, len(documented))
	}
}

func TestScheduleListIsFiltered(t *testing.T) {
	m := newMemAPI(t, httpapi.Config{})
	a, b := m.schedule("rouqiao-houxiang"), m.schedule("wudongqiao")
	for who, want := range map[string][]string{
		"admin": {a, b}, "auditor": {a, b}, "operator": {a, b},
		"steward": {a}, "other steward": {b}, "assigned": {a}, "member": {a}, "outsider": {b},
	} {
		rec := m.serve("GET", "/api/v1/schedules", nil, http.Header{"Authorization": {"Bearer " + m.tokens[who]}})
		var got struct{ Items []struct{ ID string } }
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
			t.Fatalf("%s: %d %v: %s", who, rec.Code, err, rec.Body.Bytes())
		}
		var ids []string
		for _, it := range got.Items {
			ids = append(ids, it.ID)
		}
		slices.Sort(ids)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("%s lists schedules %v, want %v", who, ids, want)
		}
	}
}
