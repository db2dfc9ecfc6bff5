package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/redlane/redlane/internal/app"
	"github.com/redlane/redlane/internal/cli"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/report"
)

// reportCmd runs "redlane report monthly": a reporting job that reads the views, never
// the log.
func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "monthly" {
		fmt.Fprintln(stderr, "usage: redlane report monthly --community C --period 2026-11 --format csv|json|html [--nats-url URL]")
		return errUsage
	}
	c := newLogCmd("report monthly", stderr)
	community := c.String("community", "", "community id, e.g. taoyuan (required)")
	period := c.String("period", projections.Period(time.Now()), "month, e.g. 2026-11 (Asia/Shanghai)")
	format := cli.Choice(c.FlagSet, "format", "json", "csv", "html")
	out := c.String("o", "", "write to this file instead of standard output")
	if _, err := c.parse(args[1:]); err != nil {
		return err
	}
	if *community == "" {
		return errors.New("--community is required")
	}
	if !regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`).MatchString(*period) {
		return fmt.Errorf("--period %q: want a month such as 2026-11", *period)
	}
	lc, err := c.open(ctx, false)
	if err != nil {
		return err
	}
	defer lc.Close()
	rep, laneNames, err := app.MonthlyReport(ctx, lc, c.nats.Replicas, *community, *period)
	if err != nil {
		return err
	}
	w, done, err := cli.Output(*out, stdout)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		err = cli.WriteJSON(w, rep)
	case "csv":
		err = report.WriteCSV(w, rep, laneNames)
	default:
		err = report.WriteHTML(w, rep, laneNames)
	}
	return errors.Join(err, done())
}
