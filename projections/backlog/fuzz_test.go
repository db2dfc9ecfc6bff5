package backlog_test

import (
	"testing"

	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/projections/viewtest"
)

// FuzzRestore: the backlog view's Restore against arbitrary stored bytes (viewtest.FuzzRestore).
func FuzzRestore(f *testing.F) {
	viewtest.FuzzRestore(f, func() projections.View { return backlog.New() }, synth(f, 3, 6, 24))
}
