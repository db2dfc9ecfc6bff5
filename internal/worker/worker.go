// Package worker runs Redlane's leased consumers: the view writers, the sealer and the
// EventStoreDB mirror. Each is a Job that plugs into one loop, written once:
//
//  1. take the job's lease (internal/lease); while another process holds it, wait;
//  2. ask the job for its checkpoint, the stream sequence of the last message whose work
//     it has stored;
//  3. read the stream right after it, with a durable consumer (acknowledged) or an
//     ordered one, as the job's consumer configuration says;
//  4. hand the job batches of messages past its checkpoint, in stream order; the job
//     stores its work together with its checkpoint before it returns;
//  5. acknowledge a batch only once the job returned nil, so a crash or an error never
//     loses a message: the next term starts again from the checkpoint stored;
//  6. renew the lease between batches and stop the moment it is lost;
//  7. when nothing arrives for a while, give the job an idle tick (the sealer seals on
//     time even when no event comes);
//  8. hand the lease back when the term ends, so another process takes over at once.
//
// A term that fails is logged, and the worker tries again after a pause that doubles
// with each failure in a row, up to a cap. The model is watermill's message.Router, with
// the lease and the checkpoint added: the checkpoint, stored with the work, is the
// truth, whatever the consumer acknowledged before.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/internal/lease"
)

// Job is the work a Worker does. The worker calls its methods from one goroutine, one
// at a time, and only while it holds the lease.
type Job interface {
	// Resume starts a term: the job loads what it needs and returns its checkpoint, the
	// stream sequence of the last message whose work it has stored (0 for none).
	// Reading starts right after it.
	Resume(ctx context.Context) (uint64, error)
	// Handle does the work of a batch and stores it together with the new checkpoint
	// (the sequence of the batch's last message) before it returns nil. An error ends
	// the term with nothing acknowledged: the next term resumes from the checkpoint the
	// job stored, so the job gets the batch again.
	Handle(ctx context.Context, b Batch) error
	// Idle is called when a read found no message: the job may do work that is due on
	// time. An error ends the term, as Handle's does.
	Idle(ctx context.Context) error
}

// ErrRestart is what a job returns to end its term without failing (the view it writes
// moved to another bucket, say): the worker hands the lease back and starts a new term
// after the usual pause.
var ErrRestart = errors.New("worker: the job asks for a new term")

// Batch is messages past the job's checkpoint, in stream order; never empty.
type Batch struct {
	Msgs []jetstream.Msg
	// Pending is how many messages the consumer had left to deliver after the last one
	// read: the job's lag.
	Pending uint64
}

// Seq returns the stream sequence of a message the worker handed over.
func Seq(m jetstream.Msg) uint64 {
	md, _ := m.Metadata() // the worker read it before
	return md.Sequence.Stream
}

// Config configures a Worker.
type Config struct {
	// Name says what the worker does, in its log lines ("sealer").
	Name string
	// JS is the JetStream context the lease bucket is found through.
	JS jetstream.JetStream
	// LeaseBucket and LeaseKey name the lease: one process at a time runs the job.
	LeaseBucket, LeaseKey string
	// Owner names this process in the lease.
	Owner string
	// LeaseTTL is how long the lease lasts without renewal (default 5 s): how soon
	// another process takes over from a dead one.
	LeaseTTL time.Duration
	// Stream is the stream read.
	Stream jetstream.Stream
	// Consumer is the consumer the worker reads with. With a Durable name, the worker
	// deletes it and makes it again at the checkpoint each term, acknowledging with
	// AckAll; its FilterSubjects, Description, MaxAckPending, AckWait and
	// InactiveThreshold are kept. Without one, the worker reads with an ordered
	// consumer over FilterSubjects and acknowledges nothing.
	Consumer jetstream.ConsumerConfig
	// Batch is the most messages in one batch (default 256).
	Batch int
	// Wait is how long a read gathers a batch (default LeaseTTL/5): a batch is handed
	// over when full or when Wait has passed, Idle is called when nothing came.
	Wait time.Duration
	// Pause is how long the worker waits before trying again after a term ends (default
	// LeaseTTL/5); it doubles with each failure in a row up to MaxPause (default 30 s).
	Pause, MaxPause time.Duration
	Log             *slog.Logger
	// Failed and Recovered, when set, are told when a term fails and when the job works
	// again after a failure (or is no longer this process's to do: the lease was lost).
	Failed    func(error)
	Recovered func()
}

