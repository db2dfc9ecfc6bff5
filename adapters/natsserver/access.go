package natsserver

// Who may do what on Redlane's NATS: the service, which writes, and readers (auditors,
// reporting jobs), which only read.
//
// The service has every right. A reader may ask JetStream for stream and consumer
// information, read messages (direct gets, ordered consumers it makes itself) from the
// event stream, the seal stream, the feed and the views' buckets, and subscribe to
// Redlane's subjects and its own inboxes. It may not publish on any Redlane subject, put
// into or delete from any bucket, delete, purge or edit any stream, touch the service's
// durable consumers, or read the buckets that hold secrets. Durable consumers of their
// own they may not make either: what a reader makes is ephemeral. Redlane's own processes take
// their replies on ServiceInboxPrefix, which readers cannot subscribe to, so replies to
// the service (a secret it read, say) never reach a reader.

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// ServiceInboxPrefix is the inbox prefix of Redlane's own connections.
const ServiceInboxPrefix = "_REDLANE_INBOX"

// ReadScope says which streams, buckets and consumers a reader is kept away from.
type ReadScope struct {
	// SecretBuckets are the KV buckets readers may not read at all.
	SecretBuckets []string
	// Durables are the service's durable consumers, "STREAM/NAME": readers may not
	// create, change, pull from or delete them.
	Durables []string
}

// ReaderPermissions returns the rights of a read-only user.
func ReaderPermissions(scope ReadScope) *server.Permissions {
	pubAllow := []string{
		"$JS.API.INFO",
		"$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST",
		"$JS.API.STREAM.INFO.*",
		"$JS.API.STREAM.MSG.GET.*",
		"$JS.API.DIRECT.GET.*", "$JS.API.DIRECT.GET.*.>",
		"$JS.API.CONSUMER.CREATE.*", "$JS.API.CONSUMER.CREATE.*.>",
		"$JS.API.CONSUMER.INFO.*.*", "$JS.API.CONSUMER.NAMES.*", "$JS.API.CONSUMER.LIST.*",
		"$JS.API.CONSUMER.MSG.NEXT.*.*",
		"$JS.API.CONSUMER.DELETE.*.*", // their own ordered consumers; never the service's (below)
		"$JS.FC.>",
	}
	pubDeny := []string{"$JS.API.CONSUMER.DURABLE.CREATE.>"}
	var subDeny []string
	for _, b := range scope.SecretBuckets {
		st := "KV_" + b
		pubDeny = append(pubDeny,
			"$JS.API.STREAM.INFO."+st, "$JS.API.STREAM.MSG.GET."+st,
			"$JS.API.DIRECT.GET."+st, "$JS.API.DIRECT.GET."+st+".>",
			"$JS.API.CONSUMER.CREATE."+st, "$JS.API.CONSUMER.CREATE."+st+".>",
			"$JS.API.CONSUMER.INFO."+st+".*", "$JS.API.CONSUMER.MSG.NEXT."+st+".*", "$JS.API.CONSUMER.DELETE."+st+".*",
		)
		subDeny = append(subDeny, "$KV."+b+".>")
	}
	for _, d := range scope.Durables {
		stream, name, _ := strings.Cut(d, "/")
		pubDeny = append(pubDeny,
			"$JS.API.CONSUMER.CREATE."+stream+"."+name, "$JS.API.CONSUMER.CREATE."+stream+"."+name+".>",
			"$JS.API.CONSUMER.MSG.NEXT."+stream+"."+name, "$JS.API.CONSUMER.DELETE."+stream+"."+name,
		)
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pubAllow, Deny: pubDeny},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>", "redlane.>"}, Deny: subDeny},
	}
}

// AuthorizationConfig renders the same split as a stock nats-server's configuration: a
// READER variable holding ReaderPermissions, and an authorization block with the
// service's nkeys, unrestricted, and each reader's with $READER. Operators of a NATS
// system of their own paste it into its configuration.
func AuthorizationConfig(service []string, readers []string, scope ReadScope) string {
	p := ReaderPermissions(scope)
	var b strings.Builder
	list := func(indent, name string, xs []string) {
		fmt.Fprintf(&b, "%s%s: [\n", indent, name)
		for _, x := range xs {
			fmt.Fprintf(&b, "%s  %q\n", indent, x)
		}
		fmt.Fprintf(&b, "%s]\n", indent)
	}
	b.WriteString("# What a reader (auditor, reporting job) may do: read the log, the seals, the feed\n")
	b.WriteString("# and the views; publish nothing of Redlane's; never read the secrets.\n")
	b.WriteString("READER = {\n  publish: {\n")
	list("    ", "allow", p.Publish.Allow)
	list("    ", "deny", p.Publish.Deny)
	b.WriteString("  }\n  subscribe: {\n")
	list("    ", "allow", p.Subscribe.Allow)
	list("    ", "deny", p.Subscribe.Deny)
	b.WriteString("  }\n}\n")
	b.WriteString("authorization {\n  users = [\n")
	for _, k := range service {
		fmt.Fprintf(&b, "    { nkey: %s }  # Redlane's own processes: every right\n", k)
	}
	for _, k := range readers {
		fmt.Fprintf(&b, "    { nkey: %s, permissions: $READER }\n", k)
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}

// EnsureUserSeed returns the public key of the nkey user whose seed is in path, writing
// a fresh seed there (mode 0600) when there is none.
func EnsureUserSeed(path string) (string, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			return "", err
		}
		seed, err := kp.Seed()
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(path, append(seed, '\n'), 0o600); err != nil {
			return "", fmt.Errorf("nkey seed: %w", err)
		}
	} else if err != nil {
		return "", fmt.Errorf("nkey seed: %w", err)
	}
	return PublicKeyFromSeedFile(path)
}

// readerUsers makes the server's users for reader keys.
func readerUsers(keys []string, scope ReadScope) []*server.NkeyUser {
	perms := ReaderPermissions(scope)
	var out []*server.NkeyUser
	for _, k := range slices.Compact(slices.Sorted(slices.Values(keys))) {
		out = append(out, &server.NkeyUser{Nkey: k, Permissions: perms})
	}
	return out
}
