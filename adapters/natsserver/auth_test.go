package natsserver_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
)

// userKey makes an nkey user and writes its seed to a file, as an operator would with
// `nk -gen user`; it returns the public key and the file.
func userKey(t *testing.T) (string, string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	file := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(file, append(seed, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	return pub, file
}

func connects(url string, opts ...nats.Option) bool {
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return false
	}
	nc.Close()
	return true
}

func TestNKeysAreRequiredWhenSet(t *testing.T) {
	pub, seedFile := userKey(t)
	_, strangerSeed := userKey(t)
	got, err := natsserver.PublicKeyFromSeedFile(seedFile)
	if err != nil || got != pub {
		t.Fatalf("PublicKeyFromSeedFile = %q, %v; want %q", got, err, pub)
	}
	nkeyOpt := func(file string) nats.Option {
		opt, err := nats.NkeyOptionFromSeed(file)
		if err != nil {
			t.Fatal(err)
		}
		return opt
	}

	t.Run("nkeys only", func(t *testing.T) {
		srv := natstest.StartServer(t, natsserver.Config{DataDir: t.TempDir(), Host: "127.0.0.1", Port: -1, NKeys: []string{pub}})
		if connects(srv.ClientURL()) {
			t.Error("an unauthenticated client connected")
		}
		if connects(srv.ClientURL(), nkeyOpt(strangerSeed)) {
			t.Error("a client with an unknown nkey connected")
		}
		if !connects(srv.ClientURL(), nkeyOpt(seedFile)) {
			t.Error("the client with the nkey was refused")
		}
	})
	t.Run("nkeys and a user", func(t *testing.T) {
		srv := natstest.StartServer(t, natsserver.Config{DataDir: t.TempDir(), Host: "127.0.0.1", Port: -1,
			User: "redlane", Password: "s3cret", NKeys: []string{pub}})
		if connects(srv.ClientURL()) {
			t.Error("an unauthenticated client connected")
		}
		if connects(srv.ClientURL(), nats.UserInfo("redlane", "wrong")) {
			t.Error("a client with the wrong password connected")
		}
		if !connects(srv.ClientURL(), nats.UserInfo("redlane", "s3cret")) {
			t.Error("the user was refused")
		}
		if !connects(srv.ClientURL(), nkeyOpt(seedFile)) {
			t.Error("the client with the nkey was refused")
		}
	})
	t.Run("not a user key", func(t *testing.T) {
		acct, _ := nkeys.CreateAccount()
		apub, _ := acct.PublicKey()
		for _, k := range []string{"", "nonsense", apub} {
			if srv, err := natsserver.Start(natsserver.Config{DataDir: t.TempDir(), Host: "127.0.0.1", Port: -1, NKeys: []string{k}}); err == nil {
				srv.Shutdown()
				t.Errorf("started with NKeys %q", k)
			}
		}
		if _, err := natsserver.PublicKeyFromSeedFile(filepath.Join(t.TempDir(), "missing")); err == nil {
			t.Error("read a public key from a missing file")
		}
	})
}
