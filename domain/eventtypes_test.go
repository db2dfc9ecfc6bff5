package domain_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/category"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/street"
)

var wireName = regexp.MustCompile(`^redlane\.[a-z]+\.[a-z_]+\.v[0-9]+$`)

// TestEventTypeNames checks every registered event type against the wire-name pattern,
// and that its middle names the aggregate it belongs to.
func TestEventTypeNames(t *testing.T) {
	tests := []struct {
		aggregate string
		registry  *domain.Registry
		want      []string
	}{
		{order.AggregateType, order.Events, []string{
			order.TypeSubmitted, order.TypeDispatched, order.TypeReassigned, order.TypeClaimed, order.TypeAccepted,
			order.TypeDeclined, order.TypeCompleted, order.TypeRated, order.TypeCancelled, order.TypeEscalated,
			order.TypeReopened, order.TypeNoted, order.TypeOverdue, order.TypeReturned,
		}},
		{lane.AggregateType, lane.Events, []string{lane.TypeRegistered, lane.TypeUpdated}},
		{member.AggregateType, member.Events, []string{member.TypeRegistered, member.TypeUpdated, member.TypeRetired}},
		{access.AggregateType, access.Events, []string{access.TypeIssued, access.TypeRevoked}},
		{category.AggregateType, category.Events, []string{category.TypeDefined}},
		{street.AggregateType, street.Events, []string{street.TypeRegistered, street.TypeRenamed}},
		{community.AggregateType, community.Events, []string{community.TypeRegistered, community.TypeRenamed}},
	}
	for _, tt := range tests {
		t.Run(tt.aggregate+" registers exactly its well-named types", func(t *testing.T) {
			got := tt.registry.Types()
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("registered %v, want %v", got, want)
			}
			for _, name := range got {
				if !wireName.MatchString(name) {
					t.Errorf("event type %q does not match %s", name, wireName)
				}
				if middle := strings.Split(name, ".")[1]; middle != tt.aggregate {
					t.Errorf("event type %q is not named for aggregate %q", name, tt.aggregate)
				}
			}
		})
	}
}
