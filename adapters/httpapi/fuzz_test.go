package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redlane/redlane/adapters/httpapi"
	"github.com/redlane/redlane/domain/order"
)

// fuzzWorld is a district for fuzzing, rebuilt now and then so that the orders each input
// makes do not pile up in memory.
type fuzzWorld struct {
	m    *memAPI
	uses int
}

// get returns the district, reporting failures to t.
func (w *fuzzWorld) get(t *testing.T) *memAPI {
	if w.m == nil || w.uses >= 2000 {
		w.m, w.uses = newMemAPI(t, httpapi.Config{IntakeRate: -1}), 0
	}
	w.uses++
	w.m.tb = t
	return w.m
}

// contentTypes are the media types fuzzed bodies are sent as.
var contentTypes = []string{"application/json", "application/json; charset=utf-8", "application/problem+json", "text/plain", ""}

// checkAnswer checks what every answer must be: a status from allowed; problem+json
// naming the same status on an error, with nothing written; and JSON on success.
func checkAnswer(t *testing.T, m *memAPI, rec *httptest.ResponseRecorder, before uint64, allowed ...int) {
	t.Helper()
	ok := false
	for _, s := range allowed {
		ok = ok || rec.Code == s
	}
	if !ok {
		t.Fatalf("status %d, want one of %v: %s", rec.Code, allowed, rec.Body.Bytes())
	}
	after := m.store.LastSeq()
	if rec.Code >= 400 {
		var p struct {
			Type, Title, Detail string
			Status              int
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("status %d with Content-Type %q", rec.Code, ct)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || p.Type == "" || p.Title == "" || p.Detail == "" {
			t.Fatalf("status %d with a bad problem (%v): %s", rec.Code, err, rec.Body.Bytes())
		}
		if after != before {
			t.Fatalf("refused with %d, yet %d events were written", rec.Code, after-before)
		}
		return
	}
	var v struct {
		ID      string
		Status  string
		Version uint64
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.ID == "" || v.Version == 0 {
		t.Fatalf("status %d with a body that is not an order (%v): %s", rec.Code, err, rec.Body.Bytes())
	}
	if after == before {
		t.Fatalf("status %d, yet nothing was written", rec.Code)
	}
}

// FuzzSubmitBody posts arbitrary bytes, as one of a few media types, to public intake.
func FuzzSubmitBody(f *testing.F) {
	// More seeds are in testdata/fuzz/FuzzSubmitBody.
	for _, s := range []string{`{"lane":7}`, `[]`, `null`, ``} {
		f.Add([]byte(s), uint8(0))
	}
	w := &fuzzWorld{}
	f.Fuzz(func(t *testing.T, body []byte, ct uint8) {
		m := w.get(t)
		h := http.Header{}
		if c := contentTypes[int(ct)%len(contentTypes)]; c != "" {
			h.Set("Content-Type", c)
		}
		before := m.store.LastSeq()
		rec := m.serve("POST", "/api/v1/orders", body, h)
		checkAnswer(t, m, rec, before, 201, 400, 413, 415)
	})
}

// fuzzActions are the order actions, each with the state an order must be in and the
// principal who may take it, so that fuzzed bodies reach the domain's checks.
var fuzzActions = []struct {
	action string
	state  order.Status
	who    string
}{
	{"dispatch", order.StatusOpen, "steward"},
	{"reassign", order.StatusDispatched, "steward"},
	{"claim", order.StatusOpen, "member"},
	{"accept", order.StatusDispatched, "assigned"},
	{"decline", order.StatusDispatched, "assigned"},
	{"complete", order.StatusAccepted, "assigned"},
	{"rate", order.StatusCompleted, "steward"},
	{"rate", order.StatusCompleted, "body receipt"},
	{"cancel", order.StatusOpen, "steward"},
	{"cancel", order.StatusOpen, "body receipt"},
	{"escalate", order.StatusOpen, "steward"},
	{"reopen", order.StatusClosed, "steward"},
	{"note", order.StatusAccepted, "assigned"},
}

// FuzzActionBody posts arbitrary bytes as the body of each order action, by someone
// allowed to take it on an order in the state it needs. A body may carry the
// resident's receipt: the bytes RECEIPT in a body stand for it.
func FuzzActionBody(f *testing.F) {
	for i, s := range []string{
		`{"member":"m-1"}`, `{"member":"m-2","reason":"出差"}`, `{}`, `{}`, `{"reason":"没空"}`,
		`{"note":"换了灯","minutes":40}`, `{"solved":false,"stars":2,"comment":"灯又坏了"}`,
		`{"solved":true,"stars":5,"receipt":"RECEIPT"}`, `{"reason":"不需要了"}`, `{"reason":"不要了","receipt":"RECEIPT"}`,
		`{"level":"community","reason":"久拖"}`, `{"reason":"又坏了"}`, `{"text":"已联系","internal":true}`,
	} {
		f.Add(uint8(i), []byte(s))
	}
	// More seeds are in testdata/fuzz/FuzzActionBody.
	w := &fuzzWorld{}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		m := w.get(t)
		fa := fuzzActions[int(which)%len(fuzzActions)]
		id := m.order(fa.state)
		h := http.Header{"Content-Type": {"application/json"}}
		if fa.who == "body receipt" {
			body = []byte(strings.ReplaceAll(string(body), "RECEIPT", m.svc.Receipt(id)))
		} else {
			h.Set("Authorization", "Bearer "+m.tokens[fa.who])
		}
		before := m.store.LastSeq()
		rec := m.serve("POST", "/api/v1/orders/"+id+"/"+fa.action, body, h)
		allowed := []int{200, 400, 409, 413, 415}
		if fa.who == "body receipt" {
			allowed = append(allowed, 401) // no receipt, or a wrong one
		}
		if fa.action == "escalate" {
			allowed = append(allowed, 403) // to the street: the community office's, not the steward's
		}
		checkAnswer(t, m, rec, before, allowed...)
		if rec.Code == 200 {
			var v struct{ Version uint64 }
			_ = json.Unmarshal(rec.Body.Bytes(), &v)
			snap, err := m.svc.Order(t.Context(), id)
			if err != nil || snap.Version != v.Version || m.store.LastSeq()-before != 1 {
				t.Fatalf("answered version %d; the order is at %d (%v) after %d events", v.Version, snap.Version, err, m.store.LastSeq()-before)
			}
		}
	})
}
