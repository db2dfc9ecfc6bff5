package httpapi_test

import (
	"encoding/csv"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/domain/order"
)

func TestAuditOrderStory(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	sub := h.submit()
	id := sub.str("id")
	path := "/api/v1/orders/" + id
	h.must(200, h.do("POST", path+"/dispatch", w.steward, map[string]any{"member": "m-1"}))
	h.must(200, h.do("POST", path+"/accept", w.member, nil))
	h.must(200, h.do("POST", path+"/note", w.steward, map[string]any{"text": "回访前先打电话", "internal": true}))
	h.must(200, h.do("POST", path+"/complete", w.member, map[string]any{"note": "换了感应灯", "minutes": 40}))
	audit := "/api/v1/audit/orders/" + id

	story := h.must(200, h.do("GET", audit, w.auditor, nil))
	events, _ := story.body["events"].([]any)
	wantTypes := []string{order.TypeSubmitted, order.TypeDispatched, order.TypeAccepted, order.TypeNoted, order.TypeCompleted}
	if len(events) != len(wantTypes) || story.body["later"] != 0.0 || story.body["as_of"] != nil {
		t.Fatalf("story: %s", story.raw)
	}
	for i, e := range events {
		ev := e.(map[string]any)
		if ev["type"] != wantTypes[i] || ev["aggregateversion"] != float64(i+1) || ev["seq"] == 0.0 || ev["role"] == "" || ev["time_local"] == "" {
			t.Errorf("event %d = %v", i, ev)
		}
	}
	first := events[0].(map[string]any)
	// The requester is in the clear in the event only without a privacy vault; either
	// way the auditor never sees the whole phone.
	if req, ok := first["data"].(map[string]any)["requester"].(map[string]any); ok && req["phone"] != "138****5678" {
		t.Errorf("the auditor sees the requester as %v", req)
	}
	if strings.Contains(string(story.raw), "13812345678") {
		t.Errorf("the auditor sees the whole phone: %s", story.raw)
	}
	if s := first["summary"].(string); !strings.Contains(s, "柔桥后巷") || !strings.Contains(s, "提出诉求") || strings.Contains(s, "张阿姨") {
		t.Errorf("submitted summary %q", s)
	}
	if s := events[1].(map[string]any)["summary"].(string); !strings.Contains(s, "王芳") || !strings.Contains(s, "李明") {
		t.Errorf("dispatched summary %q", s)
	}
	if s := events[3].(map[string]any)["summary"]; s != "" {
		t.Errorf("an internal note has the summary %q", s)
	}
	state := story.body["state"].(map[string]any)
	if state["status"] != "completed" || state["requester"].(map[string]any)["phone"] != "138****5678" || state["version"] != 5.0 {
		t.Errorf("state now: %v", state)
	}

	// As of the dispatch: accepted and later are not yet.
	dispatched := events[1].(map[string]any)["time"].(string)
	then := h.must(200, h.do("GET", audit+"?as_of="+url.QueryEscape(dispatched), w.auditor, nil))
	state = then.body["state"].(map[string]any)
	if state["status"] != "dispatched" || state["assignee"] != "m-1" || state["version"] != 2.0 || then.body["later"] != 3.0 {
		t.Errorf("state as of the dispatch: %s", then.raw)
	}
	if evs, _ := then.body["events"].([]any); len(evs) != 2 {
		t.Errorf("%d events as of the dispatch, want 2", len(evs))
	}
	// The same moment written in Asia/Shanghai, to the minute: before the submission, or after.
	at, _ := time.Parse(time.RFC3339Nano, dispatched)
	local := at.In(time.FixedZone("CST", 8*3600)).Add(-time.Minute).Format("2006-01-02 15:04")
	before := h.must(200, h.do("GET", audit+"?as_of="+url.QueryEscape(local), w.auditor, nil))
	if before.body["state"] != nil || before.body["later"] != 5.0 {
		t.Errorf("a minute before it all: %s", before.raw)
	}

	// The lane's steward sees the phone, as everywhere.
	mine := h.must(200, h.do("GET", audit, w.steward, nil))
	if mine.body["state"].(map[string]any)["requester"].(map[string]any)["phone"] != "13812345678" {
		t.Errorf("the lane's steward sees %s", mine.raw)
	}

	// CSV.
	c := h.must(200, h.do("GET", audit+"?format=csv", w.auditor, nil))
	if !strings.HasPrefix(c.header.Get("Content-Type"), "text/csv") {
		t.Errorf("content type %q", c.header.Get("Content-Type"))
	}
	body, hasBOM := strings.CutPrefix(string(c.raw), "\uFEFF")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !hasBOM || len(rows) != 6 || rows[0][0] != "序号" || rows[1][3] != order.TypeSubmitted || strings.Contains(string(c.raw), "13812345678") {
		t.Errorf("csv: %q", rows)
	}
	if c := h.must(200, h.do("GET", audit, w.auditor, nil, "Accept", "text/csv")); !strings.HasPrefix(c.header.Get("Content-Type"), "text/csv") {
		t.Errorf("Accept: text/csv answered %q", c.header.Get("Content-Type"))
	}
}

func TestAuditOrderRefusals(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	audit := "/api/v1/audit/orders/" + h.submit().str("id")
	for _, c := range []struct {
		name, path, token string
		status            int
	}{
		{"no token", audit, "", 401},
		{"admin", audit, adminToken, 403},
		{"member", audit, w.member, 403},
		{"operator", audit, w.operator, 403},
		{"steward of another lane", audit, w.otherSteward, 403},
		{"unknown order", "/api/v1/audit/orders/no-such-order", w.auditor, 404},
		{"bad as_of", audit + "?as_of=yesterday", w.auditor, 400},
		{"bad format", audit + "?format=xml", w.auditor, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("GET", c.path, c.token, nil)
			if r.status != c.status || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("status %d (%s), want %d: %s", r.status, r.header.Get("Content-Type"), c.status, r.raw)
			}
		})
	}
}
