// Package bench measures Redlane beside raw JetStream, on the same machine in the same
// run: commands through the Go command runner and over HTTP, projection rebuilds, memory
// and disk, each against the same work done with plain JetStream calls, so that what is
// reported is what Redlane costs beyond NATS. "redlane bench" runs it; BENCHMARKS.md
// records a run and what limits each figure.
//
// Every measurement starts its own embedded nats-server in a temporary directory, with
// fsync before every acknowledgement (sync always) or without (sync interval), and says
// which. Load figures are closed loops of N callers for a fixed time after a warm-up,
// Redlane's and the baseline's measured one after the other in each round, and reported
// as the median over rounds.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
)

// Config says how much to measure.
type Config struct {
	// Quick marks a quick run: the report says so, and the rebuild's raw read is taken
	// once rather than before and after the fold.
	Quick bool
	// Rounds of every load measurement; the median is reported.
	Rounds int
	// Warmup and Duration are each load measurement's unmeasured and measured time.
	Warmup, Duration time.Duration
	// Small is how many events the stream holds before the load measurements (10 000);
	// Events how many the rebuild reads (1 000 000).
	Small, Events uint64
	// History is how many events each order of the long-history check has.
	History int
	// Syncs are the durability settings the load measurements run under: true is fsync
	// before every acknowledgement.
	Syncs []bool
	// Callers at which the runner, the group-committing runner and HTTP are measured.
	RunnerCallers, GroupCallers, HTTPClients []int
	// Group configures the group-committing store.
	Group jsstore.GroupConfig
	// Dir holds the servers' data; a temporary directory when empty.
	Dir string
	// Progress gets a line per measurement; nil is quiet.
	Progress io.Writer
	// Child runs RunChild in a process of its own and returns what it wrote, so that
	// a rebuild's peak memory is its own. Nil measures in this process, whose peak
	// memory then includes everything before.
	Child func(ctx context.Context, mode, url, seed, stream, profile string) ([]byte, error)
	// Phases to run (PhaseLoads, PhaseLength, PhaseRebuild); all when empty.
	Phases []string
	// ProfileDir, when set, gets a CPU profile of the first round of each Redlane load
	// measurement and of the rebuild (the whole process: server and clients).
	ProfileDir string
	// Orders is how many orders the serving process's memory is measured holding, and
	// Subjects how many one-message order subjects the NATS server's (PhaseMemory).
	Orders, Subjects int
	// MemoryChild runs RunMemoryChild in a process of its own and returns what it
	// wrote; nil measures in this process.
	MemoryChild func(ctx context.Context, mode string, n int, dir string) ([]byte, error)
}

// The phases of a run.
const (
	// PhaseLoads: commands through the runner and over HTTP beside raw publishes, under
	// each durability setting, with and without group commit.
	PhaseLoads = "loads"
	// PhaseLength: commands on a short and on a long stream, and on long histories.
	PhaseLength = "length"
	// PhaseRebuild: rebuilding the views from the long stream, peak memory, disk.
	PhaseRebuild = "rebuild"
	// PhaseMemory: the serving process's memory per order held, the NATS server's per
	// distinct order subject.
	PhaseMemory = "memory"
)

func (c Config) phase(p string) bool { return len(c.Phases) == 0 || slices.Contains(c.Phases, p) }

// Defaults returns the full run's configuration, or with quick one that finishes in
// well under a minute.
func Defaults(quick bool) Config {
	c := Config{
		Rounds: 3, Warmup: 300 * time.Millisecond, Duration: 2 * time.Second,
		Small: 10_000, Events: 1_000_000, History: 1_000, Syncs: []bool{true, false},
		RunnerCallers: []int{1, 32}, GroupCallers: []int{1, 32, 64, 256}, HTTPClients: []int{1, 8, 64},
		Orders: 20_000, Subjects: 1_000_000,
	}
	if quick {
		c.Quick, c.Rounds, c.Warmup, c.Duration, c.Events = true, 1, 100*time.Millisecond, 300*time.Millisecond, 100_000
		c.Orders, c.Subjects = 5_000, 100_000
	}
	return c
}

