package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	"github.com/redlane/redlane/internal/testworld"

	"github.com/google/uuid"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

const adminToken = testworld.AdminToken

// harness is a running API over a real embedded NATS server (testworld), reached over
// the wire.
type harness struct {
	t     testing.TB
	url   string
	world *testworld.World
	store *jsstore.Store
	svc   *service.Service
	views *jsviews.Views
	index *query.Index
}

// settle waits until every view has applied every stored event.
func (h *harness) settle() { h.t.Helper(); h.world.Settle() }

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	w := testworld.Start(tb, testworld.Options{Views: true})
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Service: w.Svc, Views: w.Views, Index: w.Index, Sessions: w.Sessions}))
	tb.Cleanup(srv.Close)
	return &harness{t: tb, url: srv.URL, world: w, store: w.Store, svc: w.Svc, views: w.Views, index: w.Index}
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r reply) str(key string) string { s, _ := r.body[key].(string); return s }

// problemFields lists the fields a problem+json reply names.
func (r reply) problemFields() []string {
	var out []string
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		out = append(out, f)
	}
	return out
}

func (h *harness) do(method, path, token string, body any, headers ...string) reply {
	h.t.Helper()
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func (h *harness) must(want int, r reply) reply {
	h.t.Helper()
	if r.status != want {
		h.t.Fatalf("status %d, want %d: %s", r.status, want, r.raw)
	}
	return r
}

func (h *harness) count() uint64 { h.t.Helper(); return h.world.Count() }

// world is a small district: two lanes, members in one community and another, tokens.
type world struct {
	steward, steward2, otherSteward string // steward2 shares the lane; otherSteward has lane B only
	member, member2, outsider       string // member tokens: m-1, m-2 (same community), m-9 (other)
	auditor, operator               string
	// Community and street staff: taoyuan's, yingchun's, dongcheng's and xicheng's.
	taoyuan, yingchun, dongcheng, xicheng string
}

func (h *harness) seed() world {
	h.t.Helper()
	h.must(201, h.do("POST", "/api/v1/lanes", adminToken, map[string]any{"id": "rouqiao-houxiang", "name": "柔桥后巷", "community": "taoyuan", "street": "dongcheng"}))
	h.must(201, h.do("POST", "/api/v1/lanes", adminToken, map[string]any{"id": "wudongqiao", "name": "五洞桥", "community": "yingchun", "street": "xicheng"}))
	for _, m := range []map[string]any{
		{"id": "m-1", "name": "李明", "community": "taoyuan", "skills": []string{"repair"}, "teams": []string{"红色方舟"}},
		{"id": "m-2", "name": "陈静", "community": "taoyuan"},
		{"id": "m-9", "name": "王律师", "community": "yingchun"},
	} {
		h.must(201, h.do("POST", "/api/v1/members", adminToken, m))
	}
	tok := func(body map[string]any) string {
		return h.must(201, h.do("POST", "/api/v1/tokens", adminToken, body)).str("token")
	}
	return world{
		steward:      tok(map[string]any{"role": "steward", "lanes": []string{"rouqiao-houxiang"}, "name": "王芳"}),
		steward2:     tok(map[string]any{"role": "steward", "lanes": []string{"rouqiao-houxiang"}, "name": "张强"}),
		otherSteward: tok(map[string]any{"role": "steward", "lanes": []string{"wudongqiao"}, "name": "刘洋"}),
		member:       tok(map[string]any{"role": "member", "member": "m-1", "name": "李明"}),
		member2:      tok(map[string]any{"role": "member", "member": "m-2", "name": "陈静"}),
		outsider:     tok(map[string]any{"role": "member", "member": "m-9", "name": "王律师"}),
		auditor:      tok(map[string]any{"role": "auditor", "name": "审计"}),
		operator:     tok(map[string]any{"role": "operator", "name": "96345"}),
	}
}

// seedOffices seeds the world, registers its streets and communities by name, and issues
// tokens to their staff.
func (h *harness) seedOffices() world {
	h.t.Helper()
	w := h.seed()
	for _, p := range []struct{ path, id, name, street string }{
		{"/api/v1/streets", "dongcheng", "东城街道", ""}, {"/api/v1/streets", "xicheng", "西城街道", ""},
		{"/api/v1/communities", "taoyuan", "塔苑社区", "dongcheng"}, {"/api/v1/communities", "yingchun", "迎春社区", "xicheng"},
	} {
		body := map[string]any{"id": p.id, "name": p.name}
		if p.street != "" {
			body["street"] = p.street
		}
		h.must(201, h.do("POST", p.path, adminToken, body))
	}
	tok := func(body map[string]any) string {
		return h.must(201, h.do("POST", "/api/v1/tokens", adminToken, body)).str("token")
	}
	w.taoyuan = tok(map[string]any{"role": "community", "communities": []string{"taoyuan"}, "name": "塔苑社区"})
	w.yingchun = tok(map[string]any{"role": "community", "communities": []string{"yingchun"}, "name": "迎春社区"})
	w.dongcheng = tok(map[string]any{"role": "street", "streets": []string{"dongcheng"}, "name": "东城街道"})
	w.xicheng = tok(map[string]any{"role": "street", "streets": []string{"xicheng"}, "name": "西城街道"})
	return w
}

var request = map[string]any{
	"lane": "rouqiao-houxiang", "category": "repair", "title": "楼道灯不亮了",
	"description": "三单元二楼的感应灯坏了一周，老人晚上下楼不方便。",
	"requester":   map[string]any{"name": "张阿姨", "phone": "13812345678"},
	"mode":        "instant", "channel": "station", "priority": "normal",
}

func (h *harness) submit() reply {
	h.t.Helper()
	return h.must(201, h.do("POST", "/api/v1/orders", "", request))
}

func TestOrderLife(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	sub := h.submit()
	id, receipt := sub.str("id"), sub.str("receipt")
	if sub.str("status") != "open" || sub.body["version"] != 1.0 || receipt == "" || sub.str("number") == "" {
		t.Fatalf("submit answered %s", sub.raw)
	}
	path := "/api/v1/orders/" + id
	h.must(200, h.do("POST", path+"/dispatch", w.steward, map[string]any{"member": "m-1"}))
	h.must(200, h.do("POST", path+"/accept", w.member, nil))
	h.must(200, h.do("POST", path+"/note", w.member, map[string]any{"text": "已买好灯泡", "internal": false}))
	h.must(200, h.do("POST", path+"/complete", w.member, map[string]any{"note": "换了感应灯", "minutes": 40}))
	rated := h.must(200, h.do("POST", path+"/rate", "", map[string]any{"solved": true, "stars": 5, "comment": "很及时，谢谢！", "receipt": receipt}))
	if rated.str("status") != "closed" || rated.body["version"] != 6.0 {
		t.Fatalf("after rating: %s", rated.raw)
	}

	got := h.must(200, h.do("GET", path, w.steward, nil))
	for k, want := range map[string]string{"title": "楼道灯不亮了", "description": request["description"].(string), "assignee": "m-1", "community": "taoyuan", "street": "dongcheng", "escalation": "lane"} {
		if got.str(k) != want {
			t.Errorf("%s = %q, want %q", k, got.str(k), want)
		}
	}
	rating, _ := got.body["rating"].(map[string]any)
	if rating["stars"] != 5.0 || rating["solved"] != true || rating["comment"] != "很及时，谢谢！" {
		t.Errorf("rating = %v", rating)
	}

	evs := h.must(200, h.do("GET", path+"/events", w.auditor, nil))
	items, _ := evs.body["items"].([]any)
	wantTypes := []string{order.TypeSubmitted, order.TypeDispatched, order.TypeAccepted, order.TypeNoted, order.TypeCompleted, order.TypeRated}
	if len(items) != len(wantTypes) {
		t.Fatalf("%d events, want %d: %s", len(items), len(wantTypes), evs.raw)
	}
	for i, it := range items {
		e := it.(map[string]any)
		if e["type"] != wantTypes[i] || e["aggregateversion"] != float64(i+1) || e["specversion"] != "1.0" || e["subject"] != "order/"+id {
			t.Errorf("event %d = %v", i, e)
		}
	}
	// The resident reads their order with the receipt.
	mine := h.must(200, h.do("GET", path, "", nil, "X-Receipt", receipt))
	if mine.str("status") != "closed" {
		t.Errorf("resident sees %s", mine.raw)
	}
}

func TestUnsolvedRatingReopens(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	sub := h.submit()
	path := "/api/v1/orders/" + sub.str("id")
	h.must(200, h.do("POST", path+"/claim", w.member, nil))
	h.must(200, h.do("POST", path+"/complete", w.member, map[string]any{"note": "修好了", "minutes": 20}))
	r := h.must(200, h.do("POST", path+"/rate", w.steward, map[string]any{"solved": false, "stars": 4, "comment": "回访：服务满意，但灯又坏了"}))
	if r.str("status") != "open" || r.body["assignee"] != nil {
		t.Fatalf("unsolved rating left %s", r.raw)
	}
}

func TestRefusalsWriteNothing(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	open := h.submit()
	openPath := "/api/v1/orders/" + open.str("id")
	mine := h.submit()
	minePath := "/api/v1/orders/" + mine.str("id")
	h.must(200, h.do("POST", minePath+"/dispatch", w.steward, map[string]any{"member": "m-1"}))

	big := `{"lane":"rouqiao-houxiang","title":"` + strings.Repeat("长", 70_000) + `"}`
	cases := []struct {
		name    string
		method  string
		path    string
		token   string
		body    any
		headers []string
		status  int
		field   string
	}{
		{"malformed JSON", "POST", "/api/v1/orders", "", `{"lane": "rouqiao-houxiang",`, nil, 400, "body"},
		{"missing title", "POST", "/api/v1/orders", "", map[string]any{"lane": "rouqiao-houxiang", "category": "repair", "requester": map[string]any{"name": "张阿姨", "phone": "13812345678"}}, nil, 400, "title"},
		{"wrong type", "POST", "/api/v1/orders", "", map[string]any{"lane": 7}, nil, 400, "lane"},
		{"unknown lane", "POST", "/api/v1/orders", "", map[string]any{"lane": "nowhere", "category": "repair", "title": "x", "requester": map[string]any{"name": "a", "phone": "13812345678"}}, nil, 400, "lane"},
		{"unknown category", "POST", "/api/v1/orders", "", map[string]any{"lane": "rouqiao-houxiang", "category": "magic", "title": "x", "requester": map[string]any{"name": "a", "phone": "13812345678"}}, nil, 400, "category"},
		{"body over 64 KiB", "POST", "/api/v1/orders", "", big, nil, 413, ""},
		{"not JSON", "POST", "/api/v1/orders", "", "lane=x", []string{"Content-Type", "text/plain"}, 415, ""},
		{"bad token on submit", "POST", "/api/v1/orders", "nonsense", request, nil, 401, ""},
		{"stars 6", "POST", minePath + "/rate", "", map[string]any{"solved": true, "stars": 6, "receipt": mine.str("receipt")}, nil, 400, "stars"},
		{"empty note", "POST", minePath + "/note", w.steward, map[string]any{"text": "  "}, nil, 400, "text"},
		{"unknown order", "POST", "/api/v1/orders/no-such-order/dispatch", w.steward, map[string]any{"member": "m-1"}, nil, 404, ""},
		{"unknown member", "POST", openPath + "/dispatch", w.steward, map[string]any{"member": "m-404"}, nil, 400, "member"},
		{"unknown action", "POST", openPath + "/teleport", w.steward, map[string]any{}, nil, 404, ""},
		{"no token", "POST", openPath + "/dispatch", "", map[string]any{"member": "m-1"}, nil, 401, ""},
		{"bad token", "POST", openPath + "/dispatch", "rl_forged", map[string]any{"member": "m-1"}, nil, 401, ""},
		{"member dispatching", "POST", openPath + "/dispatch", w.member, map[string]any{"member": "m-1"}, nil, 403, ""},
		{"steward of another lane", "POST", openPath + "/dispatch", w.otherSteward, map[string]any{"member": "m-1"}, nil, 403, ""},
		{"auditor writing", "POST", openPath + "/dispatch", w.auditor, map[string]any{"member": "m-1"}, nil, 403, ""},
		{"auditor submitting", "POST", "/api/v1/orders", w.auditor, request, nil, 403, ""},
		{"member acting on another's order", "POST", minePath + "/accept", w.member2, nil, nil, 403, ""},
		{"member of another community claiming", "POST", openPath + "/claim", w.outsider, nil, nil, 403, ""},
		{"transition the state does not allow", "POST", minePath + "/dispatch", w.steward, map[string]any{"member": "m-2"}, nil, 409, ""},
		{"complete before accepting", "POST", minePath + "/complete", w.member, map[string]any{"note": "x", "minutes": 5}, nil, 409, ""},
		{"stale If-Match", "POST", openPath + "/note", w.steward, map[string]any{"text": "回访"}, []string{"If-Match", `"7"`}, 409, ""},
		{"bad If-Match", "POST", openPath + "/note", w.steward, map[string]any{"text": "回访"}, []string{"If-Match", "yesterday"}, 400, "If-Match"},
		{"wrong receipt", "POST", openPath + "/cancel", "", map[string]any{"reason": "不需要了", "receipt": "guess"}, nil, 401, ""},
		{"another order's receipt", "POST", openPath + "/cancel", "", map[string]any{"reason": "不需要了", "receipt": mine.str("receipt")}, nil, 401, ""},
		{"missing rate answer", "POST", minePath + "/rate", w.steward, map[string]any{"stars": 3}, nil, 400, "solved"},
		{"non-admin issuing a token", "POST", "/api/v1/tokens", w.steward, map[string]any{"role": "admin"}, nil, 403, ""},
		{"token for an unknown lane", "POST", "/api/v1/tokens", adminToken, map[string]any{"role": "steward", "lanes": []string{"atlantis"}}, nil, 400, "lanes[0]"},
		{"lane with a bad id", "POST", "/api/v1/lanes", adminToken, map[string]any{"id": "a b", "name": "x", "community": "c", "street": "s"}, nil, 400, "id"},
		{"lane registered twice", "POST", "/api/v1/lanes", adminToken, map[string]any{"id": "wudongqiao", "name": "五洞桥", "community": "yingchun", "street": "xicheng"}, nil, 409, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.count()
			r := h.do(c.method, c.path, c.token, c.body, c.headers...)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			if r.body["status"] != float64(c.status) || r.str("title") == "" || r.str("detail") == "" || r.str("type") == "" {
				t.Errorf("problem lacks type, title, status or detail: %s", r.raw)
			}
			if c.field != "" && !strings.Contains(strings.Join(r.problemFields(), ","), c.field) {
				t.Errorf("problem names fields %v, want %q: %s", r.problemFields(), c.field, r.raw)
			}
			if after := h.count(); after != before {
				t.Errorf("the stream went from %d to %d messages", before, after)
			}
		})
	}
}

