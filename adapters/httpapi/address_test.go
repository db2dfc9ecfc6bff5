package httpapi_test

import (
	"strings"
	"testing"
)

// TestTheAddressIsForWhoeverGoes: the address a resident gives is shown back to them
// (receipt), to the lane's steward and to the member while the order is theirs; never
// to another member, nor on the public feed.
func TestTheAddressIsForWhoeverGoes(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	body := map[string]any{}
	for k, v := range request {
		body[k] = v
	}
	body["address"] = map[string]any{"building": "3号楼", "unit": "2单元", "door": "201"}
	sub := h.must(201, h.do("POST", "/api/v1/orders", "", body))
	id, receipt := sub.str("id"), sub.str("receipt")
	addressOf := func(r reply) string {
		a, _ := r.body["address"].(map[string]any)
		if a == nil {
			return ""
		}
		return a["building"].(string) + a["unit"].(string) + a["door"].(string)
	}
	if got := addressOf(sub); got != "3号楼2单元201" {
		t.Errorf("submit shows address %q", got)
	}
	path := "/api/v1/orders/" + id
	if got := addressOf(h.must(200, h.do("GET", path, "", nil, "X-Receipt", receipt))); got != "3号楼2单元201" {
		t.Errorf("the resident reads address %q", got)
	}
	if got := addressOf(h.must(200, h.do("GET", path, w.steward, nil))); got != "3号楼2单元201" {
		t.Errorf("the steward reads address %q", got)
	}
	if got := addressOf(h.must(200, h.do("GET", path, w.member, nil))); got != "" {
		t.Errorf("a member it is not dispatched to reads address %q", got)
	}
	h.must(200, h.do("POST", path+"/dispatch", w.steward, map[string]any{"member": "m-1"}))
	if got := addressOf(h.must(200, h.do("GET", path, w.member, nil))); got != "3号楼2单元201" {
		t.Errorf("the member it is dispatched to reads address %q", got)
	}
	if got := addressOf(h.must(200, h.do("GET", path, w.member2, nil))); got != "" {
		t.Errorf("another member reads address %q", got)
	}
	h.settle()
	if feed := h.must(200, h.do("GET", "/api/v1/feed", "", nil)); strings.Contains(string(feed.raw), "3号楼") || strings.Contains(string(feed.raw), "2单元") {
		t.Errorf("the feed shows the address: %s", feed.raw)
	}
	bad := map[string]any{}
	for k, v := range request {
		bad[k] = v
	}
	bad["address"] = map[string]any{"door": "二零一二零一二零一二零一二零一二零一二零一"}
	if got := h.must(400, h.do("POST", "/api/v1/orders", "", bad)).problemFields(); len(got) != 1 || got[0] != "address.door" {
		t.Errorf("a long door: fields %v", got)
	}
}
