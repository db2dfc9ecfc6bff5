package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/projections/all"
)

// Child modes: what a rebuild child process measures.
const (
	// ChildRead reads the whole stream with an ordered consumer and decodes each
	// message's JSON: the raw baseline of a rebuild.
	ChildRead = "read"
	// ChildFold rebuilds every view from the stream, one after another, as
	// "redlane projections rebuild" does (without storing the documents).
	ChildFold = "fold"
)

// childResult is what a rebuild child reports, as one JSON line.
type childResult struct {
	Mode    string             `json:"mode"`
	Events  uint64             `json:"events"`
	Seconds map[string]float64 `json:"seconds"` // by view, or "read"
	PeakRSS int64              `json:"peak_rss_bytes"`
}

// RunChild measures one rebuild mode against the stream on the server at url and writes
// the result to w as JSON. cmd/redlane runs it in a process of its own, so that the
// process's peak memory is the rebuild's alone. It connects with the nkey seed file
// seed when set. A CPU profile goes to profile when set.
func RunChild(ctx context.Context, mode, url, seed, stream, profile string, w io.Writer) error {
	opts := []nats.Option{nats.Name("redlane bench " + mode)}
	if seed != "" {
		o, err := nats.NkeyOptionFromSeed(seed)
		if err != nil {
			return err
		}
		opts = append(opts, o)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := rebuildOnce(ctx, js, stream, mode)
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(res)
}

func rebuildOnce(ctx context.Context, js jetstream.JetStream, stream, mode string) (childResult, error) {
	res := childResult{Mode: mode, Seconds: map[string]float64{}}
	switch mode {
	case ChildRead:
		n, secs, err := readRaw(ctx, js, stream)
		if err != nil {
			return res, err
		}
		res.Events, res.Seconds["read"] = n, secs
	case ChildFold:
		store, err := jsstore.Open(ctx, js, jsstore.Config{Stream: stream})
		if err != nil {
			return res, err
		}
		vs, err := jsviews.New(ctx, js, store, jsviews.Config{Owner: "bench"})
		if err != nil {
			return res, err
		}
		if res.Events, err = store.LastSeq(ctx); err != nil {
			return res, err
		}
		for _, nv := range all.Views() {
			view := nv()
			start := time.Now()
			if _, _, err := vs.FoldLog(ctx, view, 0, nil); err != nil {
				return res, fmt.Errorf("fold %s: %w", view.Name(), err)
			}
			res.Seconds[view.Name()] = time.Since(start).Seconds()
			view = nil
			runtime.GC()
		}
	default:
		return res, fmt.Errorf("bench: no rebuild mode %q", mode)
	}
	res.PeakRSS = peakRSS()
	return res, nil
}

// rawEnvelope is the envelope's JSON as any client would decode it.
type rawEnvelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	Subject         string          `json:"subject"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Actor           string          `json:"actor"`
	ActorName       string          `json:"actorname"`
	Role            string          `json:"role"`
	AggregateType   string          `json:"aggregatetype"`
	AggregateID     string          `json:"aggregateid"`
	Version         uint64          `json:"aggregateversion"`
	CorrelationID   string          `json:"correlationid"`
	CausationID     string          `json:"causationid"`
	Data            json.RawMessage `json:"data"`
}

// readRaw reads every message of the stream with an ordered consumer, the way
// Store.ReadAll does, and decodes each body's JSON envelope; nothing else.
func readRaw(ctx context.Context, js jetstream.JetStream, stream string) (uint64, float64, error) {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	last := info.State.LastSeq
	if last == 0 {
		return 0, 0, nil
	}
	start := time.Now()
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return 0, 0, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return 0, 0, err
	}
	defer it.Stop()
	var n uint64
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return n, 0, err
		}
		md, err := msg.Metadata()
		if err != nil {
			return n, 0, err
		}
		var e rawEnvelope
		if err := json.Unmarshal(msg.Data(), &e); err != nil {
			return n, 0, fmt.Errorf("seq %d: %w", md.Sequence.Stream, err)
		}
		n++
		if md.Sequence.Stream >= last {
			return n, time.Since(start).Seconds(), nil
		}
	}
}

// peakRSS is the process's peak resident memory (VmHWM), or 0 where /proc has none.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// streamDisk is how many bytes a stream's files take under the server's store directory.
func streamDisk(storeDir, stream string) (int64, error) {
	root := filepath.Join(storeDir, "jetstream", "$G", "streams", stream)
	var total int64
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("no stream directory %s", root)
	}
	return total, err
}
