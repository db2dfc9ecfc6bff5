package httpapi_test

import (
	"strings"
	"testing"
)

// TestAPersonSignsInWithAPassword: the admin opens 王芳's account; she signs in with her
// username and password, works with the session as her bearer token, and signs out;
// wrong pairs are all the same 401, repeated ones are slowed down, and a revoked
// account signs in no more.
func TestAPersonSignsInWithAPassword(t *testing.T) {
	h := newHarness(t)
	h.seed()
	create := map[string]any{"username": "wangfang", "password": "柔桥后巷 2026", "name": "王芳", "role": "steward", "lanes": []string{"rouqiao-houxiang"}}
	acct := h.must(201, h.do("POST", "/api/v1/accounts", adminToken, create))
	if acct.str("username") != "wangfang" || acct.str("role") != "steward" || strings.Contains(string(acct.raw), "柔桥后巷 2026") {
		t.Fatalf("account answered %s", acct.raw)
	}
	if r := h.do("POST", "/api/v1/accounts", adminToken, create); r.status != 409 || r.str("code") != "account.exists" {
		t.Fatalf("a taken username: %d %s", r.status, r.raw)
	}
	for field, body := range map[string]map[string]any{
		"username": {"username": "Wang Fang", "password": "柔桥后巷 2026", "role": "auditor"},
		"password": {"username": "wf-short", "password": "1234567", "role": "auditor"},
	} {
		if got := h.must(400, h.do("POST", "/api/v1/accounts", adminToken, body)).problemFields(); len(got) != 1 || got[0] != field {
			t.Errorf("a bad %s: fields %v", field, got)
		}
	}
	list := h.must(200, h.do("GET", "/api/v1/accounts", adminToken, nil))
	if !strings.Contains(string(list.raw), `"username":"wangfang"`) || strings.Contains(string(list.raw), "$2a$") {
		t.Fatalf("accounts listed as %s", list.raw)
	}

	s := h.must(201, h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "wangfang", "password": "柔桥后巷 2026"}))
	token := s.str("token")
	if token == "" || s.str("expires_at") == "" {
		t.Fatalf("sign-in answered %s", s.raw)
	}
	// The session is her bearer token: she sees her lane's backlog, not another's.
	h.must(200, h.do("GET", "/api/v1/lanes/rouqiao-houxiang/backlog", token, nil))
	h.must(403, h.do("GET", "/api/v1/lanes/wudongqiao/backlog", token, nil))
	h.must(204, h.do("DELETE", "/api/v1/sessions/current", token, nil))
	h.must(401, h.do("GET", "/api/v1/lanes/rouqiao-houxiang/backlog", token, nil))

	// A wrong password and an unknown username are the same answer.
	wrong := h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "wangfang", "password": "柔桥后巷 2025"})
	unknown := h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "nobody", "password": "柔桥后巷 2026"})
	if wrong.status != 401 || unknown.status != 401 || wrong.str("code") != "auth.sign-in-failed" || wrong.str("detail") != unknown.str("detail") {
		t.Fatalf("wrong password %d %s; unknown username %d %s", wrong.status, wrong.raw, unknown.status, unknown.raw)
	}
	// Guessing at her password is slowed down: after the allowance, 429 with Retry-After,
	// even for the right password, until the wait is over.
	limited := false
	for range 12 {
		r := h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "wangfang", "password": "guess-guess"})
		if r.status == 429 {
			limited = r.header.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Fatal("repeated wrong passwords were never slowed down")
	}
}

// TestARevokedAccountSignsInNoMore: revoking ends the sessions at once, and a new
// password given by the admin replaces the old.
func TestARevokedAccountSignsInNoMore(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.must(201, h.do("POST", "/api/v1/accounts", adminToken, map[string]any{"username": "shenji", "password": "审计员的旧密码1234", "name": "审计", "role": "auditor"}))
	h.must(204, h.do("PUT", "/api/v1/accounts/shenji/password", adminToken, map[string]any{"password": "新的审计员密码5678"}))
	h.must(401, h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "shenji", "password": "审计员的旧密码1234"}))
	token := h.must(201, h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "shenji", "password": "新的审计员密码5678"})).str("token")
	h.must(200, h.do("GET", "/api/v1/lanes", token, nil))
	h.must(204, h.do("DELETE", "/api/v1/accounts/shenji", adminToken, nil))
	h.must(401, h.do("GET", "/api/v1/lanes", token, nil))
	h.must(401, h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "shenji", "password": "新的审计员密码5678"}))
	h.must(404, h.do("DELETE", "/api/v1/accounts/nobody", adminToken, nil))
}

