package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/eventstoredb"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	jsaudit "github.com/redlane/redlane/adapters/jetstream/audit"
	jsviews "github.com/redlane/redlane/adapters/jetstream/views"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
)

// RollOptions say how a period roll (redlane period roll) is made.
type RollOptions struct {
	// To is the next period's stream, e.g. REDLANE_2027_01.
	To string
	// ClosedGrace carries closed orders whose last event is more recent than this, so
	// that a steward may still reopen them in the next period; 0 leaves every closed
	// order behind. Cancelled orders are always left behind: nothing can follow.
	ClosedGrace time.Duration
	Replicas    int
	// CatchUp bounds how long the views may take to catch up (default five minutes).
	CatchUp time.Duration
	// Now is the time the grace is counted from (default time.Now).
	Now func() time.Time
	// Progress is told how far the carry has come.
	Progress jsstore.Progress
}

// RollReport is what a roll did.
type RollReport struct {
	From        string `json:"from"`
	FromLast    uint64 `json:"from_last"` // the old period's last position, sealed
	To          string `json:"to"`
	CarriedUpto uint64 `json:"carried_upto"`
	Carried     uint64 `json:"carried"`      // events copied (by this run)
	Orders      int    `json:"orders"`       // orders carried
	LeftBehind  int    `json:"left_behind"`  // orders left in the old period: cancelled or closed
	Subjects    int    `json:"subjects"`     // aggregates carried
	FinalSeal   uint64 `json:"final_seal"`   // the old period's final seal's upto
	FirstSeal   uint64 `json:"first_seal"`   // the new period's first seal's upto
	SealedChain string `json:"sealed_chain"` // the old period's final chain
}

// RollPeriod ends the current period's stream and starts the next (jsstore period.go):
// with every writer stopped, it brings the views up to the end of the old stream, seals
// it (a final seal, then the stream gives up its subjects and takes nothing more),
// creates the new stream, carries into it every event of every aggregate still live,
// seals the copies with a seal that names the old period's final seal, moves the views'
// and the EventStoreDB mirror's checkpoints to the new stream's last copy, and makes the
// new stream current. lc must be a writer's log (the data directory's signing key) on
// the current period's stream. A roll that stopped half way may be run again.
func RollPeriod(ctx context.Context, lc *Log, opt RollOptions) (*RollReport, error) {
	old, js := lc.Store, lc.JS
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.CatchUp <= 0 {
		opt.CatchUp = 5 * time.Minute
	}
	if opt.To == "" || opt.To == old.StreamName() || strings.ContainsAny(opt.To, ".*> \t\r\n") {
		return nil, fmt.Errorf("period roll: the next period's stream %q must be a stream name other than %s", opt.To, old.StreamName())
	}
	signer := old.Signer()
	if signer == nil {
		return nil, errors.New("period roll: no signing key (DATA/signing.key): run it with the data directory of a redlane serve")
	}
	current, err := jsstore.CurrentStream(ctx, js)
	if err != nil {
		return nil, err
	}
	if current != "" && current != old.StreamName() {
		return nil, fmt.Errorf("period roll: %s is not the current period (%s is): roll from the current one", old.StreamName(), current)
	}
	period, err := old.Period(ctx)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	owner := fmt.Sprintf("period-roll@%s:%d", host, os.Getpid())
	vs, err := jsviews.New(ctx, js, old, jsviews.Config{Owner: owner, Replicas: opt.Replicas})
	if err != nil {
		return nil, fmt.Errorf("period roll: views: %w", err)
	}
	rep := &RollReport{From: old.StreamName(), To: opt.To}
	if !period.Sealed {
		if err := writersStopped(ctx, js); err != nil {
			return nil, err
		}
		if err := vs.CatchUp(ctx, Views(), opt.CatchUp); err != nil {
			return nil, fmt.Errorf("period roll: the views must stand at the end of %s: %w", old.StreamName(), err)
		}
		if rep.FromLast, err = old.LastSeq(ctx); err != nil {
			return nil, err
		}
		if err := eventstoredb.MoveToPeriod(ctx, js, old.StreamName(), rep.FromLast, "", 0); err != nil {
			return nil, fmt.Errorf("period roll: %w", err)
		}
		if err := old.EndPeriod(ctx); err != nil {
			return nil, fmt.Errorf("period roll: %w", err)
		}
	}
	if rep.FromLast, err = old.LastSeq(ctx); err != nil {
		return nil, err
	}
	// The final seal covers the old stream to its end: nothing can be added after it.
	sealer, err := jsaudit.NewSealer(ctx, js, old, jsaudit.SealerConfig{Signer: signer, Owner: owner, Replicas: opt.Replicas})
	if err != nil {
		return nil, fmt.Errorf("period roll: %w", err)
	}
	if _, err := sealer.SealNow(ctx, nil); err != nil {
		return nil, fmt.Errorf("period roll: the final seal of %s: %w", old.StreamName(), err)
	}

	keep, fates, err := liveSubjects(ctx, old, opt.Now().Add(-opt.ClosedGrace))
	if err != nil {
		return nil, fmt.Errorf("period roll: %w", err)
	}
	for _, carried := range fates {
		if carried {
			rep.Orders++
		} else {
			rep.LeftBehind++
		}
	}
	next, err := jsstore.StartPeriod(ctx, js, jsstore.Config{Replicas: opt.Replicas, Signer: signer}, opt.To, old.StreamName())
	if err != nil {
		return nil, fmt.Errorf("period roll: %w", err)
	}
	subjects := map[string]bool{}
	upto, copied, err := next.Carry(ctx, old, func(subject string) bool {
		ok := keep(subject)
		if ok {
			subjects[subject] = true
		}
		return ok
	}, opt.Progress)
	if err != nil {
		return nil, fmt.Errorf("period roll: %w", err)
	}
	rep.CarriedUpto, rep.Carried, rep.Subjects = upto, copied, len(subjects)
	if err := next.FinishCarry(ctx, upto); err != nil {
		return nil, fmt.Errorf("period roll: %w", err)
	}
	// The new period's first seal covers the copies and names the old period's final
	// seal (NewSealer finds it from the stream's metadata).
	nextSealer, err := jsaudit.NewSealer(ctx, js, next, jsaudit.SealerConfig{Signer: signer, Owner: owner, Replicas: opt.Replicas})
	if err != nil {
		return nil, fmt.Errorf("period roll: %w", err)
	}
	first, err := nextSealer.SealNow(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("period roll: the first seal of %s: %w", opt.To, err)
	}
	if first != nil {
		rep.FirstSeal, rep.FinalSeal, rep.SealedChain = first.Upto, first.PrevUpto, first.PrevChain
	}
	if err := vs.MoveToPeriod(ctx, Views(), opt.To, upto); err != nil {
		return nil, fmt.Errorf("period roll: %w", err)
	}
	if err := eventstoredb.MoveToPeriod(ctx, js, old.StreamName(), rep.FromLast, opt.To, upto); err != nil {
		return nil, fmt.Errorf("period roll: %w", err)
	}
	_ = old.Stream().DeleteConsumer(ctx, eventstoredb.ConsumerName) // the old period's reader; best effort
	err = jsstore.SetCurrentPeriod(ctx, js, jsstore.CurrentPeriod{Stream: opt.To, Prev: old.StreamName(), CarriedUpto: upto, At: opt.Now().UTC()}, opt.Replicas)
	if err != nil {
		return nil, fmt.Errorf("period roll: %w", err)
	}
	return rep, nil
}

