package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/redlane/redlane/internal/bench"
)

// benchCmd runs "redlane bench": Redlane measured beside raw JetStream on this machine,
// in the same run (see BENCHMARKS.md).
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// The rebuild's own process, started by the bench itself: not for people.
	if len(args) >= 4 && args[0] == "rebuild-child" {
		profile := ""
		if len(args) > 4 {
			profile = args[4]
		}
		return bench.RunChild(ctx, args[1], args[2], args[3], profile, stdout)
	}
	if len(args) == 4 && args[0] == "memory-child" {
		n, err := strconv.Atoi(args[2])
		if err != nil {
			return err
		}
		return bench.RunMemoryChild(ctx, args[1], n, args[3], stdout)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "smaller counts (100 000 events to rebuild, one short round): under a minute")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	events := fs.Uint64("events", 0, "events to rebuild the views from (default 1 000 000, or 100 000 with --quick)")
	rounds := fs.Int("rounds", 0, "rounds of each load measurement, reported as their median (default 3, or 1 with --quick)")
	duration := fs.Duration("duration", 0, "measured time of each load measurement (default 2s, or 300ms with --quick)")
	syncMode := fs.String("sync", "both", `durability of the load measurements' servers: "always" (fsync before every ack), "interval" or "both"`)
	profileDir := fs.String("cpuprofile-dir", "", "write CPU profiles of the Redlane measurements into this directory")
	phases := fs.String("phases", "loads,length,rebuild,memory", "what to measure: loads (commands and HTTP), length (long streams and histories), rebuild, memory (per order held, per order subject)")
	orders := fs.Int("orders", 0, "orders the serving process's memory is measured holding (default 20 000, or 5 000 with --quick; negative: none)")
	subjects := fs.Int("subjects", 0, "one-message order subjects the NATS server's memory is measured with (default 1 000 000, or 100 000 with --quick; 5000000 for 5 M; negative: none)")
	minBatch := fs.Int("group-min-batch", 0, "group commit: the fewest waiting appends sent as one atomic batch (default: learnt from what batches and publishes cost)")
	dir := fs.String("dir", "", "where the embedded servers keep their data (default: a temporary directory, removed after)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench takes no arguments, got %q", fs.Args())
	}
	cfg := bench.Defaults(*quick)
	if err := cfg.SetSync(*syncMode); err != nil {
		return err
	}
	if err := cfg.SetPhases(*phases); err != nil {
		return err
	}
	if *events > 0 {
		cfg.Events = *events
	}
	if *rounds > 0 {
		cfg.Rounds = *rounds
	}
	if *duration > 0 {
		cfg.Duration = *duration
	}
	cfg.Dir, cfg.ProfileDir, cfg.Progress = *dir, *profileDir, stderr
	cfg.Group.MinBatch = *minBatch
	if *orders != 0 {
		cfg.Orders = max(*orders, 0)
	}
	if *subjects != 0 {
		cfg.Subjects = max(*subjects, 0)
	}
	if exe, err := os.Executable(); err == nil {
		cfg.Child = bench.ChildProcess(exe)
		cfg.MemoryChild = bench.MemoryChildProcess(exe)
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteTable(stdout)
}