// The kinds of load.
const (
	kindRaw       = "raw"        // raw JetStream publishes
	kindRunner    = "runner"     // commands through the service on Store
	kindGroup     = "group"      // the same on GroupStore
	kindHTTP      = "http"       // HTTP requests to the API on Store
	kindHTTPGroup = "http-group" // the same on GroupStore
	kindNotes     = "notes"      // notes on orders with long histories
)

type loadCase struct {
	kind    string
	callers int
	// pair is, for a raw case, the kind of the Redlane case measured right after it and
	// compared with it: each is compared with a baseline taken a moment before.
	pair string
}

func (c loadCase) String() string {
	if c.pair != "" {
		return fmt.Sprintf("%s c=%d (%s)", c.kind, c.callers, c.pair)
	}
	return fmt.Sprintf("%s c=%d", c.kind, c.callers)
}

// baseline is the raw case compared with c.
func (c loadCase) baseline() loadCase { return loadCase{kindRaw, c.callers, c.kind} }

// bench is one run.
type bench struct {
	cfg      Config
	rep      *Report
	runID    int
	start    time.Time
	diskDone bool
}

// Run measures and returns the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Rounds < 1 || cfg.Duration <= 0 || len(cfg.HTTPClients) == 0 || cfg.Events == 0 || cfg.History < 1 {
		return nil, fmt.Errorf("bench: a run needs rounds, a duration, HTTP clients, events and a history length: %+v", cfg)
	}
	start := time.Now()
	b := &bench{cfg: cfg, start: start, rep: &Report{
		Date: start.UTC(), Quick: cfg.Quick, CPUs: runtime.NumCPU(), Go: runtime.Version(),
		NATSServer: server.VERSION, LoadStart: loadavg(), Rounds: cfg.Rounds, Seconds: cfg.Duration.Seconds(),
	}}
	dir := cfg.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "redlane-bench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, err
		}
	}
	b.signingRows()
	bySync := map[bool]map[loadCase]summary{}
	for _, sync := range cfg.Syncs {
		if !cfg.phase(PhaseLoads) {
			break
		}
		res, err := b.loads(ctx, filepath.Join(dir, fmt.Sprintf("loads-%v", sync)), sync)
		if err != nil {
			return nil, err
		}
		bySync[sync] = res
	}
	b.fsyncRows(bySync)
	if cfg.phase(PhaseLength) || cfg.phase(PhaseRebuild) {
		if err := b.lengthAndRebuild(ctx, filepath.Join(dir, "rebuild")); err != nil {
			return nil, err
		}
	}
	if cfg.phase(PhaseMemory) {
		if err := b.memory(ctx, filepath.Join(dir, "memory")); err != nil {
			return nil, err
		}
	}
	b.rep.LoadEnd = loadavg()
	b.rep.Elapsed = time.Since(start).Seconds()
	return b.rep, nil
}

func (b *bench) logf(format string, args ...any) {
	if b.cfg.Progress != nil {
		fmt.Fprintf(b.cfg.Progress, "%5.1fs  "+format+"\n", append([]any{time.Since(b.start).Seconds()}, args...)...)
	}
}

