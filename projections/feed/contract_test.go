package feed_test

import (
	"testing"

	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/projections/viewtest"
)

func TestTheViewContract(t *testing.T) {
	viewtest.Contract(t, func() projections.View { return feed.New() })
}
