package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/internal/app"
	"github.com/redlane/redlane/service"
)

// command is one logical command a load worker sent, with what came of it. Every
// attempt of a command carries the same X-Correlation-ID, which the server writes into
// the events the command makes, so the log says which command made which event.
type command struct {
	corr     string
	kind     string // submit, dispatch, claim, accept, complete, rate
	order    string // the order's id; "" for a submit that got no answer
	status   int    // of the last answer; 0: none
	version  uint64 // the order's version in a 2xx answer
	attempts int
	replayed bool // a submit answered as the replay of an earlier attempt
	answered time.Time
}

// loadRecorder collects the commands of a load.
type loadRecorder struct {
	mu       sync.Mutex
	commands []*command
}

func (l *loadRecorder) add(c *command) {
	l.mu.Lock()
	l.commands = append(l.commands, c)
	l.mu.Unlock()
}

// loadClient sends commands to a Redlane that may be down at any moment.
type loadClient struct {
	base string
	hc   *http.Client
	rec  *loadRecorder
	seq  atomic.Int64
	// gate holds new commands back while the server restarts: every send holds it for
	// reading. (Under a steady load /readyz does not turn 200 after a restart; see
	// TestCrashLosesNothingAcknowledged.)
	gate sync.RWMutex
	// run tells this client's correlation ids (and so its idempotency keys) from another's.
	run string
}

func newLoadClient(base string) *loadClient {
	return &loadClient{base: base, rec: &loadRecorder{}, hc: &http.Client{Timeout: 5 * time.Second},
		run: strconv.FormatInt(time.Now().UnixNano()%1e9, 36)}
}

// send makes one attempt of c; it reports the answer's status (0: none) and body.
func (lc *loadClient) send(c *command, method, path, token string, body any, headers ...string) (int, map[string]any) {
	lc.gate.RLock()
	defer lc.gate.RUnlock()
	c.attempts++
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, lc.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Correlation-ID", c.corr)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := lc.hc.Do(req)
	if err != nil {
		c.status = 0
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if json.Unmarshal(raw, &out) != nil {
		c.status = 0 // cut off mid-answer: no answer
		return 0, nil
	}
	c.status, c.answered = resp.StatusCode, time.Now()
	c.replayed = c.replayed || resp.Header.Get("Idempotent-Replayed") == "true"
	if resp.StatusCode/100 == 2 {
		v, _ := out["version"].(float64)
		c.version = uint64(v)
	}
	return resp.StatusCode, out
}

func (lc *loadClient) newCommand(kind, orderID string) *command {
	c := &command{corr: fmt.Sprintf("load-%s-%s-%d", lc.run, kind, lc.seq.Add(1)), kind: kind, order: orderID}
	lc.rec.add(c)
	return c
}

// crew is who works one lane's orders: its steward and a member of its community.
type crew struct{ lane, steward, member, memberName string }

// The demo's two crews with tokens: 王芳 and 李明 at 柔桥后巷 (taoyuan), 刘洋 and 王律师
// at 五洞桥 (yingchun). Two members keep each one's monthly record document small.
var crews = []crew{
	{"rouqiao-houxiang", "王芳", "m-001", "李明"},
	{"wudongqiao", "刘洋", "m-004", "王律师"},
}

// pace is the pause between a worker's commands: it bounds the load, so that a crash
// always finds commands in flight without the test writing more than it needs.
const pace = 20 * time.Millisecond

// life walks one order as far as the server lets it: submitted by the hotline operator
// with an Idempotency-Key (and retried under the same key until it is answered, across
// restarts), then dispatched and accepted, or claimed, then completed and rated with the
// receipt. An action that gets no answer ends the life: its outcome is for the log to
// tell.
func (lc *loadClient) life(toks map[string]string, cr crew, claim bool, stop <-chan struct{}) {
	sub := lc.newCommand("submit", "")
	key := "key-" + sub.corr
	var receipt string
	for {
		status, out := lc.send(sub, "POST", "/api/v1/orders", toks["96345 热线"], map[string]any{
			"lane": cr.lane, "category": "repair", "title": "水管漏水", "channel": "hotline",
			"requester": map[string]any{"name": "李大爷", "phone": "13900001111"},
		}, "Idempotency-Key", key)
		if status/100 == 2 {
			sub.order, _ = out["id"].(string)
			receipt, _ = out["receipt"].(string)
			break
		}
		if status/100 == 4 {
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	p := "/api/v1/orders/" + sub.order
	step := func(kind, token string, body any) bool {
		select {
		case <-stop:
			return false
		case <-time.After(pace):
		}
		c := lc.newCommand(kind, sub.order)
		status, _ := lc.send(c, "POST", p+"/"+kind, token, body)
		return status/100 == 2
	}
	if claim {
		if !step("claim", toks[cr.memberName], nil) {
			return
		}
	} else if !step("dispatch", toks[cr.steward], map[string]any{"member": cr.member}) || !step("accept", toks[cr.memberName], nil) {
		return
	}
	if step("complete", toks[cr.memberName], map[string]any{"note": "修好了", "minutes": 15}) {
		step("rate", "", map[string]any{"solved": true, "stars": 4, "receipt": receipt})
	}
}

// TestCrashLosesNothingAcknowledged kills the real binary with SIGKILL three times while
// six clients send commands, restarting it each time. Afterwards the log must hold every
// acknowledged command exactly once, nothing refused, at most one event for a command
// that got no answer, and only orders whose histories are valid: versions 1..n, each
// event the one Decide makes from the state before it. The views must equal a rebuild.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	b := newBinary(t)
	cmd := b.launch()
	toks := readDemoTokens(t, b.dir)
	lc := newLoadClient(b.base)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				lc.life(toks, crews[w%2], w%4 >= 2, stop)
				time.Sleep(pace)
			}
		})
	}
	rng := rand.New(rand.NewPCG(7, 11))
	const kills = 3
	for range kills {
		time.Sleep(time.Duration(1000+rng.IntN(1000)) * time.Millisecond)
		kill9(t, cmd)
		// The commands in flight fail; new ones wait until the server is back. launch
		// waits for /readyz, which compares each view's checkpoint with the log's end as
		// it is at each call: under a steady load it would not turn 200.
		lc.gate.Lock()
		cmd = b.launch()
		lc.gate.Unlock()
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	checkLog(t, b.natsURL(), filepath.Join(b.dir, app.AuditorSeedFile), lc.rec.commands)

	out, err := b.cli("projections", "verify", "--nats-url", b.natsURL(), "--data", b.dir)
	if err != nil {
		t.Fatalf("verify after %d kills: %v\n%s", kills, err, out)
	}
	for _, v := range app.ViewNames() {
		if !strings.Contains(out, "view "+v+" equals a rebuild") {
			t.Errorf("verify did not vouch for %s:\n%s", v, out)
		}
	}
}

