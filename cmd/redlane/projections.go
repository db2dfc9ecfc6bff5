package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/redlane/redlane/internal/app"
)

// projectionsCmd runs "redlane projections rebuild|verify [VIEW…]".
func projectionsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "rebuild" && args[0] != "verify") {
		fmt.Fprintf(stderr, "usage: redlane projections rebuild|verify [VIEW…] [--nats-url URL | --data DIR]\nviews: %s\n", strings.Join(app.ViewNames(), ", "))
		return errUsage
	}
	c := newLogCmd("projections "+args[0], stderr)
	names, err := c.parse(args[1:])
	if err != nil {
		return err
	}
	chosen, err := views(names)
	if err != nil {
		return err
	}
	lc, err := c.open(ctx, true)
	if err != nil {
		return err
	}
	defer lc.Close()
	if args[0] == "verify" {
		return app.VerifyViews(ctx, lc, c.nats.Replicas, chosen, stdout)
	}
	return app.RebuildViews(ctx, lc, c.nats.Replicas, chosen, stdout, stderr)
}
