package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"

	"github.com/redlane/redlane/internal/app"
)

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