// writersStopped refuses a roll while a background writer of a serving process (a view
// writer, the sealer, the mirror) holds its lease: serve is running.
func writersStopped(ctx context.Context, js jetstream.JetStream) error {
	kv, err := js.KeyValue(ctx, jsstore.LeaseBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("period roll: leases: %w", err)
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("period roll: leases: %w", err)
	}
	for key := range lister.Keys() {
		e, err := kv.Get(ctx, key)
		if err != nil {
			continue // released meanwhile
		}
		var held struct {
			Owner string    `json:"owner"`
			Until time.Time `json:"until"`
		}
		if json.Unmarshal(e.Value(), &held) == nil && held.Until.After(time.Now()) {
			_ = lister.Stop()
			return fmt.Errorf("period roll: redlane serve is running (%s holds the lease %s until %s): stop every serve first, then roll",
				held.Owner, key, held.Until.Format(time.RFC3339))
		}
	}
	return nil
}

// liveSubjects reads the old period and decides which aggregates the next one carries:
// every aggregate that is not an order, and every order that can still take a command,
// by the domain's own fold of its status. A cancelled order takes none; a closed one is
// left behind unless its last event came after closedSince (it may still be reopened).
// fates tells, per order subject, whether it is carried.
func liveSubjects(ctx context.Context, old *jsstore.Store, closedSince time.Time) (func(string) bool, map[string]bool, error) {
	type fate struct {
		status order.Status
		at     time.Time
	}
	type decoded struct {
		env domain.Envelope
		ev  domain.Event
	}
	orders := map[string]fate{}
	prefix := old.Subject(order.AggregateType, "")
	err := jsstore.ScanParallel(ctx, old, 1, func(ev jsstore.RawEvent) *decoded {
		if !strings.HasPrefix(ev.Subject, prefix) || old.Check(ev.Seq, ev.Subject, ev.Header, ev.Data) != nil {
			return nil
		}
		env, err := domain.DecodeEnvelope(ev.Data)
		if err != nil {
			return nil
		}
		e, err := projections.Events.Decode(env)
		if err != nil {
			return nil
		}
		return &decoded{env: env, ev: e}
	}, func(ev jsstore.RawEvent, d *decoded) error {
		if d == nil {
			return nil
		}
		f := orders[ev.Subject]
		// The status after an event depends only on the status before and the event.
		f.status = order.Evolve(order.State{Status: f.status}, d.ev, d.env).Status
		f.at = d.env.Time
		orders[ev.Subject] = f
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", old.StreamName(), err)
	}
	fates := make(map[string]bool, len(orders))
	for subj, f := range orders {
		fates[subj] = f.status != order.StatusCancelled && (f.status != order.StatusClosed || f.at.After(closedSince))
	}
	return func(subject string) bool {
		if !strings.HasPrefix(subject, prefix) {
			return true
		}
		return fates[subject]
	}, fates, nil
}
