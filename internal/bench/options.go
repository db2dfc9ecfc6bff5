package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// SetSync sets the durability the load measurements run under: "always" (fsync before
// every acknowledgement), "interval" or "both".
func (c *Config) SetSync(mode string) error {
	switch mode {
	case "always":
		c.Syncs = []bool{true}
	case "interval":
		c.Syncs = []bool{false}
	case "both":
		c.Syncs = []bool{true, false}
	default:
		return fmt.Errorf(`--sync must be "always", "interval" or "both", not %q`, mode)
	}
	return nil
}

// SetPhases sets what to measure from a comma-separated list of phases.
func (c *Config) SetPhases(list string) error {
	c.Phases = nil
	for _, p := range strings.Split(list, ",") {
		switch p = strings.TrimSpace(p); p {
		case PhaseLoads, PhaseLength, PhaseRebuild, PhaseMemory:
			c.Phases = append(c.Phases, p)
		default:
			return fmt.Errorf("--phases: no phase %q (loads, length, rebuild, memory)", p)
		}
	}
	return nil
}

// ChildProcess is a Config.Child that runs the executable exe as
// "exe bench rebuild-child MODE URL STREAM PROFILE SEED" (RunChild in a process of its
// own; SEED is the nkey seed file it connects with).
func ChildProcess(exe string) func(ctx context.Context, mode, url, seed, stream, profile string) ([]byte, error) {
	return func(ctx context.Context, mode, url, seed, stream, profile string) ([]byte, error) {
		var out, errOut bytes.Buffer
		cmd := exec.CommandContext(ctx, exe, "bench", "rebuild-child", mode, url, stream, profile, seed)
		cmd.Stdout, cmd.Stderr, cmd.WaitDelay = &out, &errOut, 10*time.Second
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%w: %s", err, bytes.TrimSpace(errOut.Bytes()))
		}
		return out.Bytes(), nil
	}
}

// Options are redlane bench's flags; zero values take the defaults of Defaults(Quick).
type Options struct {
	Quick        bool
	Events       uint64
	Rounds       int
	Duration     time.Duration
	Sync, Phases string
	ProfileDir   string
	Orders       int // negative: none
	Subjects     int // negative: none
	MinBatch     int
	Dir          string
	Progress     io.Writer
	Executable   string // this program, to run the rebuild and memory children; "" runs them in process
}

// Config is the run the options ask for.
func (o Options) Config() (Config, error) {
	cfg := Defaults(o.Quick)
	if err := cfg.SetSync(o.Sync); err != nil {
		return cfg, err
	}
	if err := cfg.SetPhases(o.Phases); err != nil {
		return cfg, err
	}
	if o.Events > 0 {
		cfg.Events = o.Events
	}
	if o.Rounds > 0 {
		cfg.Rounds = o.Rounds
	}
	if o.Duration > 0 {
		cfg.Duration = o.Duration
	}
	if o.Orders != 0 {
		cfg.Orders = max(o.Orders, 0)
	}
	if o.Subjects != 0 {
		cfg.Subjects = max(o.Subjects, 0)
	}
	cfg.Dir, cfg.ProfileDir, cfg.Progress = o.Dir, o.ProfileDir, o.Progress
	cfg.Group.MinBatch = o.MinBatch
	if o.Executable != "" {
		cfg.Child = ChildProcess(o.Executable)
		cfg.MemoryChild = MemoryChildProcess(o.Executable)
	}
	return cfg, nil
}

// RunChildren runs the bench's own child processes (rebuild-child, memory-child: not
// for people) and reports whether args asked for one.
func RunChildren(ctx context.Context, args []string, stdout io.Writer) (bool, error) {
	switch {
	case len(args) >= 4 && args[0] == "rebuild-child":
		profile, seed := "", ""
		if len(args) > 4 {
			profile = args[4]
		}
		if len(args) > 5 {
			seed = args[5]
		}
		return true, RunChild(ctx, args[1], args[2], seed, args[3], profile, stdout)
	case len(args) == 4 && args[0] == "memory-child":
		n, err := strconv.Atoi(args[2])
		if err != nil {
			return true, err
		}
		return true, RunMemoryChild(ctx, args[1], n, args[3], stdout)
	}
	return false, nil
}
