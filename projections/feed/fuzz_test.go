package feed_test

import (
	"testing"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/projections/viewtest"
)

// FuzzRestore: the feed view's Restore against arbitrary stored bytes (viewtest.FuzzRestore).
func FuzzRestore(f *testing.F) {
	viewtest.FuzzRestore(f, func() projections.View { return feed.New() }, func() []domain.Recorded { h := newHistory(f); lifeStory(h); return h.recs }())
}
