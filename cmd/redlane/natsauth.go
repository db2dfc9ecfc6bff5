package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/redlane/redlane/internal/app"
)

// natsAuthCmd runs "redlane nats-auth": it prints the authorization block that gives a
// stock nats-server the same users the embedded one has (app.NATSAuthorization).
func natsAuthCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nats-auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "./data", "the data directory whose service.nk, auditor.nk and reporting.nk are used (made when missing)")
	stream := fs.String("stream", "REDLANE", "the JetStream stream that holds the events")
	out := fs.String("o", "", "write it to this file (mode 0644) instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	text, err := app.NATSAuthorization(*dataDir, *stream)
	if err != nil {
		return err
	}
	if *out != "" {
		return os.WriteFile(*out, []byte(text), 0o644)
	}
	_, err = io.WriteString(stdout, text)
	return err
}

// healthCmd runs "redlane health": it asks a running serve's /readyz and exits non-zero
// unless it answers 200 (a container's healthcheck; images without a shell have no curl).
func healthCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080/readyz", "the address to ask")
	if err := fs.Parse(args); err != nil {
		return err
	}
	status, body, err := app.Health(ctx, *url)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d %s\n", status, body)
	if status != http.StatusOK {
		return errors.New("not ready")
	}
	return nil
}
