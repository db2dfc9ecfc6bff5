package main

import (
	"context"
	"fmt"
	"io"

	"github.com/redlane/redlane/internal/app"
	"github.com/redlane/redlane/internal/cli"
)

// periodCmd runs "redlane period roll --to STREAM": with serve stopped, it ends the
// current period's stream and starts the next (app.RollPeriod).
func periodCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "roll" {
		fmt.Fprintln(stderr, "usage: redlane period roll --to STREAM [--closed-grace DURATION] [--nats-url URL | --data DIR]  (stop every serve first)")
		return errUsage
	}
	c := newLogCmd("period roll", stderr)
	var opt app.RollOptions
	c.StringVar(&opt.To, "to", "", "the next period's stream, e.g. REDLANE_2027_01; required")
	c.DurationVar(&opt.ClosedGrace, "closed-grace", 0, "also carry closed orders whose last event is more recent than this (they may still be reopened)")
	if _, err := c.parse(args[1:]); err != nil {
		return err
	}
	lc, err := c.open(ctx, true)
	if err != nil {
		return err
	}
	defer lc.Close()
	opt.Replicas, opt.Progress = c.nats.Replicas, app.NewProgress(stderr, "carry").Update
	rep, err := app.RollPeriod(ctx, lc, opt)
	if err != nil {
		return err
	}
	return cli.WriteJSON(stdout, rep)
}
