package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/internal/app"
	"github.com/redlane/redlane/query"
)

// auditRig is a real serve, in process, with its audit key in its data directory.
type auditRig struct {
	t       *testing.T
	dir     string
	natsURL string
	c       client
	toks    map[string]string
	js      jetstream.JetStream
}

func newAuditRig(t *testing.T) *auditRig {
	t.Helper()
	dir := t.TempDir()
	natsPort := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan string, 1)
	done := make(chan error, 1)
	args := []string{"--data", dir, "--http", "127.0.0.1:0", "--nats-listen", "127.0.0.1:" + strconv.Itoa(natsPort), "--demo",
		"--sync", "interval", "--seal-every", "5", "--seal-interval", "100ms"}
	go func() { done <- serve(ctx, args, io.Discard, io.Discard, func(string) string { return "" }, started) }()
	r := &auditRig{t: t, dir: dir, natsURL: "nats://127.0.0.1:" + strconv.Itoa(natsPort)}
	select {
	case addr := <-started:
		r.c = client{t, "http://" + addr}
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	r.toks = readDemoTokens(t, dir)
	for _, f := range []string{app.SigningKeyFile, app.ServiceSeedFile, app.AuditorSeedFile, app.ReportingSeedFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi, err)
		}
	}
	r.js = connectAs(t, r.natsURL, filepath.Join(dir, app.ServiceSeedFile))
	return r
}

