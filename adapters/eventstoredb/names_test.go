package eventstoredb

import (
	"testing"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
)

// The adapter names the jetstream adapter's headers and metadata itself (adapters do not
// import each other); the names must stay the same.
func TestNamesAreTheJetStreamAdapters(t *testing.T) {
	for ours, theirs := range map[string]string{
		headerSignature: jsstore.HeaderSignature,
		headerKey:       jsstore.HeaderKey,
		headerProof:     jsstore.HeaderProof,
		metaPeriodPrev:  jsstore.MetaPeriodPrev,
	} {
		if ours != theirs {
			t.Errorf("%q here, %q in the jetstream adapter", ours, theirs)
		}
	}
}
