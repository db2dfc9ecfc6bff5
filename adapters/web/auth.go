package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redlane/redlane/domain"
)

// SessionCookie names the cookie that holds a signed-in user's session id: a random id
// the server looks up (SessionStore), never the API token.
const SessionCookie = "redlane_session"

// SessionStore keeps the pages' sign-ins (jetstream.Sessions keeps them in NATS KV, for
// every process).
type SessionStore interface {
	// Start begins a session for a token and returns its id.
	Start(ctx context.Context, tokenID string) (string, error)
	// Lookup returns the token id a session stands for; ok is false for an unknown,
	// ended or lapsed one.
	Lookup(ctx context.Context, id string) (tokenID string, ok bool, err error)
	// End ends a session.
	End(ctx context.Context, id string) error
}

// memorySessions is a SessionStore for one process, when none is configured.
type memorySessions struct {
	mu  sync.Mutex
	m   map[string]memorySession
	ttl time.Duration
}

type memorySession struct {
	token string
	until time.Time
}

func (m *memorySessions) Start(_ context.Context, tokenID string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) > 100_000 {
		m.m = map[string]memorySession{}
	}
	m.m[id] = memorySession{token: tokenID, until: time.Now().Add(m.ttl)}
	return id, nil
}

func (m *memorySessions) Lookup(_ context.Context, id string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[id]
	if !ok || time.Now().After(s.until) {
		return "", false, nil
	}
	return s.token, true, nil
}

func (m *memorySessions) End(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, id)
	return nil
}

// CSRFField and CSRFHeader carry the session's CSRF token on a POST.
const (
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
)

// maxForm bounds a form's body, as the API bounds JSON bodies.
const maxForm = 64 << 10

// session is who a request comes from.
type session struct {
	Actor  domain.Actor
	secret string
	bearer bool // authenticated by an Authorization header: no CSRF token needed
}

// CSRF is the session's CSRF token: an HMAC keyed by the session's secret (its id, or
// the bearer token), so it needs no storage, every process derives the same one, and
// only the holder of the secret (whose cookie is HttpOnly) can know it.
func (s session) CSRF() string {
	if s.secret == "" {
		return ""
	}
	return csrfToken(s.secret)
}

func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("redlane pages csrf v1"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// who returns the request's session: from Authorization: Bearer when the header is
// sent (an invalid one is an error), else from the session cookie (an invalid or revoked
// one counts as signed out). signed is false when nobody is signed in.
func (h *handler) who(r *http.Request) (s session, signed bool, err error) {
	if hd := r.Header.Get("Authorization"); hd != "" {
		scheme, secret, ok := strings.Cut(hd, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return s, false, domain.Refuse(domain.KindUnauthorized, domain.CodeTokenInvalid, "an Authorization header must be a bearer token")
		}
		secret = strings.TrimSpace(secret)
		a, err := h.svc.Authenticate(secret)
		if err != nil {
			return s, false, err
		}
		return session{Actor: a, secret: secret, bearer: true}, true, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return s, false, nil
	}
	tokenID, ok, err := h.sessions.Lookup(r.Context(), c.Value)
	if err != nil {
		return s, false, fmt.Errorf("look the session up: %w", err)
	}
	if !ok {
		return s, false, nil
	}
	a, err := h.svc.ActorOfToken(tokenID)
	if err != nil {
		return s, false, nil // the token was revoked: the session ends with it
	}
	return session{Actor: a, secret: c.Value}, true, nil
}

// SignedIn reports whether a request comes from someone signed in: a valid bearer
// token, or a live session.
func (h *handler) SignedIn(r *http.Request) bool {
	_, signed, err := h.who(r)
	return err == nil && signed
}

// require returns the request's session when its role is one of roles. Otherwise it
// answers: a browser that is not signed in goes to the sign-in page; a bad bearer token
// is 401; a role that may not see the page is 403.
func (h *handler) require(w http.ResponseWriter, r *http.Request, roles ...domain.Role) (session, bool) {
	s, signed, err := h.who(r)
	if err != nil {
		h.fail(w, r, nil, describe(err))
		return s, false
	}
	if !signed {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		} else {
			h.fail(w, r, nil, problem{Status: http.StatusUnauthorized, Title: "请先登录", Lines: []string{"登录已失效，请重新登录。"}})
		}
		return s, false
	}
	if !slices.Contains(roles, s.Actor.Role) {
		h.fail(w, r, &s, problem{Status: http.StatusForbidden, Title: "无权访问这个页面", Lines: []string{"当前身份：" + roleName(s.Actor.Role) + "。"}})
		return s, false
	}
	return s, true
}