func TestConcurrentDispatchOneWins(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	for i := range 10 {
		path := "/api/v1/orders/" + h.submit().str("id")
		before := h.count()
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for j, tok := range []string{w.steward, w.steward2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[j] = h.do("POST", path+"/dispatch", tok, map[string]any{"member": []string{"m-1", "m-2"}[j]}).status
			}()
		}
		wg.Wait()
		if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
			t.Fatalf("round %d: codes %v, want one 200 and one 409", i, codes)
		}
		if got := h.count() - before; got != 1 {
			t.Fatalf("round %d: %d events stored, want 1", i, got)
		}
	}
}

func TestIfMatch(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	sub := h.submit()
	path := "/api/v1/orders/" + sub.str("id")
	r := h.must(200, h.do("POST", path+"/dispatch", w.steward, map[string]any{"member": "m-1"}, "If-Match", `"1"`))
	if r.header.Get("ETag") != `"2"` {
		t.Errorf("ETag %q, want \"2\"", r.header.Get("ETag"))
	}
	r = h.must(409, h.do("POST", path+"/reassign", w.steward2, map[string]any{"member": "m-2", "reason": "李明出差"}, "If-Match", `"1"`))
	if r.str("code") != "order.version-mismatch" || r.str("type") != "urn:redlane:problem:order.version-mismatch" {
		t.Errorf("a stale If-Match: code %q, type %q", r.str("code"), r.str("type"))
	}
	h.must(200, h.do("POST", path+"/reassign", w.steward2, map[string]any{"member": "m-2", "reason": "李明出差"}, "If-Match", `"2"`))
	// A transition the order's state does not allow is a conflict of another kind.
	r = h.must(409, h.do("POST", path+"/dispatch", w.steward, map[string]any{"member": "m-1"}))
	if r.str("code") != "order.transition-refused" {
		t.Errorf("dispatching a dispatched order: code %q", r.str("code"))
	}
}

