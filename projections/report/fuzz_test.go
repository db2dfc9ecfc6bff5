package report_test

import (
	"testing"

	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/report"
	"github.com/redlane/redlane/projections/viewtest"
)

// FuzzRestore: the report view's Restore against arbitrary stored bytes (viewtest.FuzzRestore).
func FuzzRestore(f *testing.F) {
	viewtest.FuzzRestore(f, func() projections.View { return report.New() }, scenario(f))
}
