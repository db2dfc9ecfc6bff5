// Command redlane runs Redlane: an event-sourced work-order system for neighbourhood
// services on NATS JetStream. "redlane serve" runs the HTTP API and pages over an
// embedded (or an existing) NATS server; the other commands rebuild and verify views,
// write reports, forget a resident, answer an auditor's questions and measure it. Run
// "redlane help" for the list (usage, below), and "redlane <command> -h" for its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // Asia/Shanghai must be known on machines without a zoneinfo database
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) && !errors.Is(err, errUsage) {
		fmt.Fprintln(os.Stderr, "redlane:", err)
		os.Exit(1)
	}
	if err != nil {
		os.Exit(2)
	}
}

// run is main without the process: tests call it with their own arguments and streams.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, getenv, nil)
	case "projections":
		return projectionsCmd(ctx, args[1:], stdout, stderr)
	case "privacy":
		return privacyCmd(ctx, args[1:], stdout, stderr)
	case "report":
		return reportCmd(ctx, args[1:], stdout, stderr)
	case "audit":
		return auditCmd(ctx, args[1:], stdout, stderr)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "period":
		return periodCmd(ctx, args[1:], stdout, stderr)
	case "nats-auth":
		return natsAuthCmd(args[1:], stdout, stderr)
	case "health":
		return healthCmd(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "redlane", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

const usage = `usage: redlane <command> [flags]

commands:
  serve                  run the HTTP API over an embedded (or, with --nats-url, an existing) NATS server
  projections rebuild    rebuild views from the event log and switch them in
  projections verify     compare the stored views with a rebuild from the log
  report monthly         a community's monthly report from the views (csv, json or html)
  privacy erase          forget a resident: their name and phone become unreadable everywhere
  audit                  order, replay, verify, export, seal: an order's story, views as of a moment, tamper evidence
  period roll            end the current period's stream and start the next (serve stopped; docs/scale.md)
  bench                  measure Redlane beside raw JetStream on this machine (--quick, --json)
  nats-auth              print a stock nats-server's authorization block for this data directory's NATS users
  health                 ask a running serve's /readyz; exit non-zero unless ready
  version                print the version

Run "redlane <command> -h" for a command's flags.
`

// errUsage is a command's answer when it printed its usage: exit status 2, no message.
var errUsage = errors.New("usage")
