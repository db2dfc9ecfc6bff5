package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/projections"
)

// TestReadSideOverTheWire walks four orders and checks each read endpoint against
// figures worked out by hand.
func TestReadSideOverTheWire(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	o := func() (string, string) { s := h.submit(); return "/api/v1/orders/" + s.str("id"), s.str("receipt") }
	a, aReceipt := o()
	h.must(200, h.do("POST", a+"/dispatch", w.steward, map[string]any{"member": "m-1"}))
	h.must(200, h.do("POST", a+"/accept", w.member, nil))
	h.must(200, h.do("POST", a+"/complete", w.member, map[string]any{"note": "换灯", "minutes": 40}))
	h.must(200, h.do("POST", a+"/rate", "", map[string]any{"solved": true, "stars": 5, "receipt": aReceipt}))
	b, bReceipt := o()
	h.must(200, h.do("POST", b+"/claim", w.member2, nil))
	h.must(200, h.do("POST", b+"/complete", w.member2, map[string]any{"note": "调解", "minutes": 20}))
	h.must(200, h.do("POST", b+"/rate", "", map[string]any{"solved": false, "stars": 2, "receipt": bReceipt}))
	c, _ := o()
	h.must(200, h.do("POST", c+"/dispatch", w.steward, map[string]any{"member": "m-1"}))
	other := map[string]any{}
	for k, v := range request {
		other[k] = v
	}
	other["lane"] = "wudongqiao"
	h.must(201, h.do("POST", "/api/v1/orders", "", other))
	h.settle()
	period := projections.Period(time.Now())

	// Backlog of 柔桥后巷: B reopened (open), C dispatched; A closed is gone.
	bl := h.must(200, h.do("GET", "/api/v1/lanes/rouqiao-houxiang/backlog", w.steward, nil))
	counts := bl.body["counts"].(map[string]any)
	for k, want := range map[string]float64{"open": 1, "dispatched": 1, "accepted": 0, "completed": 0, "overdue": 0} {
		if counts[k] != want {
			t.Errorf("backlog counts[%s] = %v, want %v", k, counts[k], want)
		}
	}
	items := bl.body["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("backlog has %d items, want 2: %s", len(items), bl.raw)
	}
	if _, ok := items[0].(map[string]any)["age_seconds"].(float64); !ok {
		t.Errorf("items lack age_seconds: %s", bl.raw)
	}
	h.must(403, h.do("GET", "/api/v1/lanes/rouqiao-houxiang/backlog", w.otherSteward, nil))
	h.must(403, h.do("GET", "/api/v1/lanes/rouqiao-houxiang/backlog", w.member, nil))
	h.must(404, h.do("GET", "/api/v1/lanes/nowhere/backlog", adminToken, nil))

	// m-1: dispatched A and C, accepted and completed A (40 min, on time), rated 5:
	// points 10 + 2 + 2×(5−3) = 16. m-2: claimed and completed B (20 min, on time),
	// rated 2: 10 + 2 + 2×(2−3) = 10.
	rec := h.must(200, h.do("GET", "/api/v1/members/m-1/record?period="+period, w.member, nil))
	for k, want := range map[string]float64{"dispatched": 2, "accepted": 1, "declined": 0, "completed": 1, "minutes": 40, "ratings": 1, "mean_stars": 5, "on_time_rate": 1, "points": 16} {
		if rec.body[k] != want {
			t.Errorf("m-1 %s = %v, want %v", k, rec.body[k], want)
		}
	}
	explained := 0.0
	for _, e := range rec.body["events"].([]any) {
		explained += e.(map[string]any)["points"].(float64)
	}
	if explained != 16 {
		t.Errorf("m-1's events explain %v points, want 16", explained)
	}
	rec2 := h.must(200, h.do("GET", "/api/v1/members/m-2/record?period="+period, w.auditor, nil))
	if rec2.body["points"] != 10.0 || rec2.body["accepted"] != 1.0 || rec2.body["mean_stars"] != 2.0 {
		t.Errorf("m-2 record %s", rec2.raw)
	}
	h.must(403, h.do("GET", "/api/v1/members/m-1/record", w.member2, nil))
	h.must(400, h.do("GET", "/api/v1/members/m-1/record?period=2026-13", w.member, nil))

	ev := h.must(200, h.do("GET", "/api/v1/evaluations?community=taoyuan&period="+period, w.steward, nil))
	ranked := ev.body["items"].([]any)
	if len(ranked) != 2 || ranked[0].(map[string]any)["member"] != "m-1" || ranked[0].(map[string]any)["points"] != 16.0 ||
		ranked[1].(map[string]any)["member"] != "m-2" || ranked[1].(map[string]any)["points"] != 10.0 {
		t.Errorf("evaluation %s", ev.raw)
	}
	team := h.must(200, h.do("GET", "/api/v1/evaluations?team=红色方舟&period="+period, w.steward, nil))
	if ti := team.body["items"].([]any); len(ti) != 1 || ti[0].(map[string]any)["member"] != "m-1" {
		t.Errorf("team evaluation %s", team.raw)
	}

	// taoyuan: A, B, C submitted. Response: A accepted and B claimed in time; C, dispatched
	// and inside its accept deadline, is not due yet and in no sample: 2/2. Ratings: A
	// solved 5★, B unsolved 2★: resolution 1/2, satisfaction 1/2.
	rep := h.must(200, h.do("GET", "/api/v1/reports/monthly?community=taoyuan&period="+period, w.auditor, nil))
	if rep.body["orders"] != 3.0 || rep.body["resolution_rate"] != 0.5 || rep.body["satisfaction_rate"] != 0.5 {
		t.Errorf("report %s", rep.raw)
	}
	if rep.body["response_rate"] != 1.0 || rep.body["response_sample"] != 2.0 {
		t.Errorf("response_rate %v of %v, want 1 of 2", rep.body["response_rate"], rep.body["response_sample"])
	}
	if rep.body["by_lane"].(map[string]any)["rouqiao-houxiang"] != 3.0 || rep.body["by_category"].(map[string]any)["repair"] != 3.0 {
		t.Errorf("report volumes %s", rep.raw)
	}
	h.must(400, h.do("GET", "/api/v1/reports/monthly?period="+period, w.auditor, nil))

	// The feed: public, filterable, never naming the resident.
	fd := h.must(200, h.do("GET", "/api/v1/feed?lane=rouqiao-houxiang&limit=500", "", nil))
	entries := fd.body["items"].([]any)
	if len(entries) < 10 {
		t.Fatalf("feed for the lane has %d entries: %s", len(entries), fd.raw)
	}
	if strings.Contains(string(fd.raw), "张阿姨") || strings.Contains(string(fd.raw), "13812345678") {
		t.Errorf("the feed names the resident: %s", fd.raw)
	}
	for _, e := range entries {
		if e.(map[string]any)["lane"] != "rouqiao-houxiang" {
			t.Errorf("lane filter let through %v", e)
		}
	}
	last := entries[len(entries)-1].(map[string]any)["seq"].(float64)
	people := h.must(200, h.do("GET", "/api/v1/feed?dimension=people", "", nil))
	for _, e := range people.body["items"].([]any) {
		if !strings.Contains(strings.Join(toStrings(e.(map[string]any)["dimensions"]), ","), "people") {
			t.Errorf("dimension filter let through %v", e)
		}
	}
	h.must(400, h.do("GET", "/api/v1/feed?dimension=gold", "", nil))

	// Live: an SSE client after the last entry sees the next one arrive.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", h.url+"/api/v1/feed/stream?lane=rouqiao-houxiang&after="+jsonNumber(last), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	h.must(200, h.do("POST", c+"/accept", w.member, nil))
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var e map[string]any
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatal(err)
			}
			if e["seq"].(float64) <= last || !strings.Contains(e["text"].(string), "接单") {
				t.Fatalf("live entry %v", e)
			}
			return
		}
	}
	t.Fatalf("the live feed ended without an entry: %v", sc.Err())
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func jsonNumber(f float64) string { b, _ := json.Marshal(f); return string(b) }

