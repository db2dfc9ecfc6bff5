package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/internal/app"
)

// forgeEvent publishes an envelope as someone with the bus but without Redlane's signing
// key would; sign, when set, signs it with a key of their own. It returns its position.
func forgeEvent(t *testing.T, js jetstream.JetStream, aggType, aggID, typ string, version uint64, data any, sign *jsstore.Signer) uint64 {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	raw, _ := json.Marshal(data)
	body, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": id, "type": typ, "source": "redlane", "subject": aggType + "/" + aggID,
		"time": time.Now().UTC(), "datacontenttype": "application/json", "actor": "admin", "role": "admin",
		"aggregatetype": aggType, "aggregateid": aggID, "aggregateversion": version,
		"correlationid": id, "causationid": id, "data": json.RawMessage(raw),
	})
	m := nats.NewMsg("redlane.events." + aggType + "." + aggID)
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, id)
	m.Header.Set(jsstore.HeaderType, typ)
	if sign != nil {
		m.Header.Set(jsstore.HeaderSignature, sign.SignEvent(m.Subject, id, body))
		m.Header.Set(jsstore.HeaderKey, sign.KeyID())
	}
	ack, err := js.PublishMsg(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// verifyAsAuditor runs "redlane audit verify" with nothing but the auditor's NATS key,
// from a directory with no data directory in it.
func verifyAsAuditor(t *testing.T, b *binary) (string, error) {
	t.Helper()
	cmd := exec.Command(b.path, "audit", "verify", "--nats-url", b.natsURL(), "--nats-nkey", filepath.Join(b.dir, app.AuditorSeedFile))
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestForgedEventsAreNotObeyed is the insider with the bus but not the signing key: a
// forged admin token and a forged 5-star rating change nothing, are counted, shown by
// /readyz, marked in the audit story and named by an auditor's verify.
func TestForgedEventsAreNotObeyed(t *testing.T) {
	b := newBinary(t)
	b.launch()
	c := client{t, b.base}
	toks := readDemoTokens(t, b.dir)

	if out, err := verifyAsAuditor(t, b); err != nil {
		t.Fatalf("verify of an untouched store: %v\n%s", err, out)
	}

	// An order done but not yet rated.
	var sub struct{ ID, Receipt string }
	sub.ID, sub.Receipt = walkToCompleted(t, c, toks)
	p := "/api/v1/orders/" + sub.ID
	var recordBefore map[string]any
	for deadline := time.Now().Add(20 * time.Second); recordBefore["completed"] != 1.0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the member's record never showed the completed order: %v", recordBefore)
		}
		c.must(200, "GET", "/api/v1/members/m-001/record", toks["审计"], nil, &recordBefore)
	}

	js := connectAs(t, b.natsURL(), filepath.Join(b.dir, app.ServiceSeedFile))
	// A forged admin token, unsigned.
	secret := "forged-admin-secret-0123456789"
	sum := sha256.Sum256([]byte(secret))
	tokenSeq := forgeEvent(t, js, "token", "forged", "redlane.token.issued.v1", 1,
		map[string]any{"role": "admin", "name": "intruder", "hash": hex.EncodeToString(sum[:])}, nil)
	// A forged 5-star rating, signed with a key nobody introduced.
	ratedSeq := forgeEvent(t, js, order.AggregateType, sub.ID, order.TypeRated, 5,
		map[string]any{"solved": true, "stars": 5, "comment": "伪造的好评"}, jsstore.GenerateSigner())

	time.Sleep(time.Second) // the directory and the views have seen both
	if code := c.call("POST", "/api/v1/tokens", secret, map[string]any{"role": "admin", "name": "x"}, nil); code != http.StatusUnauthorized {
		t.Errorf("the forged token's secret got %d, want 401", code)
	}
	var o struct{ Status string }
	c.must(200, "GET", p, toks["王芳"], nil, &o)
	if o.Status != "completed" {
		t.Errorf("after a forged rating the order is %q, want completed", o.Status)
	}
	var recordAfter map[string]any
	c.must(200, "GET", "/api/v1/members/m-001/record", toks["审计"], nil, &recordAfter)
	if recordAfter["points"] != recordBefore["points"] || recordAfter["ratings"] != recordBefore["ratings"] {
		t.Errorf("a forged rating moved the member's record: %v → %v", recordBefore, recordAfter)
	}
	var feed struct{ Items []struct{ Text, Type string } }
	c.must(200, "GET", "/api/v1/feed?limit=100", "", nil, &feed)
	for _, e := range feed.Items {
		if strings.Contains(e.Text, "伪造") || e.Type == order.TypeRated {
			t.Errorf("the feed shows a forged event as fact: %+v", e)
		}
	}

	// The audit story shows it, as not Redlane's.
	var story struct {
		Events []struct {
			Seq      uint64
			Rejected string
			Notice   string
		}
		State *struct{ Status string }
	}
	c.must(200, "GET", "/api/v1/audit/orders/"+sub.ID, toks["审计"], nil, &story)
	marked := false
	for _, e := range story.Events {
		if e.Seq == ratedSeq {
			marked = e.Rejected == "untrusted_key" && e.Notice == "this event is not Redlane's: ignored"
		}
	}
	if !marked || story.State == nil || story.State.Status != "completed" {
		t.Errorf("the audit story does not mark the forged rating at %d as ignored: %+v", ratedSeq, story)
	}

	// Counted once each, and told by /readyz.
	metrics := get(t, b.base+"/metrics")
	for _, want := range []string{`redlane_events_rejected_total{reason="unsigned"} 1`, `redlane_events_rejected_total{reason="untrusted_key"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	var ready struct {
		Status         string
		RejectedEvents int `json:"rejected_events"`
	}
	if err := json.Unmarshal([]byte(get(t, b.base+"/readyz")), &ready); err != nil || ready.Status != "degraded" || ready.RejectedEvents < 2 {
		t.Errorf("readyz: %+v %v", ready, err)
	}

	// A forged dispatch of a new order, to a member of another community, shows nowhere
	// as fact: not on the backlog, the steward's board or the lane's public screen.
	var fresh struct{ ID, Number string }
	c.must(201, "POST", "/api/v1/orders", "", map[string]any{
		"lane": "rouqiao-houxiang", "category": "日常维修", "title": "水管漏水",
		"requester": map[string]any{"name": "李大爷", "phone": "13912345678"},
	}, &fresh)
	dispatchedSeq := forgeEvent(t, js, order.AggregateType, fresh.ID, order.TypeDispatched, 2,
		map[string]any{"member": "m-004"}, nil)
	var backlog struct {
		Items []struct{ ID, Status, Assignee string }
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c.must(200, "GET", "/api/v1/lanes/rouqiao-houxiang/backlog", toks["王芳"], nil, &backlog)
		found := false
		for _, it := range backlog.Items {
			if it.ID == fresh.ID {
				found = true
				if it.Status != "open" || it.Assignee != "" {
					t.Errorf("the backlog shows a forged dispatch: %+v", it)
				}
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new order never reached the backlog")
		}
	}
	time.Sleep(500 * time.Millisecond) // the forged event has reached every view writer
	for _, page := range []struct{ path, token string }{{"/board", toks["王芳"]}, {"/screen/rouqiao-houxiang", ""}} {
		req, _ := http.NewRequest("GET", b.base+page.path, nil)
		if page.token != "" {
			req.Header.Set("Authorization", "Bearer "+page.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		html, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(html), "水管漏水") || strings.Contains(string(html), "王律师") {
			t.Errorf("%s (%d) shows the forged dispatch to 王律师, or not the order:\n%s", page.path, resp.StatusCode, html)
		}
	}
	req, _ := http.NewRequest("GET", b.base+"/audit/orders/"+fresh.ID, nil)
	req.Header.Set("Authorization", "Bearer "+toks["审计"])
	if resp, err := http.DefaultClient.Do(req); err == nil {
		html, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(html), "此事件并非本系统签发") {
			t.Errorf("the audit page does not mark the forged dispatch at %d:\n%s", dispatchedSeq, html)
		}
	} else {
		t.Fatal(err)
	}

	// The auditor's command line tells the same story.
	cmd := exec.Command(b.path, "audit", "order", sub.ID, "--nats-url", b.natsURL(), "--nats-nkey", filepath.Join(b.dir, app.AuditorSeedFile))
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "this event is not Redlane's: ignored") {
		t.Errorf("redlane audit order does not mark the forged rating: %v\n%s", err, out)
	}

	// The order goes on with its genuine events: the resident's own rating closes it.
	c.must(200, "POST", p+"/rate", "", map[string]any{"solved": true, "stars": 4, "comment": "还行", "receipt": sub.Receipt}, nil)
	c.must(200, "GET", p, toks["王芳"], nil, &o)
	if o.Status != "closed" {
		t.Errorf("after the genuine rating the order is %q, want closed", o.Status)
	}

	out, err := verifyAsAuditor(t, b)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("verify of a forged store: %v\n%s", err, out)
	}
	for _, seq := range []uint64{tokenSeq, ratedSeq, dispatchedSeq} {
		if !strings.Contains(out, fmt.Sprintf("seq %d ", seq)) {
			t.Errorf("verify does not name the forged event at %d:\n%s", seq, out)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
