package bench

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
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
// "exe bench rebuild-child MODE URL STREAM PROFILE" (RunChild in a process of its own).
func ChildProcess(exe string) func(ctx context.Context, mode, url, stream, profile string) ([]byte, error) {
	return func(ctx context.Context, mode, url, stream, profile string) ([]byte, error) {
		var out, errOut bytes.Buffer
		cmd := exec.CommandContext(ctx, exe, "bench", "rebuild-child", mode, url, stream, profile)
		cmd.Stdout, cmd.Stderr, cmd.WaitDelay = &out, &errOut, 10*time.Second
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%w: %s", err, bytes.TrimSpace(errOut.Bytes()))
		}
		return out.Bytes(), nil
	}
}
