package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/projections/all"
)

func (b *bench) lengthAndRebuild(ctx context.Context, dir string) error {
	r, err := newRig(ctx, dir, false, b.cfg.Group)
	if err != nil {
		return err
	}
	defer r.close()
	bodies, _, err := r.bodies(200)
	if err != nil {
		return err
	}
	g := newLives(r.d, r.sealed, 2)
	if _, err := r.fill(ctx, b.cfg.Small, false, g.next); err != nil {
		return err
	}
	length := b.cfg.phase(PhaseLength)
	short := []loadCase{{kindRaw, 1, kindRunner}, {kindRunner, 1, ""}, {kindRaw, 32, kindRunner}, {kindRunner, 32, ""}}
	var atSmall map[loadCase]summary
	if length {
		if atSmall, _, err = b.rounds(ctx, r, short, bodies, nil); err != nil {
			return err
		}
	}
	// Orders with long histories, one per caller of the notes measurement, come last.
	const histCallers = 32
	fillStart := time.Now()
	if _, err := r.fill(ctx, b.cfg.Events-min(b.cfg.Events/2, uint64(histCallers*b.cfg.History)), false, g.next); err != nil {
		return err
	}
	hist := make([]string, 0, histCallers)
	for range histCallers {
		envs, err := g.history(b.cfg.History)
		if err != nil {
			return err
		}
		have, err := r.store.LastSeq(ctx)
		if err != nil {
			return err
		}
		ids, err := r.fill(ctx, have+uint64(len(envs)), false, func() ([]domain.Envelope, error) { return envs, nil })
		if err != nil {
			return err
		}
		hist = append(hist, ids...)
	}
	stored, err := r.store.LastSeq(ctx)
	if err != nil {
		return err
	}
	b.rep.Events = stored
	b.logf("filled to %d events in %.1f s", stored, time.Since(fillStart).Seconds())
	// Let the server finish writing the fill before anything is measured on it.
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	if length {
		if err := b.length(ctx, r, bodies, short, atSmall, hist, stored); err != nil {
			return err
		}
	}
	if b.cfg.phase(PhaseRebuild) {
		return b.rebuild(ctx, r)
	}
	return nil
}

// length measures commands again on the long stream, and notes on the orders with long
// histories, and reports them beside the short stream's.
func (b *bench) length(ctx context.Context, r *rig, bodies [][][]byte, short []loadCase, atSmall map[loadCase]summary, hist []string, stored uint64) error {
	// A cold load of each long history, then commands on them from the cache.
	coldStart := time.Now()
	for _, id := range hist {
		snap, err := r.svc.Orders.Load(ctx, id)
		if err != nil {
			return err
		}
		if snap.Version != uint64(b.cfg.History) {
			return fmt.Errorf("order %s loaded at version %d, want %d", id, snap.Version, b.cfg.History)
		}
	}
	cold := time.Since(coldStart).Seconds() * 1000 / float64(len(hist))
	notes := loadCase{kindNotes, len(hist), ""}
	atLarge, _, err := b.rounds(ctx, r, append(short, notes.baseline(), notes), bodies, func(w int) op { return noteOn(r.svc, r.d, hist[w%len(hist)]) })
	if err != nil {
		return err
	}
	smallName, largeName := count(b.cfg.Small), count(stored)
	for _, c := range []int{1, 32} {
		for _, at := range []struct {
			name string
			res  map[loadCase]summary
		}{{smallName, atSmall}, {largeName, atLarge}} {
			s, base := at.res[loadCase{kindRunner, c, ""}], at.res[loadCase{kindRaw, c, kindRunner}]
			row := ratioRow(fmt.Sprintf("runner_c%d_at_%s", c, strings.ReplaceAll(at.name, " ", "")), fmt.Sprintf("runner commands, %d caller(s), %s events stored", c, at.name),
				"interval", "cmd/s", s.rate, base.rate)
			row.latencies(s, base)
			row.goal(">=", 0.5)
			b.rep.Rows = append(b.rep.Rows, row)
		}
		s, l := atSmall[loadCase{kindRunner, c, ""}], atLarge[loadCase{kindRunner, c, ""}]
		row := Row{Key: fmt.Sprintf("runner_c%d_length_growth", c),
			Name: fmt.Sprintf("runner, %d caller(s): throughput at %s ÷ at %s events stored", c, largeName, smallName), Sync: "interval", Unit: "cmd/s",
			Redlane: l.rate, Raw: s.rate, RawLabel: "at " + smallName, Ratio: div(l.rate, s.rate), CPU: l.cpu, RawCPU: s.cpu, CPURatio: div(s.cpu, l.cpu),
			Note: "no growth with the stream's length is 1; runs vary by ±25 %"}
		row.goal(">=", 0.75)
		b.rep.Rows = append(b.rep.Rows, row)
	}
	n, base := atLarge[notes], atLarge[notes.baseline()]
	row := ratioRow("notes_c32_history", fmt.Sprintf("runner notes on orders of %d events, 32 callers", b.cfg.History), "interval", "cmd/s", n.rate, base.rate)
	row.latencies(n, base)
	row.goal(">=", 0.5)
	row.Note = fmt.Sprintf("the aggregate is read once, then kept: the first (cold) load of a %d-event order took %.1f ms", b.cfg.History, cold)
	b.rep.Rows = append(b.rep.Rows, row)
	return nil
}