func TestIdempotentSubmit(t *testing.T) {
	h := newHarness(t)
	h.seed()
	before := h.count()
	var wg sync.WaitGroup
	replies := make([]reply, 4)
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = h.do("POST", "/api/v1/orders", "", request, "Idempotency-Key", "kiosk-7-0001")
		}()
	}
	wg.Wait()
	for _, r := range replies {
		h.must(201, r)
		if r.str("id") != replies[0].str("id") || r.str("receipt") != replies[0].str("receipt") || r.str("number") != replies[0].str("number") {
			t.Fatalf("retries answered differently: %s vs %s", r.raw, replies[0].raw)
		}
	}
	if got := h.count() - before; got != 1 {
		t.Fatalf("%d events stored, want 1", got)
	}
	other := map[string]any{}
	for k, v := range request {
		other[k] = v
	}
	other["title"] = "另一件事"
	if r := h.must(409, h.do("POST", "/api/v1/orders", "", other, "Idempotency-Key", "kiosk-7-0001")); r.str("code") != "idempotency.key-reused" {
		t.Errorf("a reused key: code %q", r.str("code"))
	}
	if got := h.count() - before; got != 1 {
		t.Fatalf("%d events stored after the reused key, want 1", got)
	}
}

func TestPhoneMasking(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	sub := h.submit()
	path := "/api/v1/orders/" + sub.str("id")
	phone := func(r reply) string {
		req, _ := r.body["requester"].(map[string]any)
		s, _ := req["phone"].(string)
		return s
	}
	if p := phone(sub); p != "138****5678" {
		t.Errorf("the resident's submit reply shows %q", p)
	}
	if p := phone(h.must(200, h.do("GET", path, w.steward, nil))); p != "13812345678" {
		t.Errorf("the lane's steward sees %q, want the whole number", p)
	}
	for name, tok := range map[string]string{"member": w.member, "auditor": w.auditor, "operator": w.operator, "admin": adminToken} {
		r := h.must(200, h.do("GET", path, tok, nil))
		if p := phone(r); p != "138****5678" {
			t.Errorf("%s sees %q", name, p)
		}
		if strings.Contains(string(r.raw), "12345678") {
			t.Errorf("%s's reply holds the whole number: %s", name, r.raw)
		}
	}
	r := h.must(200, h.do("GET", path, "", nil, "X-Receipt", sub.str("receipt")))
	if p := phone(r); p != "138****5678" {
		t.Errorf("the public sees %q", p)
	}
	h.must(403, h.do("GET", path, w.otherSteward, nil))
	h.must(403, h.do("GET", path, w.outsider, nil))
	h.must(401, h.do("GET", path, "", nil))
}

