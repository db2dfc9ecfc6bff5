package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
)

// NATS says how a command reaches the log: the flags every command that reads or writes
// it shares (--nats-url, --nats-creds, --nats-nkey, --nats-user, --nats-password,
// --stream, --replicas, --trusted-keys, --legacy-key-file).
type NATS struct {
	URL      string // a server or cluster (comma-separated); empty: an embedded server on the data directory
	Creds    string // credentials file (JWT and nkey seed)
	NKey     string // nkey seed file
	User     string
	Password string
	Stream   string // the stream that holds the events; empty: the current period's (ResolveStream)
	Replicas int
	Trusted  string // a file of writers' public keys to trust
	Legacy   string // the shared audit key of a log written before Ed25519 signing
}

// connect connects to the log as Redlane's service (an inbox readers cannot see) or as
// a reader; seed is the nkey seed file used when no credentials are given.
func (f *NATS) Connect(url, name, seed string, service bool) (*nats.Conn, error) {
	opts, err := f.connectOptions(name, seed, service)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(url, opts...)
	if errors.Is(err, nats.ErrAuthorization) {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, errNoCredentials)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	return nc, nil
}

// connectOptions are the options of a connection to the log: the credentials the flags
// give (or seed, when none are given), and for Redlane's own processes an inbox no
// reader may subscribe to.
func (f *NATS) connectOptions(name, seed string, service bool) ([]nats.Option, error) {
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	if service {
		opts = append(opts, nats.CustomInboxPrefix(natsserver.ServiceInboxPrefix))
	}
	if f.Creds != "" {
		opts = append(opts, nats.UserCredentials(f.Creds))
	}
	if f.User != "" {
		opts = append(opts, nats.UserInfo(f.User, f.Password))
	}
	nkey := f.NKey
	if nkey == "" && f.Creds == "" && f.User == "" {
		nkey = seed
	}
	if nkey != "" {
		opt, err := nats.NkeyOptionFromSeed(nkey)
		if err != nil {
			return nil, fmt.Errorf("--nats-nkey: %w", err)
		}
		opts = append(opts, opt)
	}
	return opts, nil
}

// ResolveStream sets Stream, when it is not given, to the current period's stream: the
// one the last period roll made current, else jsstore.DefaultStream.
func (f *NATS) ResolveStream(ctx context.Context, js jetstream.JetStream) error {
	if f.Stream != "" {
		return nil
	}
	s, err := jsstore.CurrentStream(ctx, js)
	if err != nil {
		return fmt.Errorf("the current period: %w", err)
	}
	f.Stream = cmp.Or(s, jsstore.DefaultStream)
	return nil
}

var errNoCredentials = errors.New("NATS refused the connection: pass --nats-nkey (DATA/service.nk for Redlane's own work, DATA/auditor.nk or DATA/reporting.nk to read)")
