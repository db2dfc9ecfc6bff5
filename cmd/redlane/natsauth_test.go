package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/internal/app"
)

// TestNATSAuthWorksWithAStockServer feeds what "redlane nats-auth" prints to nats-server's
// own configuration parser, runs that server, and holds its users to the split: the
// service writes, the auditor reads and cannot write or read the secrets. The block in
// docs/operations.md is the same text, with the keys as placeholders.
func TestNATSAuthWorksWithAStockServer(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := natsAuthCmd([]string{"--data", dir}, &out, os.Stderr); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "nats.conf")
	body := fmt.Sprintf("listen: 127.0.0.1:-1\nno_sys_acc: true\njetstream { store_dir: %q }\n%s", filepath.Join(t.TempDir(), "js"), out.String())
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("nats-server does not take the configuration: %v\n%s", err, body)
	}
	opts.NoSigs, opts.NoLog = true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("the server did not start")
	}
	url := ns.ClientURL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if nc, err := nats.Connect(url); err == nil {
		nc.Close()
		t.Error("an anonymous client connected")
	}
	svc := connectAs(t, url, filepath.Join(dir, app.ServiceSeedFile))
	store, err := jsstore.Open(ctx, svc, jsstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jsvault.SharedSecret(ctx, svc, "receipt-key", func() []byte { return []byte("k") }, 1); err != nil {
		t.Fatal(err)
	}
	env, _ := jsstore.Introduction(jsstore.GenerateSigner().PublicKey(), "test", app.NewEventID(), time.Now())
	if _, err := store.Append(ctx, jsstore.SignerAggregate, env.AggregateID, 0, []domain.Envelope{env}); err != nil {
		t.Fatalf("the service cannot write: %v", err)
	}
	aud := connectAs(t, url, filepath.Join(dir, app.AuditorSeedFile))
	st, err := aud.Stream(ctx, "REDLANE")
	if err != nil {
		t.Fatalf("the auditor cannot read the log: %v", err)
	}
	if _, err := st.GetMsg(ctx, 1); err != nil {
		t.Errorf("the auditor cannot read an event: %v", err)
	}
	short, cancelShort := context.WithTimeout(ctx, time.Second)
	defer cancelShort()
	if _, err := aud.Publish(short, "redlane.events.order.x", []byte("{}")); err == nil {
		t.Error("the auditor published")
	}
	if _, err := aud.KeyValue(short, jsvault.SecretsBucket); err == nil {
		t.Error("the auditor opened the secrets")
	}

	// The documented block is this one.
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	want := out.String()
	want = want[strings.Index(want, "# What a reader"):]
	for f, placeholder := range map[string]string{app.ServiceSeedFile: "<SERVICE_NKEY>", app.AuditorSeedFile: "<AUDITOR_NKEY>", app.ReportingSeedFile: "<REPORTING_NKEY>"} {
		pub, err := natsserver.PublicKeyFromSeedFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		want = strings.ReplaceAll(want, pub, placeholder)
	}
	// In the document it is a code block, four spaces in.
	want = "    " + strings.ReplaceAll(strings.TrimSuffix(want, "\n"), "\n", "\n    ") + "\n"
	if !strings.Contains(string(doc), want) {
		t.Errorf("docs/operations.md does not hold the block redlane nats-auth prints:\n%s", want)
	}
}
