package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"

	"github.com/redlane/redlane/adapters/eventstoredb"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/domain"
)

// The files of a data directory that say who may use the log.
const (
	ServiceSeedFile   = "service.nk"   // Redlane's own processes: every right on NATS
	AuditorSeedFile   = "auditor.nk"   // read-only
	ReportingSeedFile = "reporting.nk" // read-only
	SigningKeyFile    = "signing.key"  // this directory's Ed25519 signing key: never on NATS
	TrustedKeysFile   = "trusted.keys" // the writers' public keys it trusts (the root)
)

// natsUsers returns the public keys of the data directory's NATS users, writing their
// seed files (mode 0600) on first start.
func NATSUsers(dataDir string) (service string, readers []string, err error) {
	if service, err = natsserver.EnsureUserSeed(filepath.Join(dataDir, ServiceSeedFile)); err != nil {
		return "", nil, err
	}
	for _, f := range []string{AuditorSeedFile, ReportingSeedFile} {
		pub, err := natsserver.EnsureUserSeed(filepath.Join(dataDir, f))
		if err != nil {
			return "", nil, err
		}
		readers = append(readers, pub)
	}
	return service, readers, nil
}

// ReadScope keeps readers away from the secrets and the service's durable consumers,
// on every period's stream ("*": the stream changes at each period roll).
func ReadScope() natsserver.ReadScope {
	scope := natsserver.ReadScope{SecretBuckets: []string{jsvault.SecretsBucket, jsvault.VaultBucket, jsvault.SessionsBucket, jsvault.CredentialsBucket}}
	for _, n := range ViewNames() {
		scope.Durables = append(scope.Durables, "*/view-"+n)
	}
	scope.Durables = append(scope.Durables, "*/"+eventstoredb.ConsumerName)
	return scope
}

// startEmbedded starts the NATS server of a data directory: its service user (and any
// extra service keys, and a user and password when given) with every right, and the
// read-only users.
func StartEmbedded(dataDir, host string, port int, sync bool, extra []string, user, password string, log *slog.Logger) (*natsserver.Server, error) {
	svc, readers, err := NATSUsers(dataDir)
	if err != nil {
		return nil, err
	}
	return natsserver.Start(natsserver.Config{
		DataDir: filepath.Join(dataDir, "nats"), Host: host, Port: port, SyncAlways: sync,
		User: user, Password: password, NKeys: append([]string{svc}, extra...),
		Readers: readers, ReadScope: ReadScope(), Logger: log,
	})
}

// pinTrusted pins the keys a command trusts: those in file (--trusted-keys), or in the
// data directory's trusted.keys, or else the root the log begins with, which it says.
func pinTrusted(ctx context.Context, store *jsstore.Store, file, dataDir string, stderr io.Writer) error {
	if file == "" {
		if p := filepath.Join(dataDir, TrustedKeysFile); dataDir != "" && FileExists(p) {
			file = p
		}
	}
	if file != "" {
		pubs, err := jsstore.ReadPublicKeys(file)
		if err != nil {
			return err
		}
		for _, p := range pubs {
			store.Keys().Pin(p)
		}
		return nil
	}
	ev, pub, err := store.RootKey(ctx)
	if err != nil {
		return err
	}
	if pub == nil {
		fmt.Fprintln(stderr, "note: the log has no key event and no --trusted-keys was given: no event will be trusted")
		return nil
	}
	store.Keys().Pin(pub)
	fmt.Fprintf(stderr, "note: trusting the root key %s that the log's first key event (at %d) introduces; pin it with --trusted-keys\n", jsstore.KeyID(pub), ev.Seq)
	return nil
}

