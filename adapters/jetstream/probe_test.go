package jetstream

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redlane/redlane/adapters/storetest"
)

func TestProbeTiming(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	a := newAggs(500)
	for range 10 {
		for k, id := range a.ids {
			seqs, err := s.Append(ctx, "order", id, a.last[k], storetest.Seal(t, "order", id, a.ver[k], 1))
			if err != nil {
				t.Fatal(err)
			}
			a.last[k] = seqs[0]
			a.ver[k]++
		}
	}
	nc := s.js.Conn()
	after := strconv.FormatUint(a.last[7]-500, 10)
	for _, req := range []string{
		`{"seq":1,"next_by_subj":"` + s.Subject("order", a.ids[7]) + `","batch":10}`,
		`{"seq":` + after + `,"next_by_subj":"` + s.Subject("order", a.ids[7]) + `","batch":2}`,
		`{"seq":` + after + `,"next_by_subj":"` + s.Subject("order", a.ids[7]) + `","batch":1}`,
		`{"seq":` + after + `,"next_by_subj":"` + s.Subject("order", a.ids[7]) + `"}`,
		`{"seq":` + after + `}`,
	} {
		for range 3 {
			inbox := nc.NewInbox()
			sub, _ := nc.SubscribeSync(inbox)
			t0 := time.Now()
			nc.PublishRequest(s.directGet, inbox, []byte(req))
			var times []time.Duration
			for {
				m, err := sub.NextMsg(time.Second)
				if err != nil {
					break
				}
				times = append(times, time.Since(t0))
				if len(m.Data) == 0 || len(times) == 1 && m.Header.Get("Nats-Num-Pending") == "" {
					break
				}
			}
			sub.Unsubscribe()
			t.Logf("%s: %v", req, times)
		}
	}
	for range 3 {
		t0 := time.Now()
		_, err := s.js.Publish(ctx, "redlane.events.x.y", []byte("{}"))
		t.Logf("plain publish %v %v", time.Since(t0), err)
		t0 = time.Now()
		_, err = s.stream.GetLastMsgForSubject(ctx, "redlane.events.x.y")
		t.Logf("last for subject %v %v", time.Since(t0), err)
		t0 = time.Now()
		err = nc.Flush()
		t.Logf("flush (PING) %v %v", time.Since(t0), err)
	}
}
