package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/service"
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
		if err != nil && domain.CodeOf(err) == domain.CodeTokenInvalid {
			// A session token from POST /api/v1/sessions serves as well.
			if tokenID, ok, lerr := h.sessions.Lookup(r.Context(), secret); lerr == nil && ok && strings.HasPrefix(tokenID, service.APISession) {
				a, err = h.svc.ActorOfToken(strings.TrimPrefix(tokenID, service.APISession))
			}
		}
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
	if !ok || strings.HasPrefix(tokenID, service.APISession) {
		return s, false, nil // an API session is no cookie
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
	case domain.RoleCommunity, domain.RoleStreet:
		return "/escalations"
	case domain.RoleAdmin:
		return "/admin"
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
	Next     string
	Token    string
	Username string
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
	next := safeNext(r.PostForm.Get("next"))
	username := strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))
	var tokenID string
	var a domain.Actor
	var err error
	if token := strings.TrimSpace(r.PostForm.Get("token")); token != "" && username == "" {
		a, err = h.svc.Authenticate(token)
		tokenID = a.ID
	} else {
		tokenID, a, err = h.svc.SignIn(r.Context(), username, r.PostForm.Get("password"))
	}
	if err != nil {
		if k := domain.KindOf(err); k != domain.KindUnauthorized {
			h.fail(w, r, nil, describe(err))
			return
		}
		h.log.Warn("sign-in refused", "username", username)
		b := h.base(r, nil, "登录")
		b.Problem = &problem{Status: http.StatusUnauthorized, Title: "登录失败", Lines: []string{"用户名或密码不对（或令牌无效、已停用），请核对后重试。"}}
		h.render(w, http.StatusUnauthorized, "signin", signInPage{base: b, Next: next, Username: username})
		return
	}
	sid, err := h.sessions.Start(r.Context(), tokenID)
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
