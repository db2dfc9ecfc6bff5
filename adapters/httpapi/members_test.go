package httpapi_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/internal/testworld"
	"github.com/redlane/redlane/service"
)

// TestMemberPhones: a member's phone is taken as people write it, stored normalised and
// sealed: no message of the event stream holds its digits, read as any NATS reader
// reads it; the admin, the member and the stewards of lanes in their community see it,
// nobody else does; an update changes it, and erasing the member's key makes it
// unreadable.
func TestMemberPhones(t *testing.T) {
	tw := testworld.Start(t, testworld.Options{Views: true, Vault: true})
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Service: tw.Svc, Views: tw.Views, Index: tw.Index, Sessions: tw.Sessions}))
	t.Cleanup(srv.Close)
	h := &harness{t: t, url: srv.URL, world: tw, store: tw.Store, svc: tw.Svc, views: tw.Views, index: tw.Index}
	w := h.seed()

	before := h.count()
	if got := h.must(400, h.do("POST", "/api/v1/members", adminToken, map[string]any{"id": "m-5", "name": "赵敏", "community": "taoyuan", "phone": "打我电话"})).problemFields(); !slices.Equal(got, []string{"phone"}) {
		t.Errorf("a phone that is no number faults %v", got)
	}
	if h.count() != before {
		t.Error("a refused member was written")
	}
	made := h.must(201, h.do("POST", "/api/v1/members", adminToken, map[string]any{"id": "m-5", "name": "赵敏", "community": "taoyuan", "phone": "+86 138 0000 5566", "skills": []string{"repair"}}))
	if made.str("phone") != "13800005566" {
		t.Errorf("registered %s", made.raw)
	}

	// Every message of the stream, read as the auditor's and reporting's users read it.
	st, err := tw.JS.Stream(context.Background(), jsstore.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sawMember := false
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		msg, err := st.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(msg.Data), "赵敏") {
			sawMember = true
		}
		// The number as given and as stored; a shorter fragment could be part of an id.
		for _, digits := range []string{"13800005566", "138 0000 5566", "800005566"} {
			if strings.Contains(string(msg.Data), digits) {
				t.Errorf("message %d (%s) holds %q: %s", seq, msg.Subject, digits, msg.Data)
			}
		}
	}
	if !sawMember {
		t.Fatal("the member's event was not found in the stream")
	}

	phoneOf := func(token, id string) string {
		t.Helper()
		list := h.must(200, h.do("GET", "/api/v1/members", token, nil))
		items, _ := list.body["items"].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			if m["id"] == id {
				p, _ := m["phone"].(string)
				return p
			}
		}
		t.Fatalf("member %s not listed: %s", id, list.raw)
		return ""
	}
	m5 := h.must(201, h.do("POST", "/api/v1/tokens", adminToken, map[string]any{"role": "member", "member": "m-5", "name": "赵敏"})).str("token")
	for who, token := range map[string]string{"admin": adminToken, "the member": m5, "a steward in the community": w.steward} {
		if got := phoneOf(token, "m-5"); got != "13800005566" {
			t.Errorf("%s sees phone %q", who, got)
		}
	}
	for who, token := range map[string]string{"another member": w.member, "a steward elsewhere": w.otherSteward, "the auditor": w.auditor, "an operator": w.operator} {
		if got := phoneOf(token, "m-5"); got != "" {
			t.Errorf("%s sees phone %q", who, got)
		}
	}

	h.must(403, h.do("PUT", "/api/v1/members/m-5", w.steward, map[string]any{"name": "赵敏", "community": "taoyuan", "phone": "13900001111"}))
	h.must(404, h.do("PUT", "/api/v1/members/m-404", adminToken, map[string]any{"name": "赵敏", "community": "taoyuan"}))
	before = h.count()
	if got := h.must(400, h.do("PUT", "/api/v1/members/m-5", adminToken, map[string]any{"name": "赵敏", "community": "taoyuan", "phone": "123"})).problemFields(); !slices.Equal(got, []string{"phone"}) {
		t.Errorf("a short phone faults %v", got)
	}
	same := h.must(200, h.do("PUT", "/api/v1/members/m-5", adminToken, map[string]any{"name": "赵敏", "community": "taoyuan", "phone": "138-0000-5566", "skills": []string{"repair"}}))
	if h.count() != before || same.str("phone") != "13800005566" {
		t.Errorf("an update that changes nothing wrote %d events: %s", h.count()-before, same.raw)
	}
	upd := h.must(200, h.do("PUT", "/api/v1/members/m-5", adminToken, map[string]any{"name": "赵敏", "community": "taoyuan", "phone": "13900001111", "skills": []string{"repair", "legal"}, "teams": []string{"护航者"}}))
	if upd.str("phone") != "13900001111" || h.count() != before+1 {
		t.Errorf("updated %s", upd.raw)
	}
	if got := phoneOf(w.member, "m-5"); got != "" {
		t.Errorf("another member sees the new phone %q", got)
	}

	h.must(403, h.do("POST", "/api/v1/privacy/erase", w.steward, map[string]any{"member": "m-5"}))
	if got := h.must(400, h.do("POST", "/api/v1/privacy/erase", adminToken, map[string]any{"member": "m-404"})).problemFields(); !slices.Equal(got, []string{"member"}) {
		t.Errorf("erasing an unknown member faults %v", got)
	}
	erased := h.must(200, h.do("POST", "/api/v1/privacy/erase", adminToken, map[string]any{"member": "m-5"}))
	if erased.str("resident") != service.MemberKey("m-5") {
		t.Errorf("erased %s", erased.raw)
	}
	if got := phoneOf(adminToken, "m-5"); got != "" {
		t.Errorf("after erasure the admin sees %q", got)
	}
}
