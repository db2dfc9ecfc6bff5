package record_test

import (
	"testing"

	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/record"
	"github.com/redlane/redlane/projections/viewtest"
)

// FuzzRestore: the record view's Restore against arbitrary stored bytes (viewtest.FuzzRestore).
func FuzzRestore(f *testing.F) {
	viewtest.FuzzRestore(f, func() projections.View { return record.New() }, synth(f, 3, 6, 24))
}