// Worker runs one Job under a lease. Several processes may run workers with the same
// lease; one runs the job at a time.
type Worker struct {
	cfg     Config
	job     Job
	failing bool
	since   time.Time // when the failures in a row began
}

// New returns a worker for job.
func New(cfg Config, job Job) *Worker {
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 5 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	if cfg.Wait <= 0 {
		cfg.Wait = cfg.LeaseTTL / 5
	}
	if cfg.Pause <= 0 {
		cfg.Pause = cfg.LeaseTTL / 5
	}
	if cfg.MaxPause <= 0 {
		cfg.MaxPause = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Worker{cfg: cfg, job: job}
}

// Run runs the job until ctx ends, term after term. It returns nil then.
func (w *Worker) Run(ctx context.Context) error {
	pause := w.cfg.Pause
	for ctx.Err() == nil {
		err := w.term(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case errors.Is(err, lease.ErrLost):
			w.cfg.Log.Info(w.cfg.Name+" lost its lease; another process does the work", "err", err)
			w.recover(false)
			pause = w.cfg.Pause
		case errors.Is(err, ErrRestart), err == nil:
			pause = w.cfg.Pause
		default:
			if w.failing {
				pause = min(pause*2, max(w.cfg.MaxPause, w.cfg.Pause))
			} else {
				pause, w.failing, w.since = w.cfg.Pause, true, time.Now()
			}
			w.cfg.Log.Warn(w.cfg.Name+" stopped; will retry", "err", err, "in", pause.String())
			if w.cfg.Failed != nil {
				w.cfg.Failed(err)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
	return nil
}

// recover records that the job works again, or is no longer this process's to do.
func (w *Worker) recover(logIt bool) {
	if !w.failing {
		return
	}
	w.failing = false
	if logIt {
		w.cfg.Log.Info(w.cfg.Name+" works again", "after", time.Since(w.since).Round(time.Second).String())
	}
	if w.cfg.Recovered != nil {
		w.cfg.Recovered()
	}
}

// term is one term under the lease: it returns when the lease is lost, ctx ends, the job
// fails or asks for a new term, or reading fails. It returns nil when the lease is held
// by another process.
func (w *Worker) term(ctx context.Context) error {
	leases, err := w.cfg.JS.KeyValue(ctx, w.cfg.LeaseBucket)
	if err != nil {
		return fmt.Errorf("lease bucket %s: %w", w.cfg.LeaseBucket, err)
	}
	held, err := lease.Acquire(ctx, leases, w.cfg.LeaseKey, w.cfg.Owner, w.cfg.LeaseTTL)
	if err != nil || held == nil {
		return err
	}
	w.cfg.Log.Debug(w.cfg.Name+" took the lease", "lease", w.cfg.LeaseKey, "owner", w.cfg.Owner)
	defer held.Release() // hand over at once rather than let the lease run out
	last, err := w.job.Resume(ctx)
	if err != nil {
		return err
	}
	rd, err := w.open(ctx, last)
	if err != nil {
		return err
	}
	defer rd.stop()
	for ctx.Err() == nil {
		if err := held.Renew(ctx); err != nil {
			return err
		}
		msgs, pending, err := rd.read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := held.Renew(ctx); err != nil {
			return err // the read may have taken a while: never write on a lost lease
		}
		if len(msgs) == 0 {
			if err := w.job.Idle(ctx); err != nil {
				return err
			}
			w.recover(true)
			continue
		}
		// Skip what is at or below the checkpoint: delivered again after a term that
		// stored it but did not get to acknowledge it.
		fresh := msgs[:0:0]
		for _, m := range msgs {
			if seq := Seq(m); seq > last {
				fresh = append(fresh, m)
			}
		}
		if len(fresh) > 0 {
			if err := w.job.Handle(ctx, Batch{Msgs: fresh, Pending: pending}); err != nil {
				return err
			}
			last = Seq(fresh[len(fresh)-1])
			w.recover(true)
		}
		if rd.durable {
			if err := msgs[len(msgs)-1].Ack(); err != nil { // AckAll: the whole batch
				return fmt.Errorf("%s: ack: %w", w.cfg.Name, err)
			}
		}
	}
	return nil
}

// reader reads batches from the consumer of one term.
type reader struct {
	durable bool
	cons    jetstream.Consumer
	it      jetstream.MessagesContext // the ordered consumer's
	batch   int
	wait    time.Duration
}

// open makes the term's consumer, starting right after the checkpoint last.
func (w *Worker) open(ctx context.Context, last uint64) (*reader, error) {
	rd := &reader{batch: w.cfg.Batch, wait: w.cfg.Wait}
	cc := w.cfg.Consumer
	if cc.Durable == "" {
		cons, err := w.cfg.Stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
			FilterSubjects: cc.FilterSubjects,
			DeliverPolicy:  jetstream.DeliverByStartSequencePolicy, OptStartSeq: last + 1,
		})
		if err != nil {
			return nil, fmt.Errorf("%s: consumer: %w", w.cfg.Name, err)
		}
		if rd.it, err = cons.Messages(jetstream.PullMaxMessages(w.cfg.Batch)); err != nil {
			return nil, fmt.Errorf("%s: consumer: %w", w.cfg.Name, err)
		}
		return rd, nil
	}
	// The durable consumer starts where the checkpoint says, whatever it acknowledged
	// before: the checkpoint, stored with the work, is the truth.
	_ = w.cfg.Stream.DeleteConsumer(ctx, cc.Durable)
	cc.AckPolicy = jetstream.AckAllPolicy
	cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, last+1
	cons, err := w.cfg.Stream.CreateOrUpdateConsumer(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", cc.Durable, err)
	}
	rd.durable, rd.cons = true, cons
	return rd, nil
}

// read gathers up to a batch of messages for at most the reader's wait, and returns
// them with how many the consumer had left after the last.
func (r *reader) read(ctx context.Context) ([]jetstream.Msg, uint64, error) {
	var msgs []jetstream.Msg
	if r.durable {
		// One pull request per batch, sent only after the lease was renewed: a writer
		// that lost its lease never pulls from its successor's consumer of the same name.
		b, err := r.cons.Fetch(r.batch, jetstream.FetchMaxWait(r.wait))
		if err != nil {
			return nil, 0, err
		}
		for m := range b.Messages() {
			msgs = append(msgs, m)
		}
		if err := b.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, 0, err
		}
	} else {
		deadline := time.Now().Add(r.wait)
		for len(msgs) < r.batch {
			nctx, cancel := context.WithDeadline(ctx, deadline)
			m, err := r.it.Next(jetstream.NextContext(nctx))
			cancel()
			if err != nil {
				if ctx.Err() == nil && nctx.Err() != nil {
					break // waited long enough
				}
				return nil, 0, err
			}
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		return nil, 0, nil
	}
	md, err := msgs[len(msgs)-1].Metadata()
	if err != nil {
		return nil, 0, err
	}
	for _, m := range msgs[:len(msgs)-1] {
		if _, err := m.Metadata(); err != nil {
			return nil, 0, err
		}
	}
	return msgs, md.NumPending, nil
}

func (r *reader) stop() {
	if r.it != nil {
		r.it.Stop()
	}
}
