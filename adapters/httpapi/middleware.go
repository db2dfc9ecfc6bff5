package httpapi

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The defaults of Config.IntakeRate and Config.IntakeBurst: a station kiosk or a
// household may place twenty requests at once and one a second after that.
const (
	DefaultIntakeRate  = 1.0
	DefaultIntakeBurst = 20
)

// securityHeaders are set on every answer of the API. The API serves JSON only, so its
// pages policy forbids everything; the web pages set their own.
var securityHeaders = map[string]string{
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
	"X-Frame-Options":         "DENY",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

// guard wraps every request before routing: security headers, and the public intake's
// rate limit.
func (a *API) guard(next http.Handler) http.Handler {
	r, burst := a.cfg.IntakeRate, a.cfg.IntakeBurst
	if r == 0 {
		r = DefaultIntakeRate
	}
	if burst == 0 {
		burst = DefaultIntakeBurst
	}
	intake := a.cfg.IntakeLimiter
	if intake == nil && r > 0 && burst > 0 {
		intake = NewLimiter(r, burst)
	}
	trusted := a.cfg.TrustedProxies
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := w.Header()
		for k, v := range securityHeaders {
			h.Set(k, v)
		}
		if intake != nil && publicIntake(req) {
			if ok, wait := intake.Allow(ClientIP(req, trusted)); !ok {
				TooManyRequests(w, req, wait)
				return
			}
		}
		next.ServeHTTP(w, req)
	})
}

// IntakeLimiter returns the limiter of public intake that a Config's IntakeRate and
// IntakeBurst describe, or nil when the limit is off.
func IntakeLimiter(r float64, burst int) *Limiter {
	if r == 0 {
		r = DefaultIntakeRate
	}
	if burst == 0 {
		burst = DefaultIntakeBurst
	}
	if r < 0 || burst < 0 {
		return nil
	}
	return NewLimiter(r, burst)
}

// LimitForm takes public submissions of a form (POST to path by a caller anonymous says
// is not signed in) from the limiter, answering 429 in Chinese with Retry-After when
// the address has none left.
func LimitForm(lim *Limiter, path string, trusted []netip.Prefix, anonymous func(*http.Request) bool, next http.Handler) http.Handler {
	if lim == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == path && anonymous(r) {
			if ok, wait := lim.Allow(ClientIP(r, trusted)); !ok {
				secs := max(1, int(math.Ceil(wait.Seconds())))
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprintf(w, "提交过于频繁，请 %d 秒后再试。\n", secs)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// publicIntake reports whether a request is a resident's submit: POST /api/v1/orders
// without a token. Submits with a token (stewards, operators) are not limited: their
// tokens answer for them.
func publicIntake(r *http.Request) bool {
	if r.Method != http.MethodPost || strings.TrimSuffix(r.URL.Path, "/") != "/api/v1/orders" {
		return false
	}
	_, sent := bearer(r)
	return !sent
}

// TooManyRequests answers 429 as problem+json, with Retry-After in whole seconds (at
// least one).
func TooManyRequests(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeProblem(w, r, slog.Default(), &httpError{status: http.StatusTooManyRequests,
		detail: fmt.Sprintf("too many requests from this address; try again in %d s", secs)})
}

// Limiter is a token bucket per key (a client address, say): each key may take burst
// requests at once and rate a second on average. It is safe for concurrent use, and
// forgets keys whose buckets have refilled, so it keeps memory in step with the
// clients seen recently. Public intake uses one; sign-in may use another.
type Limiter struct {
	rate  rate.Limit
	burst int
	idle  time.Duration // how long an untouched bucket takes to refill

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// maxKeys bounds the keys a Limiter keeps; beyond it, new keys share one bucket until
// old ones are forgotten, so a flood of addresses cannot exhaust memory.
const maxKeys = 100_000

// overflowKey is the bucket that new keys share while the Limiter is full.
const overflowKey = "\x00overflow"

// NewLimiter returns a limiter of r requests a second per key, in bursts of up to burst;
// both must be positive.
func NewLimiter(r float64, burst int) *Limiter {
	if r <= 0 || burst <= 0 {
		panic("httpapi: NewLimiter needs a positive rate and burst")
	}
	idle := time.Duration(float64(burst) / r * float64(time.Second))
	return &Limiter{rate: rate.Limit(r), burst: burst, idle: max(idle, time.Second), buckets: map[string]*bucket{}}
}

// Allow takes a token from key's bucket. When there is none it returns false and how
// long until there will be.
func (l *Limiter) Allow(key string) (bool, time.Duration) { return l.allowAt(key, time.Now()) }

func (l *Limiter) allowAt(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > l.idle || len(l.buckets) >= maxKeys {
		l.sweep(now)
	}
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxKeys {
			key = overflowKey
			b = l.buckets[key]
		}
		if b == nil {
			b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
			l.buckets[key] = b
		}
	}
	b.last = now
	res := b.lim.ReserveN(now, 1)
	if !res.OK() {
		return false, l.idle
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Peek reports whether key's bucket has a token, without taking it, and if not how long
// until it will.
func (l *Limiter) Peek(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		return true, 0
	}
	now := time.Now()
	if b.lim.TokensAt(now) >= 1 {
		return true, 0
	}
	res := b.lim.ReserveN(now, 1)
	d := res.DelayFrom(now)
	res.CancelAt(now)
	return false, max(d, time.Second)
}

// sweep forgets the buckets that have refilled: a new bucket would be the same.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.last) >= l.idle {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// Len is how many keys the limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// ClientIP is the address a request comes from: its TCP peer, or, when the peer is one
// of the trusted proxies, the last address in X-Forwarded-For that is not a trusted
// proxy (the one the first trusted proxy saw). Clients cannot forge it by sending their
// own X-Forwarded-For: a proxy appends to it.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: trust nothing before it
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// RefuseWritesWhile answers every request that would write (any method but GET, HEAD
// and OPTIONS) with 503 and Retry-After while blocked reports why writes cannot be
// taken (a full disk, say), at once instead of after a timeout; reads go on.
func RefuseWritesWhile(blocked func() error, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if why := blocked(); why != nil {
				w.Header().Set("Retry-After", "30")
				writeProblem(w, r, slog.Default(), &httpError{status: http.StatusServiceUnavailable,
					detail: "writes are refused for now: " + why.Error()})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// LimitReads takes anonymous reads (GET without a token) of the public feed from lim:
// GET /api/v1/feed, and the station screens' pages (/screen/{lane}, not their live
// streams, which LimitStreams bounds). 429 with Retry-After when an address has none
// left. A nil lim limits nothing.
func LimitReads(lim *Limiter, trusted []netip.Prefix, next http.Handler) http.Handler {
	if lim == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && publicRead(r.URL.Path) {
			if _, sent := bearer(r); !sent {
				if ok, wait := lim.Allow(ClientIP(r, trusted)); !ok {
					TooManyRequests(w, r, wait)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func publicRead(path string) bool {
	if path == "/api/v1/feed" {
		return true
	}
	rest, ok := strings.CutPrefix(path, "/screen/")
	return ok && rest != "" && !strings.Contains(rest, "/")
}