// A busy member's month pages its events: the record answers with the newest page and
// says how many there are; each earlier page is asked for by number, and every event of
// the month comes once across them.
func TestRecordEventsPage(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	const orders = 205 // one page of 200 and five on the record
	for range orders {
		// Placed at the station by its steward: a resident's submits are limited per address.
		id := h.must(201, h.do("POST", "/api/v1/orders", w.steward, request)).str("id")
		h.must(200, h.do("POST", "/api/v1/orders/"+id+"/dispatch", w.steward, map[string]any{"member": "m-1"}))
	}
	h.settle()
	period := projections.Period(time.Now())
	path := "/api/v1/members/m-1/record?period=" + period
	last := h.must(200, h.do("GET", path, w.member, nil))
	if last.body["dispatched"] != float64(orders) || last.body["event_pages"] != 2.0 || last.body["events_page"] != 1.0 {
		t.Fatalf("record: %s", last.raw)
	}
	seen := map[string]bool{}
	count := func(r reply) int {
		evs := r.body["events"].([]any)
		for _, e := range evs {
			seen[e.(map[string]any)["id"].(string)] = true
		}
		return len(evs)
	}
	first := h.must(200, h.do("GET", path+"&events_page=0", w.member, nil))
	if n, m := count(first), count(last); n != 200 || m != orders-200 || len(seen) != orders || first.body["events_page"] != 0.0 {
		t.Errorf("pages of %d and %d events, %d distinct, want 200, %d and %d", n, m, len(seen), orders-200, orders)
	}
	for _, bad := range []string{"2", "-1", "x"} {
		r := h.do("GET", path+"&events_page="+bad, w.member, nil)
		if r.status != 400 || !strings.Contains(string(r.raw), "events_page") {
			t.Errorf("events_page=%s: %d %s", bad, r.status, r.raw)
		}
	}
	// A member without a record this month has one empty page.
	empty := h.must(200, h.do("GET", "/api/v1/members/m-2/record?period="+period+"&events_page=0", w.auditor, nil))
	if empty.body["event_pages"] != 1.0 || len(empty.body["events"].([]any)) != 0 {
		t.Errorf("empty record: %s", empty.raw)
	}
}