// storedEvent is an order event as the log holds it.
type storedEvent struct {
	domain.Envelope
	seq uint64
}

// readOrderEvents reads every order event of the REDLANE stream, in log order.
func readOrderEvents(t *testing.T, url, seed string) []storedEvent {
	t.Helper()
	js := connectAs(t, url, seed)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, "REDLANE")
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter("redlane.events.order.>"))
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, n := range info.State.Subjects {
		total += n
	}
	var out []storedEvent
	if total == 0 {
		return out
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"redlane.events.order.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for uint64(len(out)) < total {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for msg := range batch.Messages() {
			md, _ := msg.Metadata()
			env, err := domain.DecodeEnvelope(msg.Data())
			if err != nil {
				t.Fatalf("event at %d: %v", md.Sequence.Stream, err)
			}
			out = append(out, storedEvent{env, md.Sequence.Stream})
		}
		if err := batch.Error(); err != nil && ctx.Err() != nil {
			t.Fatal(err)
		}
	}
	return out
}

// eventTypes is the event each kind of command makes.
var eventTypes = map[string]string{
	"submit": order.TypeSubmitted, "dispatch": order.TypeDispatched, "claim": order.TypeClaimed,
	"accept": order.TypeAccepted, "complete": order.TypeCompleted, "rate": order.TypeRated,
}