// measure runs one load case once on r.
func (b *bench) measure(ctx context.Context, r *rig, c loadCase, bodies [][][]byte, extra func(w int) op, profile bool) (result, error) {
	b.runID++
	var newOp func(w int) op
	switch c.kind {
	case kindRaw:
		prefix := fmt.Sprintf("raw.m%d", b.runID)
		newOp = func(w int) op { return rawLife(r.rawJS, prefix, bodies, w) }
	case kindRunner:
		newOp = func(w int) op { return runnerLife(r.svc, r.d, w) }
	case kindGroup:
		newOp = func(w int) op { return runnerLife(r.gsvc, r.d, w) }
	case kindHTTP:
		newOp = func(w int) op { return httpLife(r.wire(r.baseURL), r.d, w) }
	case kindHTTPGroup:
		newOp = func(w int) op { return httpLife(r.wire(r.groupURL), r.d, w) }
	default:
		newOp = extra
	}
	if profile && b.cfg.ProfileDir != "" && c.kind != kindRaw {
		name := filepath.Join(b.cfg.ProfileDir, fmt.Sprintf("%s-%s-c%d.pprof", r.sync(), c.kind, c.callers))
		f, err := os.Create(name)
		if err != nil {
			return result{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return result{}, err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := load(ctx, c.callers, b.cfg.Warmup, b.cfg.Duration, newOp)
	r.closeWires()
	if err != nil {
		return res, fmt.Errorf("%s (sync %s): %w", c, r.sync(), err)
	}
	s := summarize([]result{res})
	b.logf("sync %-8s %-26s %9.0f/s  p50 %6.2f ms  p99 %6.2f ms", r.sync(), c, s.rate, s.p50, s.p99)
	return res, nil
}

// rounds measures cases round after round and summarizes each.
func (b *bench) rounds(ctx context.Context, r *rig, cases []loadCase, bodies [][][]byte, extra func(w int) op) (map[loadCase]summary, map[loadCase]jsstore.GroupStats, error) {
	all := map[loadCase][]result{}
	stats := map[loadCase]jsstore.GroupStats{}
	for round := range b.cfg.Rounds {
		for _, c := range cases {
			before := r.group.Stats()
			res, err := b.measure(ctx, r, c, bodies, extra, round == 0)
			if err != nil {
				return nil, nil, err
			}
			all[c] = append(all[c], res)
			if c.kind == kindGroup || c.kind == kindHTTPGroup {
				after, st := r.group.Stats(), stats[c]
				st.Appends += after.Appends - before.Appends
				st.Batches += after.Batches - before.Batches
				st.Streamed += after.Streamed - before.Streamed
				st.Batched += after.Batched - before.Batched
				st.Alone += after.Alone - before.Alone
				st.Fallbacks += after.Fallbacks - before.Fallbacks
				stats[c] = st
			}
		}
	}
	out := map[loadCase]summary{}
	for c, rs := range all {
		out[c] = summarize(rs)
	}
	// Each round's Redlane figure against the baseline measured right before it: the
	// disk's speed drifts from round to round, and a ratio of medians would pair a fast
	// round's baseline with a slow round's figure.
	for c, rs := range all {
		base, ok := all[c.baseline()]
		if c.kind == kindRaw || !ok || len(base) != len(rs) {
			continue
		}
		var ratios []float64
		for i := range rs {
			if r := div(rs[i].rate(), base[i].rate()); r > 0 {
				ratios = append(ratios, r)
			}
		}
		s := out[c]
		s.paired = median(ratios)
		out[c] = s
	}
	return out, stats, nil
}

// loads measures commands through the runner and over HTTP, and the raw publishes
// beside them, on a server with the given durability.
func (b *bench) loads(ctx context.Context, dir string, syncAlways bool) (map[loadCase]summary, error) {
	r, err := newRig(ctx, dir, syncAlways, b.cfg.Group)
	if err != nil {
		return nil, err
	}
	defer r.close()
	bodies, size, err := r.bodies(200)
	if err != nil {
		return nil, err
	}
	b.rep.BodyBytes = size
	g := newLives(r.d, r.sealed, 1)
	if _, err := r.fill(ctx, b.cfg.Small, true, g.next); err != nil {
		return nil, err
	}
	sync := r.sync()
	b.logf("sync %s: %d events stored before the loads", sync, b.cfg.Small)

	// Each Redlane case follows the raw case it is compared with.
	var cases []loadCase
	pair := func(kind string, c int) {
		rc := loadCase{kind, c, ""}
		cases = append(cases, rc.baseline(), rc)
	}
	for _, c := range b.cfg.RunnerCallers {
		pair(kindRunner, c)
	}
	for _, c := range b.cfg.GroupCallers {
		if c > 64 && !syncAlways {
			continue // without fsync, group commit is shown at 32 and 64 callers
		}
		if c >= 64 {
			pair(kindRunner, c)
		}
		pair(kindGroup, c)
	}
	for _, c := range b.cfg.HTTPClients {
		pair(kindHTTP, c)
	}
	top := b.cfg.HTTPClients[len(b.cfg.HTTPClients)-1]
	pair(kindHTTPGroup, top)

	res, stats, err := b.rounds(ctx, r, cases, bodies, nil)
	if err != nil {
		return nil, err
	}
	if !syncAlways {
		if err := b.disk(ctx, r, "written by the commands measured"); err != nil {
			return nil, err
		}
	}
	add := func(key, name string, c loadCase, unit string, target float64) *Row {
		s, base := res[c], res[c.baseline()]
		row := ratioRow(fmt.Sprintf("%s_sync_%s", key, sync), name, sync, unit, s.rate, base.rate)
		if s.paired > 0 {
			row.Ratio = s.paired
		}
		row.latencies(s, base)
		if target > 0 {
			row.goal(">=", target)
		}
		if st, ok := stats[c]; ok && st.Batches > 0 {
			row.Note = fmt.Sprintf("%s: %.1f events per atomic batch on average, %.0f %% of batches sent while they gathered; %.0f %% of appends went alone, %.1f %% again alone after a refused batch",
				row.Sync, float64(st.Batched)/float64(st.Batches), pctOf(st.Streamed, st.Batches), pctOf(st.Alone, st.Appends), pctOf(st.Fallbacks, st.Appends))
		}
		b.rep.Rows = append(b.rep.Rows, row)
		return &b.rep.Rows[len(b.rep.Rows)-1]
	}
	tail := func(key, name string, c loadCase) {
		s, base := res[c], res[c.baseline()]
		row := Row{Key: fmt.Sprintf("%s_sync_%s", key, sync), Name: name, Sync: sync, Unit: "× p50",
			Redlane: div(s.p99, s.p50), Raw: div(base.p99, base.p50)}
		row.goalOn(row.Redlane, "<=", 5, "× p50")
		b.rep.Rows = append(b.rep.Rows, row)
	}
	for _, c := range b.cfg.RunnerCallers {
		add(fmt.Sprintf("runner_c%d", c), fmt.Sprintf("runner commands, %d caller(s)", c), loadCase{kindRunner, c, ""}, "cmd/s", 0.5)
	}
	for _, c := range b.cfg.GroupCallers {
		if c > 64 && !syncAlways {
			continue
		}
		if c >= 64 {
			add(fmt.Sprintf("runner_c%d", c), fmt.Sprintf("runner commands, %d callers", c), loadCase{kindRunner, c, ""}, "cmd/s", 0)
		}
		// serve's store with fsync (group commit) against one fsync per publish: issue 16.
		target := 0.0
		if syncAlways {
			target = map[int]float64{1: 0.8, 32: 1.5, 256: 6}[c]
		}
		add(fmt.Sprintf("group_c%d", c), fmt.Sprintf("runner on group commit, %d callers", c), loadCase{kindGroup, c, ""}, "cmd/s", target)
		if syncAlways && c == b.cfg.GroupCallers[len(b.cfg.GroupCallers)-1] {
			defer tail(fmt.Sprintf("group_c%d_p99_over_p50", c), fmt.Sprintf("runner on group commit p99 ÷ p50, %d callers", c), loadCase{kindGroup, c, ""})
		}
	}
	for _, c := range b.cfg.HTTPClients {
		target := 0.0
		if c == top {
			target = 0.35
		}
		add(fmt.Sprintf("http_c%d", c), fmt.Sprintf("HTTP commands, %d client(s)", c), loadCase{kindHTTP, c, ""}, "req/s", target)
	}
	tail(fmt.Sprintf("http_c%d_p99_over_p50", top), fmt.Sprintf("HTTP p99 ÷ p50, %d clients", top), loadCase{kindHTTP, top, ""})
	httpTarget := 0.0
	if syncAlways {
		httpTarget = 0.8 // serve's configuration: issue 16
	}
	hg := add(fmt.Sprintf("http_group_c%d", top), fmt.Sprintf("HTTP commands on group commit, %d clients", top), loadCase{kindHTTPGroup, top, ""}, "req/s", httpTarget)
	if syncAlways && hg.CPU > 0 && hg.RawCPU > 0 {
		cpu := Row{Key: fmt.Sprintf("http_group_c%d_cpu_sync_%s", top, sync), Name: fmt.Sprintf("CPU per HTTP command on group commit ÷ raw's, %d clients", top),
			Sync: sync, Unit: "µs", Redlane: hg.CPU, Raw: hg.RawCPU, Ratio: div(hg.CPU, hg.RawCPU)}
		cpu.goal("<=", 2)
		defer func() { b.rep.Rows = append(b.rep.Rows, cpu) }()
	}
	tail(fmt.Sprintf("http_group_c%d_p99_over_p50", top), fmt.Sprintf("HTTP on group commit p99 ÷ p50, %d clients", top), loadCase{kindHTTPGroup, top, ""})

	if syncAlways {
		if err := b.batchCostRows(ctx, r, bodies, res); err != nil {
			return nil, err
		}
	}

	// What group commit gives: its throughput beside the plain store's.
	for _, pair := range []struct{ group, plain loadCase }{
		{loadCase{kindGroup, 32, ""}, loadCase{kindRunner, 32, ""}},
		{loadCase{kindGroup, 64, ""}, loadCase{kindRunner, 64, ""}},
		{loadCase{kindGroup, 256, ""}, loadCase{kindRunner, 256, ""}},
		{loadCase{kindHTTPGroup, top, ""}, loadCase{kindHTTP, top, ""}},
	} {
		g, okG := res[pair.group]
		p, okP := res[pair.plain]
		if !okG || !okP {
			continue
		}
		what := "runner"
		if pair.group.kind == kindHTTPGroup {
			what = "HTTP"
		}
		row := Row{Key: fmt.Sprintf("group_gain_%s_c%d_sync_%s", strings.ToLower(what), pair.group.callers, sync),
			Name: fmt.Sprintf("group commit gain, %s, %d callers (group ÷ plain)", what, pair.group.callers), Sync: sync, Unit: "/s",
			Redlane: g.rate, Raw: p.rate, RawLabel: "plain store", Ratio: div(g.rate, p.rate)}
		b.rep.Rows = append(b.rep.Rows, row)
	}
	return res, nil
}

// div is a ÷ b, or 0 when b is.
func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func pctOf(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

// fsyncRows report what fsync before every acknowledgement costs: throughput with it as
// a share of throughput without, for Redlane and for raw publishes.
func (b *bench) fsyncRows(bySync map[bool]map[loadCase]summary) {
	on, okOn := bySync[true]
	off, okOff := bySync[false]
	if !okOn || !okOff {
		return
	}
	for _, c := range b.cfg.RunnerCallers {
		rl := div(on[loadCase{kindRunner, c, ""}].rate, off[loadCase{kindRunner, c, ""}].rate)
		raw := div(on[loadCase{kindRaw, c, kindRunner}].rate, off[loadCase{kindRaw, c, kindRunner}].rate)
		b.rep.Rows = append(b.rep.Rows, Row{
			Key: fmt.Sprintf("fsync_kept_runner_c%d", c), Name: fmt.Sprintf("fsync before ack: throughput kept, runner, %d caller(s) (always ÷ interval)", c),
			Unit: "×", Redlane: rl, Raw: raw, Ratio: div(rl, raw),
		})
	}
	for _, c := range []int{32, 64} {
		g, ok := on[loadCase{kindGroup, c, ""}]
		p, ok2 := off[loadCase{kindRunner, c, ""}]
		raw := div(on[loadCase{kindRaw, c, kindRunner}].rate, off[loadCase{kindRaw, c, kindRunner}].rate)
		if !ok || !ok2 {
			continue
		}
		rl := div(g.rate, p.rate)
		b.rep.Rows = append(b.rep.Rows, Row{
			Key: fmt.Sprintf("fsync_kept_group_c%d", c), Name: fmt.Sprintf("fsync before ack: throughput kept with group commit, %d callers (always ÷ interval)", c),
			Unit: "×", Redlane: rl, Raw: raw, Ratio: div(rl, raw),
			Note: "Redlane: the runner on group commit with fsync ÷ the runner on the plain store without; raw: the same publishes with and without fsync",
		})
	}
}

// settle is how long the server is left alone after a fill.
const settle = 3 * time.Second

// lengthAndRebuild shows that a command costs the same on a long stream and on orders
// with long histories, then measures rebuilding the views from the long stream, peak
// memory and disk, on a server without fsync (reads do not fsync).
