package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestAResidentFindsTheirReceiptAgain: the number and the phone (written any usual way)
// give back the order and its receipt; a wrong phone and an unknown number are the same
// 404; a bad body names its fields; a guesser is stopped with 429; nothing is written.
func TestAResidentFindsTheirReceiptAgain(t *testing.T) {
	h := newHarness(t)
	h.seed()
	sub := h.submit()
	id, receipt, number := sub.str("id"), sub.str("receipt"), sub.str("number")
	h.settle()
	before := h.count()

	got := h.must(200, h.do("POST", "/api/v1/receipts/lookup", "", map[string]any{"number": number, "phone": "+86 138-1234-5678"}))
	if got.str("id") != id || got.str("receipt") != receipt || got.str("number") != number {
		t.Errorf("lookup answered %s; want id %s, receipt %s", got.raw, id, receipt)
	}
	// The receipt found opens the order, as the first one did.
	h.must(200, h.do("GET", "/api/v1/orders/"+id, "", nil, "X-Receipt", got.str("receipt")))

	wrong := h.do("POST", "/api/v1/receipts/lookup", "", map[string]any{"number": number, "phone": "13900000000"})
	unknown := h.do("POST", "/api/v1/receipts/lookup", "", map[string]any{"number": "20261130-NOSUCH", "phone": "13812345678"})
	if wrong.status != 404 || unknown.status != 404 || wrong.str("detail") != unknown.str("detail") {
		t.Errorf("a wrong phone: %d %s; an unknown number: %d %s; want the same 404", wrong.status, wrong.raw, unknown.status, unknown.raw)
	}
	bad := h.do("POST", "/api/v1/receipts/lookup", "", map[string]any{"number": "", "phone": "abc"})
	if bad.status != 400 || !slices.Equal(bad.problemFields(), []string{"number", "phone"}) {
		t.Errorf("an empty body: %d %s", bad.status, bad.raw)
	}
	// Ten in a burst per address: a sweep is stopped.
	limited := 0
	for range 12 {
		r := h.do("POST", "/api/v1/receipts/lookup", "", map[string]any{"number": "20261130-GUESS1", "phone": "13812345678"})
		if r.status == http.StatusTooManyRequests {
			limited++
			if r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Error("15 lookups from one address in a moment: none refused")
	}
	if after := h.count(); after != before {
		t.Errorf("lookups wrote %d events", after-before)
	}
}

// TestTheNumberServesWhereverTheIDDoes: the number residents and the hotline quote reads
// and acts on the order as its id does, with a receipt or a token, any letter case.
func TestTheNumberServesWhereverTheIDDoes(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	sub := h.submit()
	id, receipt, number := sub.str("id"), sub.str("receipt"), sub.str("number")
	h.settle()
	if got := h.must(200, h.do("GET", "/api/v1/orders/"+number, "", nil, "X-Receipt", receipt)); got.str("id") != id {
		t.Fatalf("GET by number answered %s", got.raw)
	}
	lower := strings.ToLower(number)
	h.must(200, h.do("GET", "/api/v1/orders/"+lower, w.steward, nil))
	h.must(200, h.do("GET", "/api/v1/orders/"+number+"/events", w.steward, nil))
	h.must(200, h.do("GET", "/api/v1/audit/orders/"+number, w.auditor, nil))
	if got := h.must(200, h.do("POST", "/api/v1/orders/"+number+"/dispatch", w.steward, map[string]any{"member": "m-1"})); got.str("id") != id || got.str("status") != "dispatched" {
		t.Fatalf("dispatch by number answered %s", got.raw)
	}
	h.must(404, h.do("GET", "/api/v1/orders/20200101-AAAAAA", w.steward, nil))
}