// checkLog holds the log against the commands sent, and logs the counts.
func checkLog(t *testing.T, url, seed string, commands []*command) {
	t.Helper()
	events := readOrderEvents(t, url, seed)
	byCorr := map[string][]storedEvent{}
	byOrder := map[string][]storedEvent{}
	ids := map[string]bool{}
	for _, e := range events {
		if ids[e.ID] {
			t.Errorf("event id %s is stored twice", e.ID)
		}
		ids[e.ID] = true
		byCorr[e.CorrelationID] = append(byCorr[e.CorrelationID], e)
		byOrder[e.AggregateID] = append(byOrder[e.AggregateID], e)
	}

	var sent, acked, refused, failed, unanswered, found, appliedUnanswered, attempts, replayed int
	for _, c := range commands {
		sent++
		attempts += c.attempts
		if c.replayed {
			replayed++
		}
		got := byCorr[c.corr]
		switch {
		case c.status/100 == 2:
			acked++
			if len(got) != 1 {
				t.Errorf("%s %s (%s) was acknowledged at version %d; the log holds %d events of it", c.kind, c.order, c.corr, c.version, len(got))
				continue
			}
			e := got[0]
			if e.AggregateID != c.order || e.Version != c.version || e.Type != eventTypes[c.kind] {
				t.Errorf("%s %s (%s) was acknowledged at version %d; the log holds %s of %s at version %d",
					c.kind, c.order, c.corr, c.version, e.Type, e.AggregateID, e.Version)
				continue
			}
			found++
		case c.status/100 == 4:
			refused++
			if len(got) != 0 {
				t.Errorf("%s %s (%s) was refused with %d, yet the log holds %d events of it", c.kind, c.order, c.corr, c.status, len(got))
			}
		default:
			if c.status == 0 {
				unanswered++
			} else {
				failed++
			}
			if len(got) > 1 {
				t.Errorf("%s %s (%s) got no answer, and the log holds %d events of it", c.kind, c.order, c.corr, len(got))
			}
			appliedUnanswered += len(got)
		}
	}
	for id, evs := range byOrder {
		checkHistory(t, id, evs)
	}
	t.Logf("%d commands sent in %d attempts: %d acknowledged (%d submits as replays of an unanswered attempt), %d refused, "+
		"%d failed (5xx), %d unanswered; %d of the acknowledged found exactly once, %d unanswered or failed found applied (whole); "+
		"%d orders, %d order events, every history valid",
		sent, attempts, acked, replayed, refused, failed, unanswered, found, appliedUnanswered, len(byOrder), len(events))
	if acked == 0 || found != acked {
		t.Errorf("%d acknowledged, %d found", acked, found)
	}
}

// checkHistory replays an order's events: versions run 1..n, the first is its
// submission, and each later event is exactly what order.Decide makes of the command
// behind it in the state the events before it left, at its time.
func checkHistory(t *testing.T, id string, evs []storedEvent) {
	t.Helper()
	var s order.State
	for i, e := range evs {
		if e.Version != uint64(i+1) {
			t.Errorf("order %s: event %d (seq %d, %s) is at version %d", id, i+1, e.seq, e.Type, e.Version)
			return
		}
		ev, err := order.Events.Decode(e.Envelope)
		if err != nil {
			t.Errorf("order %s: %v", id, err)
			return
		}
		if i == 0 {
			if _, ok := ev.(order.Submitted); !ok {
				t.Errorf("order %s begins with %s, not its submission", id, e.Type)
				return
			}
		} else if want, err := redecide(s, ev, e.Envelope); err != nil || !reflect.DeepEqual(want, []domain.Event{ev}) {
			t.Errorf("order %s: %s at version %d is not what Decide makes in state %s: %v, %v", id, e.Type, e.Version, s.Status, want, err)
			return
		}
		s = order.Evolve(s, ev, e.Envelope)
	}
}

// redecide decides again the command that made ev, as its actor, at its time.
func redecide(s order.State, ev domain.Event, env domain.Envelope) ([]domain.Event, error) {
	oe := order.Env{Now: env.Time, Catalog: order.DefaultCatalog(), Rules: order.DefaultRules}
	switch e := ev.(type) {
	case order.Dispatched:
		oe.Actor = domain.Actor{ID: env.Actor, Role: domain.RoleSteward, Lanes: []string{s.Lane}}
		return order.Decide(s, order.Dispatch{Member: order.MemberRef{ID: e.Member, Community: s.Community, Active: true}}, oe)
	case order.Claimed:
		oe.Actor = domain.Actor{ID: env.Actor, Role: domain.RoleMember, Member: e.Member}
		return order.Decide(s, order.Claim{Member: order.MemberRef{ID: e.Member, Community: s.Community, Active: true}}, oe)
	case order.Accepted:
		oe.Actor = domain.Actor{ID: env.Actor, Role: domain.RoleMember, Member: e.Member}
		return order.Decide(s, order.Accept{}, oe)
	case order.Completed:
		oe.Actor = domain.Actor{ID: env.Actor, Role: domain.RoleMember, Member: e.Member}
		return order.Decide(s, order.Complete{Note: e.Note, Minutes: e.Minutes}, oe)
	case order.Rated:
		oe.Actor = service.Resident
		return order.Decide(s, order.Rate{Solved: &e.Solved, Stars: e.Stars, Comment: e.Comment}, oe)
	}
	return nil, fmt.Errorf("the load never makes %T", ev)
}