func TestRevokedTokenStopsAtOnce(t *testing.T) {
	h := newHarness(t)
	h.seed()
	tok := h.must(201, h.do("POST", "/api/v1/tokens", adminToken, map[string]any{"role": "auditor", "name": "临时"}))
	h.must(200, h.do("GET", "/api/v1/lanes", tok.str("token"), nil))
	h.must(204, h.do("DELETE", "/api/v1/tokens/"+tok.str("id"), adminToken, nil))
	h.must(401, h.do("GET", "/api/v1/lanes", tok.str("token"), nil))
	h.must(404, h.do("DELETE", "/api/v1/tokens/"+uuid.NewString(), adminToken, nil))
}

func TestResidentCancelsOnlyWhileOpen(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	a, b := h.submit(), h.submit()
	h.must(200, h.do("POST", "/api/v1/orders/"+a.str("id")+"/cancel", "", map[string]any{"reason": "已自行解决", "receipt": a.str("receipt")}))
	h.must(200, h.do("POST", "/api/v1/orders/"+b.str("id")+"/dispatch", w.steward, map[string]any{"member": "m-1"}))
	h.must(409, h.do("POST", "/api/v1/orders/"+b.str("id")+"/cancel", "", map[string]any{"reason": "不要了"}, "X-Receipt", b.str("receipt")))
}

