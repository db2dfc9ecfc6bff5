package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/internal/app"
	"github.com/redlane/redlane/internal/cli"
	"github.com/redlane/redlane/query"
)

const auditUsage = `usage: redlane audit <command> [flags] [--nats-url URL | --data DIR]

commands:
  order ID [--as-of TIME] [--format text|json|csv] [--unmask]
                         an order's whole story: who did what, when, in which role; its state as of TIME
  replay --until TIME [--view V]... [--format text|json] [--keep]
                         every view as it stood at TIME, folded apart from the live views
  verify [--key-file F]... [--unsigned-until SEQ] [--anchor SEQ:CHAIN]... [--format text|json]
                         prove that no stored event was altered, removed, inserted or reordered
  export --from TIME --until TIME [-o FILE]
                         the events stamped in [from, until] as JSON Lines of envelopes
  seal                   seal everything stored now (the sealer in redlane serve does it by itself)
  introduce --public-key KEY [--name NAME]
                         trust another writer's signing key: a key event signed with this data directory's key

TIME is RFC 3339 (2026-11-27T06:00:00Z) or "2026-11-27 14:00" in Asia/Shanghai.
Events count only when signed by a trusted key: those in --trusted-keys, else DATA/trusted.keys,
else the root that the log's first key event introduces. verify needs no secret: a read-only
NATS user (--nats-nkey DATA/auditor.nk) is enough.
`

// auditCmd runs "redlane audit …".
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return errUsage
	}
	cmds := map[string]func(context.Context, *logCmd, []string, io.Writer) error{
		"order": auditOrder, "replay": auditReplay, "verify": auditVerify,
		"export": auditExport, "seal": auditSeal, "introduce": auditIntroduce,
	}
	if f, ok := cmds[args[0]]; ok {
		return f(ctx, newLogCmd("audit "+args[0], stderr), args[1:], stdout)
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, auditUsage)
		return nil
	}
	fmt.Fprint(stderr, auditUsage)
	return fmt.Errorf("unknown audit command %q", args[0])
}

// auditOrder tells an order's whole story: who did what, when, in which role.
func auditOrder(ctx context.Context, c *logCmd, args []string, stdout io.Writer) error {
	asOf := cli.Moment(c.FlagSet, "as-of", "show the state as of this moment")
	format := cli.Choice(c.FlagSet, "format", "text", "json", "csv")
	unmask := c.Bool("unmask", false, "show the requester's phone in full")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("audit order: give one order id")
	}
	lc, err := c.open(ctx, false)
	if err != nil {
		return err
	}
	defer lc.Close()
	st, err := app.OrderStory(ctx, lc, c.nats.Replicas, pos[0], *asOf, *unmask, c.stderr)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		return cli.WriteJSON(stdout, st)
	case "csv":
		return query.WriteStoryCSV(stdout, st.Events)
	}
	return query.WriteStoryText(stdout, st)
}

// auditReplay folds every view as it stood at a moment, apart from the live views.
func auditReplay(ctx context.Context, c *logCmd, args []string, stdout io.Writer) error {
	until := cli.Moment(c.FlagSet, "until", "the moment; required")
	var only cli.Strings
	c.Var(&only, "view", "fold only this view (repeatable); default all: "+strings.Join(app.ViewNames(), ", "))
	format := cli.Choice(c.FlagSet, "format", "text", "json")
	keep := c.Bool("keep", false, "also write each view to a bucket of its own, REDLANE_REPLAY_<VIEW>_<unix seconds>")
	if _, err := c.parse(args); err != nil {
		return err
	}
	if *until == nil {
		return errors.New("--until is required")
	}
	chosen, err := views(only)
	if err != nil {
		return err
	}
	lc, err := c.open(ctx, *keep)
	if err != nil {
		return err
	}
	defer lc.Close()
	out, err := app.Replay(ctx, lc, c.nats.Replicas, **until, chosen, *keep, app.NewProgress(c.stderr, "replay to "+query.LocalTime(**until)).Update)
	if err != nil {
		return err
	}
	if *format == "json" {
		return cli.WriteJSON(stdout, out)
	}
	return app.WriteReplayText(stdout, out, chosen)
}

// auditVerify proves that no stored event was altered, removed, inserted or reordered.
func auditVerify(ctx context.Context, c *logCmd, args []string, stdout io.Writer) error {
	var anchorTexts cli.Strings
	c.Var(&anchorTexts, "anchor", "SEQ:CHAIN, a chain value recorded from an earlier verification, to check again (repeatable)")
	unsignedUntil := c.Uint64("unsigned-until", 0, "accept unsigned events at or below this stream sequence (written before signing was switched on)")
	format := cli.Choice(c.FlagSet, "format", "text", "json")
	if _, err := c.parse(args); err != nil {
		return err
	}
	lc, err := c.open(ctx, false)
	if err != nil {
		return err
	}
	defer lc.Close()
	return app.AuditVerify(ctx, lc, anchorTexts, *unsignedUntil, *format == "json", stdout, c.stderr)
}

// auditSeal seals everything stored now.
func auditSeal(ctx context.Context, c *logCmd, args []string, stdout io.Writer) error {
	if _, err := c.parse(args); err != nil {
		return err
	}
	lc, err := c.open(ctx, true)
	if err != nil {
		return err
	}
	defer lc.Close()
	seal, err := app.Seal(ctx, lc, c.nats.Replicas, app.NewProgress(c.stderr, "seal").Update)
	if err != nil {
		return err
	}
	if seal == nil {
		fmt.Fprintln(stdout, "nothing new to seal")
		return nil
	}
	fmt.Fprintf(stdout, "sealed up to %d (%d events): chain %s\n", seal.Upto, seal.Count, seal.Chain)
	return nil
}

// auditExport writes the events stamped in [from, until] as JSON Lines of envelopes.
func auditExport(ctx context.Context, c *logCmd, args []string, stdout io.Writer) error {
	fromFlag := cli.Moment(c.FlagSet, "from", "the first moment; default: the beginning")
	untilFlag := cli.Moment(c.FlagSet, "until", "the last moment; default: now")
	out := c.String("o", "", "write to this file instead of standard output")
	if _, err := c.parse(args); err != nil {
		return err
	}
	lc, err := c.open(ctx, false)
	if err != nil {
		return err
	}
	defer lc.Close()
	return app.AuditExport(ctx, lc, *fromFlag, *untilFlag, *out, stdout, c.stderr)
}

// auditIntroduce trusts another writer's public key: it appends a key event that this
// data directory's key signs, so that every reader who trusts this key trusts that one.
func auditIntroduce(ctx context.Context, c *logCmd, args []string, stdout io.Writer) error {
	pubText := c.String("public-key", "", "the new writer's public key, base64 (its serve prints it, and it is the first field of its trusted.keys)")
	name := c.String("name", "", "who holds the key: a host and data directory, say")
	if _, err := c.parse(args); err != nil {
		return err
	}
	pub, err := base64.StdEncoding.DecodeString(strings.TrimSpace(*pubText))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return errors.New("--public-key: want a base64 Ed25519 public key (44 characters)")
	}
	lc, err := c.open(ctx, true)
	if err != nil {
		return err
	}
	defer lc.Close()
	seq, err := app.Introduce(ctx, lc, pub, *name)
	switch {
	case err != nil:
		return err
	case seq == 0:
		fmt.Fprintf(stdout, "key %s is trusted already\n", jsstore.KeyID(pub))
	default:
		fmt.Fprintf(stdout, "key %s introduced by %s at %d\n", jsstore.KeyID(pub), lc.Store.Signer().KeyID(), seq)
	}
	return nil
}
