package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/adapters/memstore"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

// limited is an API over an in-memory store with one lane and an operator's token.
type limited struct {
	api      *API
	store    *memstore.Store
	operator string
}

func newLimited(t *testing.T, cfg Config) limited {
	t.Helper()
	store := memstore.New()
	n := 0
	svc := service.New(service.Config{
		Store: store, Clock: domain.ClockFunc(time.Now), NewID: func() string { n++; return fmt.Sprint("id-", n) },
		Catalog: order.DefaultCatalog(), AdminToken: "admin", ReceiptKey: []byte("k"),
	})
	ctx, admin := context.Background(), svc.Meta(service.Admin, "")
	if _, err := svc.RegisterLane(ctx, admin, "rouqiao-houxiang", lane.Register{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng"}); err != nil {
		t.Fatal(err)
	}
	_, op, err := svc.IssueToken(ctx, admin, access.Issue{Role: domain.RoleOperator, Name: "96345"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Service = svc
	return limited{api: New(cfg), store: store, operator: op}
}

const submitBody = `{"lane":"rouqiao-houxiang","category":"repair","title":"楼道灯不亮了","requester":{"name":"张阿姨","phone":"13812345678"}}`

// submit posts an order from addr, with a token when token is not "".
func (l limited) submit(addr, token string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/api/v1/orders", strings.NewReader(submitBody))
	req.RemoteAddr = addr
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	l.api.ServeHTTP(rec, req)
	return rec
}

func TestIntakeIsLimitedPerAddress(t *testing.T) {
	l := newLimited(t, Config{IntakeRate: 0.001, IntakeBurst: 3})
	for i := range 3 {
		if rec := l.submit("192.0.2.1:1000", ""); rec.Code != 201 {
			t.Fatalf("submit %d within the burst: %d %s", i+1, rec.Code, rec.Body.Bytes())
		}
	}
	before := l.store.LastSeq()
	rec := l.submit("192.0.2.1:1001", "")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("a fourth submit from one address: %d %s", rec.Code, rec.Body.Bytes())
	}
	if secs, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	var p problem
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil ||
		p.Status != 429 || p.Type != "urn:redlane:problem:too-many-requests" || p.Detail == "" {
		t.Errorf("429 is not problem+json (%s): %s", ct, rec.Body.Bytes())
	}
	if l.store.LastSeq() != before {
		t.Error("a limited submit wrote events")
	}
	if rec := l.submit("192.0.2.2:1000", ""); rec.Code != 201 {
		t.Errorf("another address was limited too: %d", rec.Code)
	}
	if rec := l.submit("[2001:db8::1]:1000", ""); rec.Code != 201 {
		t.Errorf("an IPv6 address was limited: %d", rec.Code)
	}
	if rec := l.submit("192.0.2.1:1002", l.operator); rec.Code != 201 {
		t.Errorf("the operator, submitting from the limited address with a token, got %d", rec.Code)
	}
	// Reads, and actions on orders, are not intake.
	req := httptest.NewRequest("GET", "/api/v1/categories", nil)
	req.RemoteAddr = "192.0.2.1:1003"
	get := httptest.NewRecorder()
	l.api.ServeHTTP(get, req)
	if get.Code != 200 {
		t.Errorf("GET categories from the limited address: %d", get.Code)
	}
}

func TestIntakeLimitDefaultsAndOff(t *testing.T) {
	l := newLimited(t, Config{})
	for i := range DefaultIntakeBurst {
		if rec := l.submit("192.0.2.1:1", ""); rec.Code != 201 {
			t.Fatalf("default limits: submit %d: %d", i+1, rec.Code)
		}
	}
	if rec := l.submit("192.0.2.1:1", ""); rec.Code != 429 {
		t.Fatalf("default limits: submit %d: %d, want 429", DefaultIntakeBurst+1, rec.Code)
	}
	off := newLimited(t, Config{IntakeRate: -1})
	for i := range 2 * DefaultIntakeBurst {
		if rec := off.submit("192.0.2.1:1", ""); rec.Code != 201 {
			t.Fatalf("limits off: submit %d: %d", i+1, rec.Code)
		}
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	l := newLimited(t, Config{IntakeRate: 0.001, IntakeBurst: 1})
	want := map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	}
	answers := map[string]*httptest.ResponseRecorder{
		"201": l.submit("192.0.2.9:1", ""),
		"429": l.submit("192.0.2.9:1", ""),
		"400": l.submit("192.0.2.10:1", "", "Content-Type", "application/json"),
	}
	for _, p := range []string{"/healthz", "/readyz", "/api/v1/categories", "/api/v1/lanes", "/nowhere"} {
		rec := httptest.NewRecorder()
		l.api.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		answers["GET "+p] = rec
	}
	for name, rec := range answers {
		for k, v := range want {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s (%d): %s is %q, want %q", name, rec.Code, k, got, v)
			}
		}
	}
}

func TestLimiterRefillsAndForgets(t *testing.T) {
	l := NewLimiter(2, 4) // 4 at once, then one every half second; idle after 2 s
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	for i := range 4 {
		if ok, _ := l.allowAt("a", t0); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allowAt("a", t0)
	if ok || wait <= 0 || wait > 500*time.Millisecond {
		t.Fatalf("beyond the burst: %v, wait %s", ok, wait)
	}
	if ok, _ := l.allowAt("a", t0.Add(wait)); !ok {
		t.Fatalf("refused after waiting the %s it said", wait)
	}
	if ok, _ := l.allowAt("b", t0.Add(wait)); !ok || l.Len() != 2 {
		t.Fatalf("a second key: %v, %d keys", ok, l.Len())
	}
	// Once a bucket would be full again, the key is forgotten.
	l.allowAt("c", t0.Add(10*time.Second))
	if l.Len() != 1 {
		t.Fatalf("%d keys remembered after the others went idle, want 1", l.Len())
	}
}

func TestLimiterBoundsItsMemory(t *testing.T) {
	l := NewLimiter(1, 1)
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	for i := range maxKeys + 10 {
		l.allowAt(strconv.Itoa(i), t0)
	}
	if n := l.Len(); n > maxKeys+1 {
		t.Fatalf("%d keys remembered, bound %d", n, maxKeys)
	}
	// New keys now share the overflow bucket, which the first of them emptied.
	if ok, _ := l.allowAt("new", t0); ok {
		t.Fatal("a new key got a bucket of its own while the limiter was full")
	}
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct", "192.0.2.1:5000", nil, "192.0.2.1"},
		{"direct ignores X-Forwarded-For", "192.0.2.1:5000", []string{"198.51.100.7"}, "192.0.2.1"},
		{"through a proxy", "10.0.0.2:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"a forged hop before the proxy's", "10.0.0.2:5000", []string{"203.0.113.9, 198.51.100.7"}, "198.51.100.7"},
		{"two proxies", "10.0.0.2:5000", []string{"198.51.100.7, 10.0.0.3"}, "198.51.100.7"},
		{"header lines", "10.0.0.2:5000", []string{"203.0.113.9", "198.51.100.7"}, "198.51.100.7"},
		{"a garbled hop", "10.0.0.2:5000", []string{"198.51.100.7, nonsense"}, "10.0.0.2"},
		{"only proxies", "10.0.0.2:5000", []string{"10.0.0.9"}, "10.0.0.9"},
		{"IPv6 proxy", "[::1]:5000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv4 in IPv6", "[::ffff:192.0.2.1]:5000", nil, "192.0.2.1"},
		{"no port", "192.0.2.1", nil, "192.0.2.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientIP(r, proxies); got != tc.want {
				t.Errorf("ClientIP = %q, want %q", got, tc.want)
			}
		})
	}
}
