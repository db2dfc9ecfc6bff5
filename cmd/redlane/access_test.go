package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/internal/app"
)

// TestNATSAccess holds the embedded server's users to what "NATS access" promises:
// nobody anonymous; readers read the log and the views, and nothing else.
func TestNATSAccess(t *testing.T) {
	b := newBinary(t)
	b.launch()
	walk(t, client{t, b.base}, readDemoTokens(t, b.dir))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if nc, err := nats.Connect(b.natsURL()); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected")
	}

	for _, seedFile := range []string{app.AuditorSeedFile, app.ReportingSeedFile} {
		t.Run(seedFile, func(t *testing.T) {
			seed := filepath.Join(b.dir, seedFile)
			opt, err := nats.NkeyOptionFromSeed(seed)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var asyncErrs []error
			nc, err := nats.Connect(b.natsURL(), opt, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
				mu.Lock()
				asyncErrs = append(asyncErrs, err)
				mu.Unlock()
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc, jetstream.WithDefaultTimeout(2*time.Second))

			// It reads the log, as "nats stream view" does, and the views.
			stream, err := js.Stream(ctx, "REDLANE")
			if err != nil {
				t.Fatal(err)
			}
			before := stream.CachedInfo().State.Msgs
			cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second)); err != nil || !strings.Contains(string(msg.Data()), `"specversion":"1.0"`) {
				t.Fatalf("reading the log: %v", err)
			}
			if _, err := stream.GetMsg(ctx, 1); err != nil {
				t.Errorf("a direct read of the log: %v", err)
			}
			views, err := js.KeyValue(ctx, jsviews.PointerBucket)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := views.Get(ctx, "backlog"); err != nil {
				t.Errorf("reading the views: %v", err)
			}

			// It writes nothing, deletes nothing, and reads no secret. A refused request
			// gets no answer, so each is given a short while.
			short := func() context.Context {
				c, cancel := context.WithTimeout(ctx, time.Second)
				t.Cleanup(cancel)
				return c
			}
			if _, err := js.Publish(short(), "redlane.events.order.forged", []byte(`{}`)); err == nil {
				t.Error("a reader published an event")
			}
			if err := stream.DeleteMsg(short(), 1); err == nil {
				t.Error("a reader deleted an event")
			}
			if err := stream.Purge(short()); err == nil {
				t.Error("a reader purged the log")
			}
			if _, err := views.Put(short(), "backlog", []byte(`{}`)); err == nil {
				t.Error("a reader wrote a view")
			}
			for _, bucket := range []string{jsvault.SecretsBucket, jsvault.VaultBucket, jsvault.SessionsBucket, jsvault.CredentialsBucket} {
				if _, err := js.KeyValue(short(), bucket); err == nil {
					t.Errorf("a reader opened the %s bucket", bucket)
				}
				if msg, err := nc.Request("$JS.API.DIRECT.GET.KV_"+bucket+".$KV."+bucket+".receipt-key", nil, time.Second); err == nil && len(msg.Data) > 0 {
					t.Errorf("a reader got a secret by a direct get of %s", bucket)
				}
			}
			// The service's replies go to an inbox no reader may listen on.
			if _, err := nc.SubscribeSync("_REDLANE_INBOX.>"); err == nil {
				_ = nc.Flush()
				time.Sleep(200 * time.Millisecond)
				mu.Lock()
				denied := len(asyncErrs) > 0 && strings.Contains(strings.ToLower(asyncErrs[len(asyncErrs)-1].Error()), "permissions violation")
				mu.Unlock()
				if !denied {
					t.Error("a reader subscribed to the service's inbox")
				}
			}
			info, err := stream.Info(ctx)
			if err != nil || info.State.Msgs != before {
				t.Errorf("the log changed under a reader: %d → %v (%v)", before, info, err)
			}
		})
	}

	// Not even the service's own user may remove an event.
	js := connectAs(t, b.natsURL(), filepath.Join(b.dir, app.ServiceSeedFile))
	stream, err := js.Stream(ctx, "REDLANE")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.DeleteMsg(ctx, 1); err == nil {
		t.Error("the service's user deleted an event")
	}
	if err := stream.Purge(ctx); err == nil {
		t.Error("the service's user purged the log")
	}
}

// TestNATSAccessWithTheCLI does the same with the real nats CLI, as an auditor would.
func TestNATSAccessWithTheCLI(t *testing.T) {
	cli, err := exec.LookPath("nats")
	if err != nil {
		t.Skip("SKIP: the nats CLI is not on PATH (.ci/run installs it: go install github.com/nats-io/natscli/nats@v0.5.0)")
	}
	b := newBinary(t)
	b.launch()
	walk(t, client{t, b.base}, readDemoTokens(t, b.dir))
	nats := func(seed string, args ...string) (string, error) {
		full := []string{"--server", b.natsURL(), "--timeout", "3s"}
		if seed != "" {
			full = append(full, "--nkey", filepath.Join(b.dir, seed))
		}
		out, err := exec.Command(cli, append(full, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := nats("", "stream", "info", "REDLANE"); err == nil {
		t.Errorf("an anonymous client was let in:\n%s", out)
	}
	out, err := nats(app.AuditorSeedFile, "stream", "info", "REDLANE")
	if err != nil || !strings.Contains(out, "Allows Msg Delete: false") || !strings.Contains(out, "Allows Purge: false") {
		t.Errorf("stream info as the auditor: %v\n%s", err, out)
	}
	if out, err := nats(app.AuditorSeedFile, "stream", "get", "REDLANE", "1"); err != nil || !strings.Contains(out, "redlane.signer.introduced.v1") {
		t.Errorf("stream get as the auditor: %v\n%s", err, out)
	}
	for _, refused := range [][]string{
		{"pub", "redlane.events.order.forged", "{}"},
		{"kv", "get", jsvault.SecretsBucket, "receipt-key"},
		{"kv", "get", jsvault.VaultBucket, "x"},
		{"kv", "ls", jsvault.SessionsBucket},
		{"kv", "get", jsvault.CredentialsBucket, "account.acct-wangfang"},
		{"stream", "rmm", "REDLANE", "1", "-f"},
		{"stream", "purge", "REDLANE", "-f"},
	} {
		if out, err := nats(app.AuditorSeedFile, refused...); err == nil {
			t.Errorf("nats %s as the auditor was let through:\n%s", strings.Join(refused, " "), out)
		}
	}
}
