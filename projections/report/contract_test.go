package report_test

import (
	"testing"

	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/report"
	"github.com/redlane/redlane/projections/viewtest"
)

func TestTheViewContract(t *testing.T) {
	viewtest.Contract(t, func() projections.View { return report.New() })
}
