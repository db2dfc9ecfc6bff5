package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/redlane/redlane/internal/app"
	"github.com/redlane/redlane/internal/cli"
	"github.com/redlane/redlane/projections"
)

// registerNATS registers the flags every command that reads or writes the log shares.
func registerNATS(fs *flag.FlagSet, f *app.NATS) {
	fs.StringVar(&f.URL, "nats-url", "", "use this NATS server or cluster (comma-separated URLs) instead of an embedded one")
	fs.StringVar(&f.Creds, "nats-creds", "", "NATS credentials file (JWT and nkey seed) for --nats-url")
	fs.StringVar(&f.NKey, "nats-nkey", "", "NATS nkey seed file (SU…) to sign in with (default with an embedded server: DATA/service.nk; DATA/auditor.nk and DATA/reporting.nk only read)")
	fs.StringVar(&f.User, "nats-user", "", "NATS user name (embedded server: also admitted, with every right; --nats-url: sent)")
	fs.StringVar(&f.Password, "nats-password", "", "NATS password; or set REDLANE_NATS_PASSWORD")
	fs.StringVar(&f.Stream, "stream", "", "the JetStream stream that holds the events (default: the current period's, REDLANE until the first period roll)")
	fs.IntVar(&f.Replicas, "replicas", 1, "the stream's replicas (1, or 3 on a cluster)")
	fs.StringVar(&f.Legacy, "legacy-key-file", "", "the shared audit key of a log written before Ed25519 signing (default: REDLANE_AUDIT_KEY, or DATA/audit.key): its events before the first key event are obeyed")
	fs.StringVar(&f.Trusted, "trusted-keys", "", "a file of writers' public keys to trust (default: DATA/trusted.keys; else the root the log's first key event introduces)")
}

// logCmd is a command that reads or writes the log: its flags, with the NATS flags and
// --data, which name the log and the credentials to reach it.
type logCmd struct {
	*flag.FlagSet
	nats   app.NATS
	data   *string
	stderr io.Writer
}

func newLogCmd(name string, stderr io.Writer) *logCmd {
	c := &logCmd{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), stderr: stderr}
	c.SetOutput(stderr)
	registerNATS(c.FlagSet, &c.nats)
	c.data = c.String("data", "./data", "the data directory of a stopped redlane serve (when no --nats-url), and of its keys")
	return c
}

// parse parses flags that may come before or after positional arguments, which it returns.
func (c *logCmd) parse(args []string) ([]string, error) { return cli.ParseInterleaved(c.FlagSet, args) }

// open connects to the log: a writer as Redlane's service, else as a reader.
func (c *logCmd) open(ctx context.Context, writer bool) (*app.Log, error) {
	return app.OpenLog(ctx, c.nats, *c.data, writer, c.stderr)
}

// views are the views named, or all of them when none is.
func views(names []string) ([]func() projections.View, error) {
	if len(names) == 0 {
		return app.Views(), nil
	}
	var chosen []func() projections.View
	for _, n := range names {
		nv, ok := app.ViewNamed(n)
		if !ok {
			return nil, fmt.Errorf("no view %q; views: %s", n, strings.Join(app.ViewNames(), ", "))
		}
		chosen = append(chosen, nv)
	}
	return chosen, nil
}
