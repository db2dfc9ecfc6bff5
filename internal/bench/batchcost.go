package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
)

// batchCostRows measure what the server charges for one atomic batch against one
// publish, with fsync before every acknowledgement, by raw publishes to the raw stream:
// nats-server stages every atomic batch of a one-replica file stream in a file store of
// its own, a fixed cost that decides how far group commit can go. From it, the ceiling:
// the rate at which n callers' commands would be stored were every caller in every batch
// and no moment lost between batches, against the raw baseline's rate at n callers.
func (b *bench) batchCostRows(ctx context.Context, r *rig, bodies [][][]byte, res map[loadCase]summary) error {
	rounds := 40
	if b.cfg.Quick {
		rounds = 8
	}
	msg := func(i int) *nats.Msg {
		m := nats.NewMsg("raw.batchcost." + uuid.NewString())
		m.Data = bodies[i%len(bodies)][0]
		m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
		return m
	}
	// One publish at a time: what a lone command's append waits for.
	start := time.Now()
	for i := range rounds {
		if _, err := r.rawJS.PublishMsg(ctx, msg(i)); err != nil {
			return fmt.Errorf("batch cost: publish: %w", err)
		}
	}
	one := time.Since(start) / time.Duration(rounds)
	sizes := []int{1}
	for _, c := range b.cfg.GroupCallers {
		if c > 1 && c <= jsstore.MaxBatchMessages {
			sizes = append(sizes, c)
		}
	}
	for _, n := range sizes {
		start := time.Now()
		for i := range rounds {
			msgs := make([]*nats.Msg, n)
			for j := range msgs {
				msgs[j] = msg(i*n + j)
			}
			if _, err := jetstreamext.PublishMsgBatch(ctx, r.rawJS, msgs, jetstreamext.BatchFlowControl{AckFirst: false}); err != nil {
				return fmt.Errorf("batch cost: batch of %d: %w", n, err)
			}
		}
		per := time.Since(start) / time.Duration(rounds)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.rep.Rows = append(b.rep.Rows, Row{
			Key: fmt.Sprintf("raw_atomic_batch_%d_sync_always", n), Name: fmt.Sprintf("raw atomic batch of %d event(s) (baseline: one publish)", n),
			Sync: "always", Unit: "ms", Redlane: ms(per), Raw: ms(one), RawLabel: "one publish", Ratio: div(ms(per), ms(one)),
			Note: fmt.Sprintf("one atomic batch of %d costs the server what %.1f publishes one after another do", n, div(ms(per), ms(one))),
		})
		if n == 1 {
			continue
		}
		base, ok := res[loadCase{kindGroup, n, ""}.baseline()]
		if !ok || base.rate == 0 {
			continue
		}
		ceiling := float64(n) / per.Seconds()
		b.rep.Rows = append(b.rep.Rows, Row{
			Key: fmt.Sprintf("group_ceiling_c%d_sync_always", n), Name: fmt.Sprintf("group commit's ceiling, %d callers (every caller in every batch)", n),
			Sync: "always", Unit: "cmd/s", Redlane: ceiling, Raw: base.rate, Ratio: div(ceiling, base.rate),
			Note: fmt.Sprintf("%d events per batch of the cost above, back to back, against the raw baseline of the runner on group commit at %d callers: no group commit on this server and disk does better", n, n),
		})
	}
	b.logf("atomic batches: one publish %v", one)
	return nil
}
