package open311_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/internal/testworld"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/open311"
	"github.com/redlane/redlane/projections/all"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

const adminToken = testworld.AdminToken

// harness is Redlane's HTTP API with Open311 mounted in front of it, as serve mounts it,
// over a real embedded NATS server with the views, the backlog index and the vault that
// seals residents.
type harness struct {
	t     testing.TB
	url   string
	store *jsstore.Store
	views *jsviews.Views
	index *query.Index
	o311  *open311.Server
	svc   *service.Service
}

// world is a small district's tokens.
type world struct {
	steward, member, auditor, operator string
}

func newHarness(tb testing.TB, cfg open311.Config) *harness {
	tb.Helper()
	w := testworld.Start(tb, testworld.Options{Views: true, Vault: true})
	svc, store, vs, index := w.Svc, w.Store, w.Views, w.Index
	cfg.Service, cfg.Log = svc, store
	o := open311.New(cfg)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = o.Run(runCtx); close(done) }()
	tb.Cleanup(func() { stop(); <-done })
	srv := httptest.NewServer(o.Mount(httpapi.New(httpapi.Config{Service: svc, Views: vs, Index: index})))
	tb.Cleanup(srv.Close)
	h := &harness{t: tb, url: srv.URL, store: store, views: vs, index: index, o311: o, svc: svc}
	h.eventually("the ledger catches up", func() bool { return o.Ready() == nil })
	return h
}

// reply is an answer as it came over the wire.
type reply struct {
	status int
	header http.Header
	raw    []byte
}

func (r reply) json(tb testing.TB, dst any) {
	tb.Helper()
	if err := json.Unmarshal(r.raw, dst); err != nil {
		tb.Fatalf("not JSON (%v): %s", err, r.raw)
	}
}

func (h *harness) do(req *http.Request) reply {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, raw: raw}
}

// get reads a path with a GET.
func (h *harness) get(path string) reply {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.url+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do(req)
}

// post sends form to path, URL-encoded.
func (h *harness) post(path string, form url.Values) reply {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.do(req)
}

// api calls Redlane's own API with a token and a JSON body (nil for none).
func (h *harness) api(method, path, token string, body any) reply {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return h.do(req)
}

func (h *harness) must(want int, r reply) reply {
	h.t.Helper()
	if r.status != want {
		h.t.Fatalf("status %d, want %d: %s", r.status, want, r.raw)
	}
	return r
}

// eventually waits up to ten seconds for cond.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle waits until every view has applied every stored event and the index has them.
func (h *harness) settle() {
	h.t.Helper()
	ctx := context.Background()
	for _, nv := range all.Views() {
		h.eventually("view "+nv().Name()+" catches up", func() bool {
			ok, err := h.views.CaughtUp(ctx, nv())
			return err == nil && ok
		})
	}
	h.eventually("the backlog index catches up", func() bool {
		cp, err := h.views.Checkpoint(ctx, backlog.Name)
		return err == nil && h.index.Seq() >= cp
	})
}

// seed registers two lanes, a member and the tokens of each role that matters here.
func (h *harness) seed() world {
	h.t.Helper()
	h.must(201, h.api("POST", "/api/v1/lanes", adminToken, map[string]any{"id": "rouqiao-houxiang", "name": "柔桥后巷", "community": "taoyuan", "street": "dongcheng", "station": "柔桥后巷驿站"}))
	h.must(201, h.api("POST", "/api/v1/lanes", adminToken, map[string]any{"id": "wudongqiao", "name": "五洞桥", "community": "yingchun", "street": "xicheng"}))
	h.must(201, h.api("POST", "/api/v1/members", adminToken, map[string]any{"id": "m-1", "name": "李明", "community": "taoyuan", "skills": []string{"repair"}}))
	tok := func(body map[string]any) string {
		var out struct{ Token string }
		h.must(201, h.api("POST", "/api/v1/tokens", adminToken, body)).json(h.t, &out)
		return out.Token
	}
	return world{
		steward:  tok(map[string]any{"role": "steward", "lanes": []string{"rouqiao-houxiang"}, "name": "王芳"}),
		member:   tok(map[string]any{"role": "member", "member": "m-1", "name": "李明"}),
		auditor:  tok(map[string]any{"role": "auditor", "name": "审计"}),
		operator: tok(map[string]any{"role": "operator", "name": "96345"}),
	}
}

// resident's details, which no GET may show.
const (
	residentFirst = "阿姨"
	residentLast  = "张"
	residentPhone = "13812345678"
)

// form is a request as a hotline vendor's tool places it.
func form(apiKey string, extra ...string) url.Values {
	v := url.Values{
		"api_key": {apiKey}, "service_code": {"repair"}, "address_id": {"rouqiao-houxiang"},
		"description": {"楼道灯不亮了\n三单元二楼的感应灯坏了一周，老人晚上下楼不方便。"},
		"first_name":  {residentFirst}, "last_name": {residentLast}, "phone": {residentPhone},
		"email": {"zhang@example.com"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			v.Del(extra[i])
			continue
		}
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// count is how many events the log holds.
func (h *harness) count() uint64 {
	h.t.Helper()
	n, err := h.store.MessageCount(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}
