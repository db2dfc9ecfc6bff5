package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/service"
)

// privacyCmd runs "redlane privacy erase --phone P": it destroys the resident's key, so
// their name and phone can no longer be read from any event, while every other fact of
// the history still replays.
func privacyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "erase" {
		fmt.Fprintln(stderr, "usage: redlane privacy erase --phone 13812345678 [--nats-url URL | --data DIR]")
		return errUsage
	}
	fs := flag.NewFlagSet("privacy erase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf natsFlags
	nf.register(fs)
	dataDir := fs.String("data", "./data", "the data directory of a stopped redlane serve (when no --nats-url)")
	phone := fs.String("phone", "", "the resident's phone number (required)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *phone == "" {
		return errors.New("--phone is required")
	}
	lc, err := openLog(ctx, nf, *dataDir, true, stderr)
	if err != nil {
		return err
	}
	defer lc.close()
	if lc.store.Signer() == nil {
		return fmt.Errorf("erasure writes events, which need a signing key: run it with --data, the data directory of a redlane serve (%s)", signingKeyFile)
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pepper, err := jsstore.SharedSecret(octx, lc.js, "resident-pepper", func() []byte { return randomBytes(32) }, nf.replicas)
	if err != nil {
		return err
	}
	vault, err := jsstore.OpenVault(octx, lc.js, pepper, nf.replicas)
	if err != nil {
		return err
	}
	svc := service.New(service.Config{Store: lc.store, Vault: vault, Clock: domain.ClockFunc(time.Now), NewID: newEventID})
	resident, err := svc.EraseResident(octx, service.Admin, *phone)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "resident %s erased: their name and phone can no longer be read from any event\n", resident)
	return nil
}