func TestEveryRouteAnswersProblemJSONWithoutToken(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/api/v1/lanes", "/api/v1/members"} {
		r := h.must(401, h.do("GET", p, "", nil))
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", p)
		}
	}
	h.must(404, h.do("GET", "/api/v1/nothing-here", adminToken, nil))
}

// TestWrongMethodIs405WithAllow: a route that exists under other methods answers 405
// naming them; a path no route serves answers 404.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		method, path, allow string
	}{
		{"DELETE", "/api/v1/orders", "GET, HEAD, POST"},
		{"PUT", "/api/v1/lanes/rouqiao-houxiang/backlog", "GET, HEAD"},
		{"GET", "/api/v1/privacy/erase", "POST"},
	} {
		r := h.do(c.method, c.path, "", nil)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != c.allow || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s %s: %d, Allow %q; want 405, Allow %q: %s", c.method, c.path, r.status, r.header.Get("Allow"), c.allow, r.raw)
		}
	}
	if r := h.do("GET", "/api/v1/nothing-here", "", nil); r.status != http.StatusNotFound || r.header.Get("Allow") != "" {
		t.Errorf("an unknown path: %d, Allow %q", r.status, r.header.Get("Allow"))
	}
}

// TestIdempotencyKeysAreTheCallers: a key is among its caller's own. An anonymous client
// that takes the hotline's (predictable) key gets an order of its own, and the
// hotline's urgent request still goes through, once.
func TestIdempotencyKeysAreTheCallers(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	urgent := map[string]any{"lane": "rouqiao-houxiang", "category": "repair", "title": "老人摔倒了",
		"requester": map[string]any{"name": "李大爷", "phone": "13900001111"}, "channel": "hotline", "priority": "urgent"}
	squatter := h.must(201, h.do("POST", "/api/v1/orders", "", request, "Idempotency-Key", "hotline-0001"))
	first := h.must(201, h.do("POST", "/api/v1/orders", w.operator, urgent, "Idempotency-Key", "hotline-0001"))
	retry := h.must(201, h.do("POST", "/api/v1/orders", w.operator, urgent, "Idempotency-Key", "hotline-0001"))
	if first.str("id") == squatter.str("id") || retry.str("id") != first.str("id") {
		t.Fatalf("squatter %s, hotline %s, retry %s", squatter.str("id"), first.str("id"), retry.str("id"))
	}
	// Another token's use of the same key is its own too.
	other := h.must(201, h.do("POST", "/api/v1/orders", w.steward, urgent, "Idempotency-Key", "hotline-0001"))
	if other.str("id") == first.str("id") {
		t.Error("a steward's key collided with the hotline's")
	}
}

