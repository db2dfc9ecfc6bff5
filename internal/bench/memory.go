package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
)

// Memory children: what a memory child process measures, each in a process of its own
// so that its resident memory is its own.
const (
	// MemOrders: a serving process (server, store, service) holding orders in its
	// runner's cache, as serve does after reading or commanding them.
	MemOrders = "orders"
	// MemOrdersRaw: the same process and orders, the orders only stored, none held:
	// the baseline, what NATS alone keeps for them.
	MemOrdersRaw = "orders-raw"
	// MemSubjects: an embedded server given one-message order subjects with atomic
	// batches, as many as asked.
	MemSubjects = "subjects"
	// MemSubjectsRaw: the same messages on a single subject: the baseline.
	MemSubjectsRaw = "subjects-raw"
)

// memResult is what a memory child reports, as one JSON line.
type memResult struct {
	Mode     string  `json:"mode"`
	Count    int     `json:"count"`     // orders held, or subjects (messages) published
	RSSDelta int64   `json:"rss_delta"` // VmRSS after ÷ before, after a collection, bytes
	Heap     int64   `json:"heap"`      // Go heap in use after, bytes
	HeapBase int64   `json:"heap_base"` // Go heap in use before, bytes
	RSS      int64   `json:"rss"`       // VmRSS after, bytes
	Counted  int64   `json:"counted"`   // bytes the runner's cache counts (orders)
	Held     int     `json:"held"`      // orders the runner's cache holds
	Seconds  float64 `json:"seconds"`   // publishing or loading
}

// MemoryChildProcess is a Config.MemoryChild that runs "exe bench memory-child MODE N
// DIR" (RunMemoryChild in a process of its own).
func MemoryChildProcess(exe string) func(ctx context.Context, mode string, n int, dir string) ([]byte, error) {
	return func(ctx context.Context, mode string, n int, dir string) ([]byte, error) {
		var out, errOut bytes.Buffer
		cmd := exec.CommandContext(ctx, exe, "bench", "memory-child", mode, strconv.Itoa(n), dir)
		cmd.Stdout, cmd.Stderr, cmd.WaitDelay = &out, &errOut, 10*time.Second
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%w: %s", err, bytes.TrimSpace(errOut.Bytes()))
		}
		return out.Bytes(), nil
	}
}

// RunMemoryChild measures one memory mode with n orders or subjects in dir and writes
// the result as one JSON line to w.
func RunMemoryChild(ctx context.Context, mode string, n int, dir string, w io.Writer) error {
	var res memResult
	var err error
	switch mode {
	case MemOrders, MemOrdersRaw:
		res, err = memOrders(ctx, dir, n, mode == MemOrders)
	case MemSubjects, MemSubjectsRaw:
		res, err = memSubjects(ctx, dir, n, mode == MemSubjects)
	default:
		err = fmt.Errorf("bench: no memory mode %q", mode)
	}
	if err != nil {
		return err
	}
	res.Mode = mode
	return json.NewEncoder(w).Encode(res)
}

// settled collects garbage, returns it to the system, and reads the resident memory and
// the heap in use.
func settled() (rss, heap int64) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return procKB("VmRSS:"), int64(ms.HeapInuse)
}

// memOrders stores n orders (whole lives, as the load measurements write them) on a
// serving rig and, when hold, reads each through the service, so that the runner keeps
// it as it keeps the orders it commands. The growth is from before the orders were
// stored: without hold it is what the embedded server keeps for them.
func memOrders(ctx context.Context, dir string, n int, hold bool) (memResult, error) {
	r, err := newRig(ctx, dir, false, jsstore.GroupConfig{})
	if err != nil {
		return memResult{}, err
	}
	defer r.close()
	g := newLives(r.d, r.sealed, 3)
	rss0, heap0 := settled()
	have, err := r.store.LastSeq(ctx)
	if err != nil {
		return memResult{}, err
	}
	// Lives average about five events; fill stops at the count, so ask per life.
	var ids []string
	for len(ids) < n {
		more, err := r.fill(ctx, have+uint64(5*(n-len(ids))), false, g.next)
		if err != nil {
			return memResult{}, err
		}
		ids = append(ids, more...)
		if have, err = r.store.LastSeq(ctx); err != nil {
			return memResult{}, err
		}
	}
	ids = ids[:n]
	time.Sleep(settle)
	start := time.Now()
	if hold {
		for _, id := range ids {
			if _, err := r.svc.Order(ctx, id); err != nil {
				return memResult{}, fmt.Errorf("hold order %s: %w", id, err)
			}
		}
	}
	secs := time.Since(start).Seconds()
	rss, heap := settled()
	held, counted := r.svc.Orders.CacheStats()
	return memResult{Count: n, RSSDelta: rss - rss0, Heap: heap, HeapBase: heap0, RSS: rss,
		Counted: counted, Held: held, Seconds: secs}, nil
}

// subjectsBatch is how many one-message subjects go in one atomic batch.
const subjectsBatch = 500

// memSubjects starts an embedded server (without fsync: what is measured is memory)
// and publishes n one-message subjects of an order event's size with atomic batches,
// or with distinct false the same n messages on one subject.
func memSubjects(ctx context.Context, dir string, n int, distinct bool) (memResult, error) {
	srv, err := natsserver.Start(natsserver.Config{DataDir: filepath.Join(dir, "nats"), Host: "127.0.0.1", Port: -1})
	if err != nil {
		return memResult{}, err
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL(), nats.Name("redlane bench subjects"))
	if err != nil {
		return memResult{}, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return memResult{}, err
	}
	// Configured as Redlane's event stream is.
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: "SUBJECTS", Subjects: []string{"redlane.events.>"}, Storage: jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy, MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1,
		Duplicates: 2 * time.Minute, AllowDirect: true, AllowAtomicPublish: true,
	}); err != nil {
		return memResult{}, err
	}
	body := bytes.Repeat([]byte("x"), 600) // an order event's body is about 600 bytes
	rss0, heap0 := settled()
	start := time.Now()
	msgs := make([]*nats.Msg, 0, subjectsBatch)
	for i := 0; i < n; {
		msgs = msgs[:0]
		for ; i < n && len(msgs) < subjectsBatch; i++ {
			subj := "redlane.events.order.all"
			if distinct {
				subj = "redlane.events.order." + uuid.Must(uuid.NewV7()).String()
			}
			msgs = append(msgs, &nats.Msg{Subject: subj, Data: body, Header: nats.Header{}})
		}
		if _, err := jetstreamext.PublishMsgBatch(ctx, js, msgs); err != nil {
			return memResult{}, fmt.Errorf("publish subjects: %w", err)
		}
	}
	secs := time.Since(start).Seconds()
	// Let the server write out and drop what it buffered, as a running one would.
	time.Sleep(settle)
	rss, heap := settled()
	return memResult{Count: n, RSSDelta: rss - rss0, Heap: heap, HeapBase: heap0, RSS: rss, Seconds: secs}, nil
}

// procKB reads a field of /proc/self/status in bytes, or 0 where /proc has none.
func procKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
