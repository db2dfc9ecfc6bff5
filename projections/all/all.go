// Package all lists every view Redlane keeps, in one place: serve runs them, rebuild and
// verify take their names from here, tests fold them.
package all

import (
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/projections/record"
	"github.com/redlane/redlane/projections/report"
)

// Views returns a maker of each view Redlane keeps.
func Views() []func() projections.View {
	return []func() projections.View{
		func() projections.View { return backlog.New() },
		func() projections.View { return record.New() },
		func() projections.View { return feed.New() },
		func() projections.View { return report.New() },
	}
}