// TestControlCharactersAreRefused: text that would rewrite a terminal or hide itself on a
// screen is refused with 400 naming the field, and writes nothing.
func TestControlCharactersAreRefused(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	id := h.submit().str("id")
	before := h.count()
	bad := func(field string, body map[string]any, path, token string) {
		t.Helper()
		r := h.must(400, h.do("POST", path, token, body))
		if fs := r.problemFields(); len(fs) == 0 || fs[0] != field {
			t.Errorf("%s: fields %v, want %s", path, fs, field)
		}
	}
	sub := map[string]any{}
	for k, v := range request {
		sub[k] = v
	}
	sub["title"] = "灯坏了\x1b[2J"
	bad("title", sub, "/api/v1/orders", "")
	sub["title"], sub["description"] = "灯坏了", "已修好\r（其实没有）"
	bad("description", sub, "/api/v1/orders", "")
	sub["description"], sub["requester"] = "", map[string]any{"name": "张\u202e姨", "phone": "13812345678"}
	bad("requester.name", sub, "/api/v1/orders", "")
	bad("text", map[string]any{"text": "备注\x00"}, "/api/v1/orders/"+id+"/note", w.steward)
	if got := h.count() - before; got != 0 {
		t.Errorf("%d events written by refused requests", got)
	}
	// A note over several lines, as a textarea sends it, goes through.
	h.must(200, h.do("POST", "/api/v1/orders/"+id+"/note", w.steward, map[string]any{"text": "第一行\r\n第二行"}))
}
