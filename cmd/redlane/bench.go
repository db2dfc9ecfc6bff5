package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/redlane/redlane/internal/bench"
)

// benchCmd runs "redlane bench": Redlane measured beside raw JetStream on this machine,
// in the same run (see BENCHMARKS.md).
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if child, err := bench.RunChildren(ctx, args, stdout); child {
		return err
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.Options
	fs.BoolVar(&o.Quick, "quick", false, "smaller counts (100 000 events to rebuild, one short round): under a minute")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	fs.Uint64Var(&o.Events, "events", 0, "events to rebuild the views from (default 1 000 000, or 100 000 with --quick)")
	fs.IntVar(&o.Rounds, "rounds", 0, "rounds of each load measurement, reported as their median (default 3, or 1 with --quick)")
	fs.DurationVar(&o.Duration, "duration", 0, "measured time of each load measurement (default 2s, or 300ms with --quick)")
	fs.StringVar(&o.Sync, "sync", "both", `durability of the load measurements' servers: "always" (fsync before every ack), "interval" or "both"`)
	fs.StringVar(&o.ProfileDir, "cpuprofile-dir", "", "write CPU profiles of the Redlane measurements into this directory")
	fs.StringVar(&o.Phases, "phases", "loads,length,rebuild,memory", "what to measure: loads (commands and HTTP), length (long streams and histories), rebuild, memory (per order held, per order subject)")
	fs.IntVar(&o.Orders, "orders", 0, "orders the serving process's memory is measured holding (default 20 000, or 5 000 with --quick; negative: none)")
	fs.IntVar(&o.Subjects, "subjects", 0, "one-message order subjects the NATS server's memory is measured with (default 1 000 000, or 100 000 with --quick; 5000000 for 5 M; negative: none)")
	fs.IntVar(&o.MinBatch, "group-min-batch", 0, "group commit: the fewest waiting appends sent as one atomic batch (default: learnt from what batches and publishes cost)")
	fs.StringVar(&o.Dir, "dir", "", "where the embedded servers keep their data (default: a temporary directory, removed after)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench takes no arguments, got %q", fs.Args())
	}
	o.Progress = stderr
	o.Executable, _ = os.Executable()
	cfg, err := o.Config()
	if err != nil {
		return err
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