// TestCommunityAndStreetAccounts: the admin opens accounts for community and street staff,
// bound to places that exist; an unknown place, or places of the wrong kind, are 400
// naming the field and open nothing.
func TestCommunityAndStreetAccounts(t *testing.T) {
	h := newHarness(t)
	h.seedOffices()
	acct := h.must(201, h.do("POST", "/api/v1/accounts", adminToken, map[string]any{"username": "tayuan", "password": "塔苑社区 2026", "name": "塔苑社区", "role": "community", "communities": []string{"taoyuan"}}))
	if acct.str("role") != "community" || !strings.Contains(string(acct.raw), `"communities":["taoyuan"]`) {
		t.Fatalf("community account answered %s", acct.raw)
	}
	h.must(201, h.do("POST", "/api/v1/accounts", adminToken, map[string]any{"username": "dongcheng", "password": "东城街道 2026", "name": "东城街道", "role": "street", "streets": []string{"dongcheng"}}))
	before := h.count()
	for field, body := range map[string]map[string]any{
		"communities[0]": {"username": "nowhere", "password": "塔苑社区 2026", "role": "community", "communities": []string{"nowhere"}},
		"streets[1]":     {"username": "nowhere", "password": "塔苑社区 2026", "role": "street", "streets": []string{"dongcheng", "nanhu"}},
		"communities":    {"username": "nowhere", "password": "塔苑社区 2026", "role": "community"},
		"streets":        {"username": "nowhere", "password": "塔苑社区 2026", "role": "community", "communities": []string{"taoyuan"}, "streets": []string{"dongcheng"}},
	} {
		if got := h.must(400, h.do("POST", "/api/v1/accounts", adminToken, body)).problemFields(); len(got) != 1 || got[0] != field {
			t.Errorf("a bad %s: fields %v", field, got)
		}
	}
	if h.count() != before {
		t.Fatal("a refused account wrote events")
	}
	s := h.must(201, h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "tayuan", "password": "塔苑社区 2026"}))
	if !strings.Contains(string(s.raw), `"role":"community"`) {
		t.Fatalf("sign-in answered %s", s.raw)
	}
}

// TestUsernamesWithDots: the rule lets a username hold dots; such an account is opened,
// signs in, has its password changed and is revoked like any other, and is not mistaken
// for the account whose username has an underscore in the same place.
func TestUsernamesWithDots(t *testing.T) {
	h := newHarness(t)
	h.seed()
	for _, u := range []string{"ouyang.taoyuan", "ouyang_taoyuan", "ouyang-taoyuan"} {
		h.must(201, h.do("POST", "/api/v1/accounts", adminToken, map[string]any{"username": u, "password": "塔苑社区 2026 " + u, "name": "欧阳", "role": "auditor"}))
	}
	h.must(409, h.do("POST", "/api/v1/accounts", adminToken, map[string]any{"username": "ouyang.taoyuan", "password": "塔苑社区 2026 again", "name": "欧阳", "role": "auditor"}))
	token := h.must(201, h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "ouyang.taoyuan", "password": "塔苑社区 2026 ouyang.taoyuan"})).str("token")
	h.must(200, h.do("GET", "/api/v1/lanes", token, nil))
	h.must(204, h.do("PUT", "/api/v1/accounts/ouyang.taoyuan/password", adminToken, map[string]any{"password": "新的密码 5678 dotted"}))
	h.must(201, h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "ouyang.taoyuan", "password": "新的密码 5678 dotted"}))
	h.must(204, h.do("DELETE", "/api/v1/accounts/ouyang.taoyuan", adminToken, nil))
	h.must(401, h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "ouyang.taoyuan", "password": "新的密码 5678 dotted"}))
	h.must(201, h.do("POST", "/api/v1/sessions", "", map[string]any{"username": "ouyang_taoyuan", "password": "塔苑社区 2026 ouyang_taoyuan"}))
}