// parseForm reads a POST's form, bounded in size, and checks the session's CSRF token
// unless the request came with a bearer token.
func (h *handler) parseForm(w http.ResponseWriter, r *http.Request, s *session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, s, problem{Status: http.StatusBadRequest, Title: "表单无法读取", Lines: []string{"内容过长或格式不对。"}})
		return false
	}
	if s == nil || s.bearer {
		return true
	}
	got := r.PostForm.Get(CSRFField)
	if got == "" {
		got = r.Header.Get(CSRFHeader)
	}
	if !hmac.Equal([]byte(got), []byte(s.CSRF())) {
		h.fail(w, r, s, problem{Status: http.StatusForbidden, Title: "页面已过期", Lines: []string{"表单校验未通过（CSRF），请刷新页面后再试。"}})
		return false
	}
	return true
}

// homeOf is where a role starts.
func homeOf(role domain.Role) string {
	switch role {
	case domain.RoleSteward:
		return "/board"
	case domain.RoleMember:
		return "/tasks"
	case domain.RoleOperator:
		return "/intake"
	default:
		return "/"
	}
}

// safeNext keeps a redirect target on this site: a path, never //host or a scheme. A
// browser drops tabs and newlines from a URL and reads a backslash as a slash, so
// "/\t/evil.example" would leave the site: any control character or backslash is
// refused, as is whatever does not parse as a bare path.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return ""
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' || c == 0x85 || c == 0x2028 || c == 0x2029 {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	return next
}

type signInPage struct {
	base
	Next  string
	Token string
}

func (h *handler) home(w http.ResponseWriter, r *http.Request) {
	s, signed, err := h.who(r)
	if err != nil {
		h.fail(w, r, nil, describe(err))
		return
	}
	if !signed {
		b := h.base(r, nil, "登录")
		h.render(w, http.StatusOK, "signin", signInPage{base: b, Next: safeNext(r.URL.Query().Get("next"))})
		return
	}
	if next := safeNext(r.URL.Query().Get("next")); next != "" && next != "/" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if home := homeOf(s.Actor.Role); home != "/" {
		http.Redirect(w, r, home, http.StatusSeeOther)
		return
	}
	h.roleHome(w, r, s)
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r, nil) {
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	next := safeNext(r.PostForm.Get("next"))
	a, err := h.svc.Authenticate(token)
	if err != nil {
		b := h.base(r, nil, "登录")
		b.Problem = &problem{Status: http.StatusUnauthorized, Title: "登录失败", Lines: []string{"令牌无效或已停用，请核对后重试。"}}
		h.render(w, http.StatusUnauthorized, "signin", signInPage{base: b, Next: next})
		return
	}
	sid, err := h.sessions.Start(r.Context(), a.ID)
	if err != nil {
		h.fail(w, r, nil, describe(err))
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: sid, Path: "/", MaxAge: int(h.ttl / time.Second),
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode,
	})
	if next == "" || next == "/" {
		next = homeOf(a.Role)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *handler) signOut(w http.ResponseWriter, r *http.Request) {
	s, signed, err := h.who(r)
	if err != nil {
		h.fail(w, r, nil, describe(err))
		return
	}
	if signed && !h.parseForm(w, r, &s) {
		return
	}
	if signed && !s.bearer {
		if err := h.sessions.End(r.Context(), s.secret); err != nil {
			h.fail(w, r, &s, describe(err))
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/?ok=signout", http.StatusSeeOther)
}
