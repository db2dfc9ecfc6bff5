package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
)

// memory measures, each in a child process of its own, the serving process's resident
// memory per order held and the NATS server's per distinct order subject, each beside
// its baseline: the same orders stored but not held, the same messages on one subject.
func (b *bench) memory(ctx context.Context, dir string) error {
	run := func(mode string, n int) (memResult, error) {
		var res memResult
		d := filepath.Join(dir, mode)
		b.logf("memory: %s, %d …", mode, n)
		var out []byte
		var err error
		if b.cfg.MemoryChild != nil {
			out, err = b.cfg.MemoryChild(ctx, mode, n, d)
		} else {
			out, err = b.memoryHere(ctx, mode, n, d)
		}
		if err != nil {
			return res, fmt.Errorf("memory %s: %w", mode, err)
		}
		if err := json.Unmarshal(out, &res); err != nil {
			return res, fmt.Errorf("memory %s: %w: %s", mode, err, out)
		}
		b.logf("memory: %s, %d: RSS +%.1f MiB, heap %.1f MiB (from %.1f), %.1f s", mode, n,
			mib(res.RSSDelta), mib(res.Heap), mib(res.HeapBase), res.Seconds)
		return res, nil
	}
	if n := b.cfg.Orders; n > 0 {
		held, err := run(MemOrders, n)
		if err != nil {
			return err
		}
		stored, err := run(MemOrdersRaw, n)
		if err != nil {
			return err
		}
		per := func(r memResult) float64 { return mib(r.RSSDelta) * 10_000 / float64(r.Count) }
		row := ratioRow("serving_rss_per_10k_orders", fmt.Sprintf("serving-process RSS per 10 k orders held (MiB), %d held", n), "", "MiB",
			per(held), per(stored))
		row.RawLabel = "orders stored, none held"
		row.Note = fmt.Sprintf("RSS growth of a process of its own (embedded server, store, service) after storing %d orders (%.0f bytes each, "+
			"baseline) and after also reading each through the service (%.0f bytes each more); the runner's cache counts %.0f bytes an order "+
			"for the %d it holds (redlane_runner_cache_bytes_per_order), and it is bounded by --cache-mib",
			n, float64(stored.RSSDelta)/float64(n), float64(held.RSSDelta-stored.RSSDelta)/float64(n), div(float64(held.Counted), float64(held.Held)), held.Held)
		b.rep.Rows = append(b.rep.Rows, row)
	}
	if n := b.cfg.Subjects; n > 0 {
		distinct, err := run(MemSubjects, n)
		if err != nil {
			return err
		}
		one, err := run(MemSubjectsRaw, n)
		if err != nil {
			return err
		}
		perM := func(v int64, count int) float64 { return mib(v) * 1e6 / float64(count) }
		label := fmt.Sprintf("%.1f M", float64(n)/1e6)
		rss := ratioRow("server_rss_per_million_subjects", "NATS server RSS per million order subjects (MiB), "+label+" one-message subjects", "", "MiB",
			perM(distinct.RSSDelta, n), perM(one.RSSDelta, n))
		rss.RawLabel = "the same messages on one subject"
		rss.Note = fmt.Sprintf("an embedded server of its own given %d one-message subjects (600-byte bodies) in atomic batches of %d, "+
			"in %.0f s; RSS %.0f MiB after; the baseline the same messages on one subject", n, subjectsBatch, distinct.Seconds, mib(distinct.RSS))
		heap := ratioRow("server_heap_per_million_subjects", "NATS server heap per million order subjects (MiB), "+label+" one-message subjects", "", "MiB",
			perM(distinct.Heap-distinct.HeapBase, n), perM(one.Heap-one.HeapBase, n))
		heap.RawLabel = "the same messages on one subject"
		heap.Note = fmt.Sprintf("Go heap in use after a collection, growth: %.0f bytes a subject (baseline %.0f a message)",
			float64(distinct.Heap-distinct.HeapBase)/float64(n), float64(one.Heap-one.HeapBase)/float64(n))
		b.rep.Rows = append(b.rep.Rows, rss, heap)
	}
	return nil
}

// memoryHere runs a memory mode in this process (tests): its figures then include
// everything before.
func (b *bench) memoryHere(ctx context.Context, mode string, n int, dir string) ([]byte, error) {
	var out jsonBuffer
	err := RunMemoryChild(ctx, mode, n, dir, &out)
	return out, err
}

type jsonBuffer []byte

func (j *jsonBuffer) Write(p []byte) (int, error) { *j = append(*j, p...); return len(p), nil }

func mib(b int64) float64 { return float64(b) / (1 << 20) }
