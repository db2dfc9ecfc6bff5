package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	"github.com/redlane/redlane/internal/testworld"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/web"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

const adminToken = testworld.AdminToken

// harness is the pages and the API over a real embedded NATS server (testworld), as
// redlane serve mounts them, reached over the wire.
type harness struct {
	t     testing.TB
	url   string
	srv   *httptest.Server
	world *testworld.World
	store *jsstore.Store
	svc   *service.Service
	views *jsviews.Views
	index *query.Index
}

// advance moves the service's clock ahead by d, so deadlines can pass.
func (h *harness) advance(d time.Duration) { h.world.Advance(d) }

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	w := testworld.Start(tb, testworld.Options{Views: true})
	api := httpapi.New(httpapi.Config{Service: w.Svc, Views: w.Views, Index: w.Index, Sessions: w.Sessions})
	pages := web.New(web.Config{Service: w.Svc, Views: w.Views, Index: w.Index, Sessions: w.Sessions})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.ServeHTTP(rw, r)
			return
		}
		pages.ServeHTTP(rw, r)
	}))
	tb.Cleanup(func() {
		srv.CloseClientConnections() // live streams end with their connections
		srv.Close()
	})
	return &harness{t: tb, url: srv.URL, srv: srv, world: w, store: w.Store, svc: w.Svc, views: w.Views, index: w.Index}
}

// settle waits until every view has applied every stored event.
func (h *harness) settle() { h.t.Helper(); h.world.Settle() }

func (h *harness) count() uint64 { h.t.Helper(); return h.world.Count() }

// world is a small district: two lanes in two communities, members, tokens.
type world struct {
	steward, otherSteward string // otherSteward has the other lane only
	member, member2       string // m-001 (repair), m-002: both of taoyuan
	outsider              string // m-009, of yingchun
	auditor, operator     string
}

func (h *harness) seed() world {
	h.t.Helper()
	ctx := context.Background()
	m := h.svc.Meta(service.Admin, "")
	for id, l := range map[string]lane.Register{
		"rouqiao-houxiang": {Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng", Station: "柔桥后巷驿站"},
		"wudongqiao":       {Name: "五洞桥", Community: "yingchun", Street: "xicheng", Station: "五洞桥驿站"},
	} {
		if _, err := h.svc.RegisterLane(ctx, m, id, l); err != nil {
			h.t.Fatal(err)
		}
	}
	for id, p := range map[string]member.Register{
		"m-001": {Name: "李明", Community: "taoyuan", Skills: []string{"repair", "electrical"}, Teams: []string{"红色方舟"}},
		"m-002": {Name: "陈静", Community: "taoyuan", Skills: []string{"counselling"}, Teams: []string{"姐妹帮帮团"}},
		"m-009": {Name: "王律师", Community: "yingchun", Skills: []string{"legal"}},
	} {
		if _, err := h.svc.RegisterMember(ctx, m, id, p); err != nil {
			h.t.Fatal(err)
		}
	}
	tok := func(i access.Issue) string {
		_, secret, err := h.svc.IssueToken(ctx, m, i)
		if err != nil {
			h.t.Fatal(err)
		}
		return secret
	}
	return world{
		steward:      tok(access.Issue{Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang"}, Name: "王芳"}),
		otherSteward: tok(access.Issue{Role: domain.RoleSteward, Lanes: []string{"wudongqiao"}, Name: "赵强"}),
		member:       tok(access.Issue{Role: domain.RoleMember, Member: "m-001", Name: "李明"}),
		member2:      tok(access.Issue{Role: domain.RoleMember, Member: "m-002", Name: "陈静"}),
		outsider:     tok(access.Issue{Role: domain.RoleMember, Member: "m-009", Name: "王律师"}),
		auditor:      tok(access.Issue{Role: domain.RoleAuditor, Name: "审计员"}),
		operator:     tok(access.Issue{Role: domain.RoleOperator, Name: "96345 接线员"}),
	}
}

// submit places an order as a resident and returns its id and receipt.
func (h *harness) submit(title, category string) (string, string) {
	h.t.Helper()
	return h.submitWith(order.Submit{Category: category, Title: title, Description: "三单元二楼的感应灯坏了",
		Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"}, Channel: order.ChannelWeb})
}

// submitWith places an order in rouqiao-houxiang as a resident.
func (h *harness) submitWith(sub order.Submit) (string, string) {
	h.t.Helper()
	snap, _, err := h.svc.Submit(context.Background(), h.svc.Meta(service.Resident, ""), service.SubmitRequest{
		LaneID: "rouqiao-houxiang", Submit: sub,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return snap.ID, h.svc.Receipt(snap.ID)
}

// act runs an order command as the holder of token.
func (h *harness) act(token, id string, cmd order.Command) {
	h.t.Helper()
	a, err := h.svc.Authenticate(token)
	if err == nil {
		_, err = h.svc.Act(context.Background(), h.svc.Meta(a, ""), id, cmd, 0)
	}
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) status(id string) order.Status {
	h.t.Helper()
	snap, err := h.svc.Order(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return snap.State.Status
}

// browser is an HTTP client with a cookie jar that does not follow redirects, so that
// tests see each answer.
type browser struct {
	h      *harness
	client *http.Client
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (p page) location() string { return p.header.Get("Location") }

func (b *browser) do(method, path string, form url.Values, headers ...string) page {
	b.h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.h.url+path, body)
	if err != nil {
		b.h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

func (b *browser) get(path string, headers ...string) page { return b.do("GET", path, nil, headers...) }

func (b *browser) post(path string, form url.Values, headers ...string) page {
	return b.do("POST", path, form, headers...)
}

// cookie is the browser's session cookie.
func (b *browser) cookie(tb testing.TB) string {
	tb.Helper()
	u, _ := url.Parse(b.h.url)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == web.SessionCookie {
			return c.Value
		}
	}
	tb.Fatal("no session cookie")
	return ""
}

// signIn signs the browser in with token and returns the session's CSRF token, read
// from the page it lands on.
func (b *browser) signIn(token string) string {
	b.h.t.Helper()
	p := b.post("/signin", url.Values{"token": {token}})
	if p.status != http.StatusSeeOther {
		b.h.t.Fatalf("sign in: status %d: %s", p.status, p.body)
	}
	home := b.get(p.location())
	if home.status != http.StatusOK {
		b.h.t.Fatalf("sign in: home %s: status %d: %s", p.location(), home.status, home.body)
	}
	return csrfOf(b.h.t, home.body)
}

// csrfOf reads the CSRF token a page carries.
func csrfOf(tb testing.TB, body string) string {
	tb.Helper()
	const marker = `<meta name="csrf-token" content="`
	i := strings.Index(body, marker)
	if i < 0 {
		tb.Fatalf("the page carries no CSRF token: %.300s", body)
	}
	rest := body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func must(tb testing.TB, p page, status int, contains ...string) page {
	tb.Helper()
	if p.status != status {
		tb.Fatalf("status %d, want %d: %.2000s", p.status, status, p.body)
	}
	for _, c := range contains {
		if !strings.Contains(p.body, c) {
			tb.Fatalf("page lacks %q: %.3000s", c, p.body)
		}
	}
	return p
}

func decodeJSON(tb testing.TB, resp *http.Response, dst any) {
	tb.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(dst); err != nil {
		tb.Fatal(err)
	}
}

// between returns the text of s between the first start and the end after it.
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
