package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/service"
)

// Sessions keeps sign-ins: a session id stands for an account's token id until it lapses
// or is ended. The pages' sign-ins and the API's sessions are one store; an API session
// names its token as "api:<id>" (service.APISession), so that a page's cookie is never a bearer
// token and an API session never a cookie.
type Sessions interface {
	Start(ctx context.Context, tokenID string) (string, error)
	Lookup(ctx context.Context, id string) (tokenID string, ok bool, err error)
	End(ctx context.Context, id string) error
}

// Sign-in attempts a client address, and a username, may make: ten at once, then one
// every six seconds. Only failures take from the username's allowance, so a person
// signing in is never slowed by their own successes.
const (
	signInRate  = 1.0 / 6
	signInBurst = 10
)

type accountRequest struct {
	Username    string      `json:"username"`
	Password    string      `json:"password"`
	Name        string      `json:"name"`
	Role        domain.Role `json:"role"`
	Lanes       []string    `json:"lanes"`
	Member      string      `json:"member"`
	Communities []string    `json:"communities"`
	Streets     []string    `json:"streets"`
}

// accountView is an account as the API shows it: never a hash, never a secret.
type accountView struct {
	ID       string      `json:"id"`
	Username string      `json:"username"`
	Name     string      `json:"name"`
	Role     domain.Role `json:"role"`
	Lanes    []string    `json:"lanes"`
	Member   string      `json:"member"`
	// Communities and Streets bind community and street staff.
	Communities []string `json:"communities"`
	Streets     []string `json:"streets"`
	Revoked     bool     `json:"revoked"`
}

func viewAccount(t access.State) accountView {
	lanes := t.Issued.Lanes
	if lanes == nil {
		lanes = []string{}
	}
	return accountView{ID: t.ID, Username: t.Issued.Username, Name: t.Issued.Name, Role: t.Issued.Role, Lanes: lanes, Member: t.Issued.Member,
		Communities: orEmpty(t.Issued.Communities), Streets: orEmpty(t.Issued.Streets), Revoked: t.Revoked}
}

// orEmpty is a list as JSON shows it: [] rather than null.
func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// admin authenticates the request as the admin, or says why not.
func (a *API) admin(r *http.Request, what string) (domain.Actor, error) {
	actor, err := a.actor(r)
	if err == nil {
		err = forbidUnless(actor.Role == domain.RoleAdmin, domain.CodeAdminOnly, "only an admin "+what)
	}
	return actor, err
}

// createAccount answers POST /api/v1/accounts (admin): a person's account, signed in
// with a username and password.
func (a *API) createAccount(w http.ResponseWriter, r *http.Request) {
	actor, err := a.admin(r, "opens accounts")
	var req accountRequest
	if err == nil {
		err = readBody(w, r, &req)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.svc.CreateAccount(r.Context(), a.meta(r, actor), service.NewAccount{
		Username: strings.TrimSpace(req.Username), Password: req.Password,
		Issue: access.Issue{Role: req.Role, Lanes: req.Lanes, Member: req.Member, Name: req.Name,
			Communities: req.Communities, Streets: req.Streets},
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, viewAccount(t))
}

// listAccounts answers GET /api/v1/accounts (admin).
func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) {
	if _, err := a.admin(r, "lists accounts"); err != nil {
		a.fail(w, r, err)
		return
	}
	items := []accountView{}
	for _, t := range a.svc.Dir.Accounts() {
		items = append(items, viewAccount(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// setPassword answers PUT /api/v1/accounts/{username}/password (admin) {"password"}.
func (a *API) setPassword(w http.ResponseWriter, r *http.Request) {
	actor, err := a.admin(r, "sets passwords")
	var req struct {
		Password string `json:"password"`
	}
	if err == nil {
		err = readBody(w, r, &req)
	}
	if err == nil {
		err = a.svc.SetPassword(r.Context(), a.meta(r, actor), r.PathValue("username"), req.Password)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// revokeAccount answers DELETE /api/v1/accounts/{username} (admin): the account signs
// in no more, and its sessions end at once.
func (a *API) revokeAccount(w http.ResponseWriter, r *http.Request) {
	actor, err := a.admin(r, "revokes accounts")
	if err == nil {
		t, ok := a.svc.Dir.Account(r.PathValue("username"))
		if !ok {
			err = domain.Refuse(domain.KindNotFound, domain.CodeTokenNotFound, "no such account")
		} else {
			err = a.svc.RevokeToken(r.Context(), a.meta(r, actor), t.ID)
		}
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// startSession answers POST /api/v1/sessions {"username","password"}: 201 with a
// session token, sent as Authorization: Bearer, until expires_at. A wrong pair is 401;
// repeated failures from an address or for a username are 429 with Retry-After.
func (a *API) startSession(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Sessions == nil {
		a.fail(w, r, &httpError{status: http.StatusNotFound, detail: "sign-in is not served here"})
		return
	}
	addr := ClientIP(r, a.cfg.TrustedProxies)
	if ok, wait := a.signIns.Allow(addr); !ok {
		TooManyRequests(w, r, wait)
		return
	}
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := readBody(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	username := strings.ToLower(strings.TrimSpace(req.Username))
	if ok, wait := a.failures.Peek("user:" + username); !ok {
		TooManyRequests(w, r, wait)
		return
	}
	tokenID, actor, err := a.svc.SignIn(r.Context(), username, req.Password)
	if err != nil {
		if domain.CodeOf(err) == domain.CodeSignInFailed {
			a.failures.Allow("user:" + username)
			a.log.Warn("sign-in refused", "username", username, "addr", addr)
		}
		a.fail(w, r, err)
		return
	}
	id, err := a.cfg.Sessions.Start(r.Context(), service.APISession+tokenID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"token": id, "expires_at": time.Now().Add(a.sessionTTL()).UTC(),
		"account": map[string]any{"username": username, "name": actor.Name, "role": actor.Role},
	})
}

// endSession answers DELETE /api/v1/sessions/current: the bearer session ends at once.
func (a *API) endSession(w http.ResponseWriter, r *http.Request) {
	secret, _ := bearer(r)
	if a.cfg.Sessions == nil || secret == "" {
		a.fail(w, r, domain.Refuse(domain.KindUnauthorized, domain.CodeTokenRequired, "a session token is required"))
		return
	}
	if tokenID, ok, err := a.cfg.Sessions.Lookup(r.Context(), secret); err != nil || !ok || !strings.HasPrefix(tokenID, service.APISession) {
		a.fail(w, r, domain.Refuse(domain.KindUnauthorized, domain.CodeTokenInvalid, "the session is unknown, ended or lapsed"))
		return
	}
	if err := a.cfg.Sessions.End(r.Context(), secret); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) sessionTTL() time.Duration {
	if a.cfg.SessionTTL > 0 {
		return a.cfg.SessionTTL
	}
	return 12 * time.Hour
}
