package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/redlane/redlane/adapters/natsserver"
)

// natsAuthCmd runs "redlane nats-auth": it prints the authorization block that gives a
// stock nats-server the same users the embedded one has, for the data directory's nkeys
// (made on first use): the service with every right, the auditor and reporting users
// read-only, the secrets out of their reach.
func natsAuthCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nats-auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "./data", "the data directory whose service.nk, auditor.nk and reporting.nk are used (made when missing)")
	stream := fs.String("stream", "REDLANE", "the JetStream stream that holds the events")
	out := fs.String("o", "", "write it to this file (mode 0644) instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	svc, readers, err := natsUsers(*dataDir)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("# Redlane's NATS users, for the data directory %s (redlane nats-auth)\n", *dataDir) +
		natsserver.AuthorizationConfig([]string{svc}, readers, readScope(*stream))
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
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(stdout, "%d %s\n", resp.StatusCode, body)
	if resp.StatusCode != http.StatusOK {
		return errors.New("not ready")
	}
	return nil
}