// connectAs connects to NATS with an nkey seed file ("": none).
func connectAs(t testing.TB, url, seed string) jetstream.JetStream {
	t.Helper()
	var opts []nats.Option
	if seed != "" {
		opt, err := nats.NkeyOptionFromSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, opt)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// audit runs "redlane audit ARGS --nats-url … --data …" and returns its output.
func (r *auditRig) audit(args ...string) (string, string, error) {
	r.t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--nats-url", r.natsURL, "--data", r.dir)
	err := run(context.Background(), append([]string{"audit"}, args...), &out, &errOut, func(string) string { return "" })
	return out.String(), errOut.String(), err
}

func (r *auditRig) verify() (map[string]any, error) {
	r.t.Helper()
	out, _, err := r.audit("verify", "--format", "json")
	var rep map[string]any
	if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil {
		r.t.Fatalf("verify json: %v: %s", jerr, out)
	}
	return rep, err
}

// waitSealed waits until the sealer has sealed every event.
func (r *auditRig) waitSealed() map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rep, err := r.verify()
		if err != nil {
			r.t.Fatalf("verify: %v: %v", err, rep["problems"])
		}
		if rep["unsealed"] == 0.0 && rep["seals"].(float64) > 0 {
			return rep
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("not sealed: %v", rep)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAuditAgainstARunningServe(t *testing.T) {
	r := newAuditRig(t)
	id := walk(t, r.c, r.toks)

	// The untouched store verifies, signed and sealed by serve itself.
	rep := r.waitSealed()
	if rep["events"] != rep["signed"] || rep["problems_found"] != 0.0 {
		t.Fatalf("untouched: %v", rep)
	}
	out, _, err := r.audit("verify")
	if err != nil || !strings.Contains(out, "OK: no stored event") {
		t.Fatalf("verify text: %v\n%s", err, out)
	}

	// The order's query.AuditStory as the auditor's NATS user reads it: the resident's details stay
	// sealed, since it cannot read the residents' keys.
	out, warn, err := r.audit("order", id, "--format", "json")
	if err != nil || !strings.Contains(out, `"requester_sealed"`) || strings.Contains(out, "张阿姨") || !strings.Contains(warn, "may not read the privacy vault") {
		t.Fatalf("the auditor's story: %v\n%s\n%s", err, out, warn)
	}
	// The order's story, and its state between two commands, as the service reads it.
	out, _, err = r.audit("order", id, "--format", "json", "--nats-nkey", filepath.Join(r.dir, app.ServiceSeedFile))
	if err != nil {
		t.Fatal(err)
	}
	var st query.AuditStory
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Events) != 5 || st.State == nil || st.State.Status != "closed" || st.State.Requester.Phone != "138****5678" || st.State.Requester.Name != "张阿姨" {
		t.Fatalf("story: %s", out)
	}
	if !strings.Contains(st.Events[1].Summary, "王芳") || st.Events[1].Role != domain.RoleSteward || st.Events[1].ActorName != "王芳" {
		t.Errorf("dispatch: %+v", st.Events[1])
	}
	// The number residents quote tells the same story.
	byNumber, _, err := r.audit("order", strings.ToLower(st.State.Number), "--format", "json")
	if err != nil || !strings.Contains(byNumber, `"order": "`+id+`"`) {
		t.Errorf("audit order by number %s: %v\n%s", st.State.Number, err, byNumber)
	}
	full := st
	dispatched := st.Events[1].Time
	out, _, err = r.audit("order", id, "--as-of", dispatched.Format(time.RFC3339Nano), "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	st = query.AuditStory{}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.State == nil || st.State.Status != "dispatched" || *st.State.Assignee != "m-001" || len(st.Events) != 2 || st.Later != 3 {
		t.Errorf("as of the dispatch: %s", out)
	}
	out, _, err = r.audit("order", id, "--as-of", dispatched.Format(time.RFC3339Nano))
	if err != nil || !strings.Contains(out, "status dispatched, assignee m-001") || !strings.Contains(out, "3 later ones not shown") {
		t.Errorf("text as of the dispatch: %v\n%s", err, out)
	}
	out, _, err = r.audit("order", id, "--format", "csv")
	if err != nil || strings.Count(out, "\n") != 6 || !strings.HasPrefix(out, "\uFEFF序号,时间（UTC）,") {
		t.Errorf("csv: %v\n%s", err, out)
	}

	// The backlog as it stood between the dispatch and the acceptance.
	out, _, err = r.audit("replay", "--until", dispatched.Format(time.RFC3339Nano), "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rp app.ReplayOut
	if err := json.Unmarshal([]byte(out), &rp); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range rp.Backlogs {
		for _, it := range l.Items {
			if it.ID == id {
				found = it.Status == "dispatched" && it.Assignee == "m-001" && l.Lane.Lane == "rouqiao-houxiang"
			}
		}
	}
	if !found {
		t.Errorf("the replayed backlog does not show the order dispatched: %s", out)
	}
	// Now, the order is closed and off the backlog; the ranking has its points.
	out, _, err = r.audit("replay", "--until", time.Now().Add(time.Second).Format(time.RFC3339))
	if err != nil || strings.Contains(out, "楼道灯不亮了") || !strings.Contains(out, "EVALUATION RANKINGS") || !strings.Contains(out, "m-001") {
		t.Errorf("replay now: %v\n%s", err, out)
	}

	// Export: every order event, one valid envelope a line.
	file := filepath.Join(t.TempDir(), "events.jsonl")
	_, stderr, err := r.audit("export", "--from", full.Events[0].Time.Add(-time.Millisecond).Format(time.RFC3339Nano), "--until", time.Now().Format(time.RFC3339Nano), "-o", file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines, orderEvents int
	var lastSeq uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines++
		env, err := domain.DecodeEnvelope(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v: %s", lines, err, sc.Bytes())
		}
		var withSeq struct{ Seq uint64 }
		_ = json.Unmarshal(sc.Bytes(), &withSeq)
		if withSeq.Seq <= lastSeq {
			t.Errorf("line %d: seq %d after %d", lines, withSeq.Seq, lastSeq)
		}
		lastSeq = withSeq.Seq
		if env.AggregateID == id {
			orderEvents++
		}
	}
	if orderEvents != 5 || lines < 5 || !strings.Contains(stderr, fmt.Sprintf("exported %d events", lines)) {
		t.Errorf("export: %d lines, %d of the order; stderr %s", lines, orderEvents, stderr)
	}

	// Tampering. Deleting a message, as "nats stream rmm" does, or purging the stream is
	// refused even to the service's own NATS user: the stream denies both.
	ctx := context.Background()
	stream, err := r.js.Stream(ctx, "REDLANE")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.DeleteMsg(ctx, full.Events[2].Seq); err == nil {
		t.Fatal("the stream let an event be deleted")
	}
	if err := stream.Purge(ctx); err == nil {
		t.Fatal("the stream let itself be purged")
	}
	// A forged event published on an order's subject is named by its position.
	forged := []byte(`{"specversion":"1.0","id":"0193a5c2-7f1e-7c3a-9a51-2b4f0d3c9e11","type":"redlane.order.cancelled.v1","source":"redlane","subject":"order/` + id +
		`","time":"2026-11-27T02:15:04Z","datacontenttype":"application/json","actor":"admin","role":"admin","aggregatetype":"order","aggregateid":"` + id +
		`","aggregateversion":6,"correlationid":"x","causationid":"x","data":{"reason":"伪造"}}`)
	m := nats.NewMsg("redlane.events.order." + id)
	m.Data = forged
	m.Header.Set(jetstream.MsgIDHeader, "0193a5c2-7f1e-7c3a-9a51-2b4f0d3c9e11")
	ack, err := r.js.PublishMsg(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	rep, err = r.verify()
	if err == nil || rep["first_bad"] != float64(ack.Sequence) {
		t.Fatalf("first bad %v, want %d", rep["first_bad"], ack.Sequence)
	}
	named := false
	for _, p := range rep["problems"].([]any) {
		p := p.(map[string]any)
		named = named || (p["seq"] == float64(ack.Sequence) && p["kind"] == "unsigned")
	}
	if !named {
		t.Errorf("the forged event at %d is not named: %v", ack.Sequence, rep["problems"])
	}
	// The export leaves nothing out silently: the forged event is exported (it is an
	// envelope) and verify is what tells it apart.
	if _, _, err := r.audit("export", "-o", filepath.Join(t.TempDir(), "all.jsonl")); err != nil {
		t.Error(err)
	}
}

func TestAuditVerifyNeedsCredentials(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"audit", "verify", "--data", t.TempDir()}, &out, &errOut, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "no --nats-url given and no event store") {
		t.Fatalf("verify with nothing to read: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	for _, s := range []string{"2026-11-27T06:00:00Z", "2026-11-27T14:00:00+08:00", "2026-11-27 14:00", "2026-11-27 14:00:00", "2026-11-27T14:00"} {
		got, err := query.ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("query.ParseTime(%q) = %s, %v; want %s", s, got, err, want)
		}
	}
	for _, s := range []string{"", "2026-11-27", "yesterday", "14:00"} {
		if _, err := query.ParseTime(s); err == nil {
			t.Errorf("query.ParseTime(%q) succeeded", s)
		}
	}
}

func TestTerminalSafe(t *testing.T) {
	if got := query.TerminalSafe("灯\x1b[2J坏\r了\u202e"); got != `灯\u001b[2J坏\u000d了\u202e` {
		t.Errorf("terminalSafe = %q", got)
	}
	if got := query.TerminalSafe("楼道灯不亮了"); got != "楼道灯不亮了" {
		t.Errorf("plain text changed: %q", got)
	}
}
