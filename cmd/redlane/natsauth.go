package main

import (
	"flag"
	"io"
	"os"

	"github.com/redlane/redlane/internal/app"
)

// natsAuthCmd runs "redlane nats-auth": it prints the authorization block that gives a
// stock nats-server the same users the embedded one has (app.NATSAuthorization).
func natsAuthCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nats-auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "./data", "the data directory whose service.nk, auditor.nk and reporting.nk are used (made when missing)")
	out := fs.String("o", "", "write it to this file (mode 0644) instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	text, err := app.NATSAuthorization(*dataDir)
	if err != nil {
		return err
	}
	if *out != "" {
		return os.WriteFile(*out, []byte(text), 0o644)
	}
	_, err = io.WriteString(stdout, text)
	return err
}