// rebuild measures folding every view from the stream against reading it raw, each in a
// process of its own when it can.
func (b *bench) rebuild(ctx context.Context, r *rig) error {
	runOne := func(mode string, profile string) (childResult, error) {
		var res childResult
		if b.cfg.Child != nil {
			out, err := b.cfg.Child(ctx, mode, r.srv.ClientURL(), r.seedFile, jsstore.DefaultStream, profile)
			if err != nil {
				return res, fmt.Errorf("rebuild child %s: %w", mode, err)
			}
			if err := json.Unmarshal(out, &res); err != nil {
				return res, fmt.Errorf("rebuild child %s: %w (%s)", mode, err, out)
			}
		} else {
			var err error
			if res, err = rebuildOnce(ctx, r.js, jsstore.DefaultStream, mode); err != nil {
				return res, err
			}
		}
		for k, s := range res.Seconds {
			b.logf("rebuild %-6s %-8s %9.0f events/s  peak RSS %d MiB", mode, k, float64(res.Events)/s, res.PeakRSS>>20)
		}
		return res, nil
	}
	profile := ""
	if b.cfg.ProfileDir != "" && b.cfg.Child != nil {
		profile = filepath.Join(b.cfg.ProfileDir, "rebuild-fold.pprof")
	}
	read1, err := runOne(ChildRead, "")
	if err != nil {
		return err
	}
	fold, err := runOne(ChildFold, profile)
	if err != nil {
		return err
	}
	// The raw read once more after the fold, so that both sides see the same machine
	// (but once only in a quick run).
	read2 := read1
	if !b.cfg.Quick {
		if read2, err = runOne(ChildRead, ""); err != nil {
			return err
		}
	}
	readRate := (div(float64(read1.Events), read1.Seconds["read"]) + div(float64(read2.Events), read2.Seconds["read"])) / 2
	for _, nv := range all.Views() {
		name := nv().Name()
		row := ratioRow("rebuild_"+name, fmt.Sprintf("rebuild view %s from %s events", name, count(fold.Events)), "", "events/s",
			div(float64(fold.Events), fold.Seconds[name]), readRate)
		row.goal(">=", 0.5)
		b.rep.Rows = append(b.rep.Rows, row)
	}
	where := "a process of its own"
	if b.cfg.Child == nil {
		where = "the bench process (with everything before it)"
	}
	row := Row{Key: "rebuild_peak_rss", Name: fmt.Sprintf("peak RSS rebuilding all views from %s events (MiB)", count(fold.Events)),
		Unit: "MiB", Redlane: float64(fold.PeakRSS) / (1 << 20), Raw: float64(max(read1.PeakRSS, read2.PeakRSS)) / (1 << 20),
		Note: "VmHWM of " + where + "; the baseline is the raw read's"}
	if row.Raw > 0 {
		row.Ratio = row.Redlane / row.Raw
	}
	row.goalOn(row.Redlane, "<=", 1024, "MiB")
	b.rep.Rows = append(b.rep.Rows, row)

	if !b.diskDone {
		return b.disk(ctx, r, "the stream holds mostly the fill's events, written without Nats-Msg-Id")
	}
	return nil
}

// disk reports the disk per million events of Redlane's stream on r beside the raw
// publishes' stream.
func (b *bench) disk(ctx context.Context, r *rig, what string) error {
	disk, err := streamDisk(r.dir, jsstore.DefaultStream)
	if err != nil {
		return err
	}
	msgs, err := r.store.MessageCount(ctx)
	if err != nil {
		return err
	}
	rawDisk, err := streamDisk(r.dir, rawStream)
	if err != nil {
		return err
	}
	rs, err := r.rawJS.Stream(ctx, rawStream)
	if err != nil {
		return err
	}
	info, err := rs.Info(ctx)
	if err != nil {
		return err
	}
	perM := func(bytes int64, n uint64) float64 { return float64(bytes) / float64(max(n, 1)) * 1e6 / (1 << 20) }
	row := ratioRow("disk_per_million", "disk per million events (MiB)", r.sync(), "MiB", perM(disk, msgs), perM(rawDisk, info.State.Msgs))
	row.Note = fmt.Sprintf("%d bytes per event stored by Redlane (body, subject and headers) over %d events, %s; %d per raw publish of the same bodies",
		disk/int64(max(msgs, 1)), msgs, what, rawDisk/int64(max(info.State.Msgs, 1)))
	b.rep.Rows = append(b.rep.Rows, row)
	b.diskDone = true
	return nil
}

// count writes a number of events the short way: 10 k, 1 M.
func count(n uint64) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 < 50_000:
		return fmt.Sprintf("%d M", n/1_000_000)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1f M", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%d k", (n+500)/1000)
	}
	return fmt.Sprint(n)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