// establishTrust makes serve's signing key one the log trusts. On a new log the data
// directory's key becomes the root: pinned in trusted.keys and introduced by the log's
// first key event. Later, the pinned keys are read back; a key that is neither pinned
// nor introduced by a trusted key is refused, with how to introduce it.
func establishTrust(ctx context.Context, store *jsstore.Store, dataDir, pinnedFile string, log *slog.Logger) error {
	signer := store.Signer()
	if pinnedFile == "" {
		pinnedFile = filepath.Join(dataDir, TrustedKeysFile)
	}
	rootEv, root, err := store.RootKey(ctx)
	if err != nil {
		return err
	}
	if !FileExists(pinnedFile) {
		if root != nil && jsstore.KeyID(root) != signer.KeyID() {
			return fmt.Errorf("this log's root key is %s (its key event is at %d), not this data directory's %s: copy %s from the first process's data directory here, or pass --trusted-keys",
				jsstore.KeyID(root), rootEv.Seq, signer.KeyID(), TrustedKeysFile)
		}
		if err := jsstore.WritePublicKeys(pinnedFile, signer); err != nil {
			return fmt.Errorf("trusted keys: %w", err)
		}
		log.Info("this data directory's signing key is the log's root", "key", signer.KeyID(), "pinned", pinnedFile)
	}
	pubs, err := jsstore.ReadPublicKeys(pinnedFile)
	if err != nil {
		return err
	}
	for _, p := range pubs {
		store.Keys().Pin(p)
	}
	if root == nil && store.Keys().Trusts(signer.PublicKey()) {
		// A new log: its first key event introduces the root, for readers who pin none.
		host, _ := os.Hostname()
		env, err := jsstore.Introduction(signer.PublicKey(), host+":"+dataDir, NewEventID(), time.Now())
		if err != nil {
			return err
		}
		if _, err := store.Append(ctx, jsstore.SignerAggregate, signer.KeyID(), 0, []domain.Envelope{env}); err != nil {
			return fmt.Errorf("introduce the root key: %w", err)
		}
	}
	if !store.Keys().Trusts(signer.PublicKey()) {
		return fmt.Errorf("this data directory's signing key %s (public key %s) is not trusted by the log: introduce it from a data directory whose key is (redlane audit introduce --data THAT_DIR --public-key %s), or pin it in %s",
			signer.KeyID(), signer.PublicKeyText(), signer.PublicKeyText(), pinnedFile)
	}
	return nil
}

func FileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// acceptLegacy lets the store obey the events of a log written before Ed25519 signing,
// signed with the shared audit key then in use, when that key is at hand (file, else
// REDLANE_AUDIT_KEY, else DATA/audit.key): only at positions before the log's first key
// event (adapters/jetstream/legacy.go).
func acceptLegacy(ctx context.Context, store *jsstore.Store, file, dataDir string, getenv func(string) string) error {
	var key []byte
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--legacy-key-file: %w", err)
		}
		key = []byte(strings.TrimSpace(string(b)))
	case strings.TrimSpace(getenv("REDLANE_AUDIT_KEY")) != "":
		key = []byte(strings.TrimSpace(getenv("REDLANE_AUDIT_KEY")))
	case dataDir != "" && FileExists(filepath.Join(dataDir, "audit.key")):
		b, err := os.ReadFile(filepath.Join(dataDir, "audit.key"))
		if err != nil {
			return fmt.Errorf("legacy audit key: %w", err)
		}
		key = []byte(strings.TrimSpace(string(b)))
	default:
		return nil
	}
	lk, err := jsstore.NewLegacyKey(key)
	if err != nil {
		return err
	}
	root, _, err := store.RootKey(ctx)
	if err != nil {
		return err
	}
	before := uint64(1<<63 - 1) // no key event yet: the whole log is from before
	if root != nil {
		before = root.Seq
	}
	store.Keys().AcceptLegacy(lk, before)
	return nil
}

// natsLog is the embedded server's log: its warnings and errors (a full disk, say) in
// Redlane's log, its notices only when Redlane logs at debug.
func natsLog(log *slog.Logger) *slog.Logger {
	return slog.New(minLevel{log.Handler(), slog.LevelWarn})
}

// minLevel passes on records at or above a level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}
func (h minLevel) WithGroup(n string) slog.Handler { return minLevel{h.Handler.WithGroup(n), h.min} }

// NATSAuthorization is the authorization block that gives a stock nats-server the users
// the embedded one has, for the data directory's nkeys (made on first use): the service
// with every right, the auditor and reporting users read-only, the secrets out of reach.
func NATSAuthorization(dataDir string) (string, error) {
	svc, readers, err := NATSUsers(dataDir)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("# Redlane's NATS users, for the data directory %s (redlane nats-auth)\n", dataDir) +
		natsserver.AuthorizationConfig([]string{svc}, readers, ReadScope()), nil
}
