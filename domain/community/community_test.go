package community_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/community"
)

var (
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	admin = domain.Actor{ID: "tok-admin", Role: domain.RoleAdmin}
)

var taoyuan = community.Registered{Name: "塔苑社区", Street: "dongcheng"}

// nonAdmins are every other role.
var nonAdmins = []domain.Role{domain.RoleSteward, domain.RoleMember, domain.RoleOperator, domain.RoleAuditor,
	domain.RoleResident, domain.RoleSystem, ""}

// given folds events into a community's state through JSON, as the runner does, and
// reports whether the community exists.
func given(tb testing.TB, events ...domain.Event) (community.State, bool) {
	tb.Helper()
	var s community.State
	for i, ev := range events {
		envs, err := domain.Seal(community.AggregateType, "taoyuan", uint64(i), []domain.Event{ev}, []string{fmt.Sprint("e", i)},
			domain.Meta{Actor: admin, Time: t0.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			tb.Fatal(err)
		}
		b, err := json.Marshal(envs[0])
		if err != nil {
			tb.Fatal(err)
		}
		env, err := domain.DecodeEnvelope(b)
		if err != nil {
			tb.Fatal(err)
		}
		decoded, err := community.Events.Decode(env)
		if err != nil {
			tb.Fatal(err)
		}
		s = community.Evolve(s, decoded, env)
	}
	return s, len(events) > 0
}

type communityCase struct {
	name     string
	given    []domain.Event
	cmd      community.Command
	by       domain.Actor
	noStreet bool // the street named is not registered
	want     []domain.Event
	refused  *domain.Kind // when set, the command is refused with this kind
	fields   []string     // for invalid input, the fields at fault
	after    *community.State
}

func TestDecide(t *testing.T) {
	tests := []communityCase{
		{
			name: "admin registering a new community in a registered street yields Registered", cmd: community.Register{Name: "塔苑社区", Street: "dongcheng"}, by: admin,
			want: []domain.Event{taoyuan}, after: &community.State{ID: "taoyuan", Name: "塔苑社区", Street: "dongcheng"},
		},
		{name: "a name with spaces around it yields Registered trimmed", cmd: community.Register{Name: "\t塔苑社区 ", Street: "dongcheng"}, by: admin, want: []domain.Event{taoyuan}},
		{name: "a name of 50 characters yields Registered", cmd: community.Register{Name: strings.Repeat("社", 50), Street: "s1"}, by: admin, want: []domain.Event{community.Registered{Name: strings.Repeat("社", 50), Street: "s1"}}},
		{name: "registering a community twice is refused conflict", given: []domain.Event{taoyuan}, cmd: community.Register{Name: "塔苑社区", Street: "dongcheng"}, by: admin, refused: as(domain.KindConflict)},
		{name: "a street that is not registered is invalid street", cmd: community.Register{Name: "塔苑社区", Street: "nowhere"}, by: admin, noStreet: true, refused: as(domain.KindInvalid), fields: []string{"street"}},
		{name: "a street that is no id is invalid street", cmd: community.Register{Name: "塔苑社区", Street: "东城街道"}, by: admin, refused: as(domain.KindInvalid), fields: []string{"street"}},
		{name: "a missing name and street are invalid name and street", cmd: community.Register{}, by: admin, noStreet: true, refused: as(domain.KindInvalid), fields: []string{"name", "street"}},
		{name: "a blank name is invalid name", cmd: community.Register{Name: " ", Street: "dongcheng"}, by: admin, refused: as(domain.KindInvalid), fields: []string{"name"}},
		{name: "a name of 51 characters is invalid name", cmd: community.Register{Name: strings.Repeat("社", 51), Street: "dongcheng"}, by: admin, refused: as(domain.KindInvalid), fields: []string{"name"}},
		{name: "a name with a direction override is invalid name", cmd: community.Register{Name: "塔苑\u202e社区", Street: "dongcheng"}, by: admin, refused: as(domain.KindInvalid), fields: []string{"name"}},
		{
			name: "rename yields Renamed and keeps the street", given: []domain.Event{taoyuan}, cmd: community.Rename{Name: "塔苑新社区"}, by: admin,
			want: []domain.Event{community.Renamed{Name: "塔苑新社区"}}, after: &community.State{ID: "taoyuan", Name: "塔苑新社区", Street: "dongcheng"},
		},
		{name: "rename to the same name yields nothing", given: []domain.Event{taoyuan}, cmd: community.Rename{Name: " 塔苑社区"}, by: admin},
		{name: "rename of a missing community is refused not found", cmd: community.Rename{Name: "塔苑社区"}, by: admin, refused: as(domain.KindNotFound)},
		{name: "rename to a blank name is invalid name", given: []domain.Event{taoyuan}, cmd: community.Rename{}, by: admin, refused: as(domain.KindInvalid), fields: []string{"name"}},
		{name: "nil command is refused internal", by: admin, refused: as(domain.KindInternal)},
	}
	for _, role := range nonAdmins {
		by := domain.Actor{ID: "tok-x", Role: role}
		tests = append(tests,
			communityCase{name: fmt.Sprintf("register by role %q is refused forbidden", role), cmd: community.Register{Name: "塔苑社区", Street: "dongcheng"}, by: by, refused: as(domain.KindForbidden)},
			communityCase{name: fmt.Sprintf("rename by role %q is refused forbidden", role), given: []domain.Event{taoyuan}, cmd: community.Rename{Name: "x"}, by: by, refused: as(domain.KindForbidden)},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, exists := given(t, tt.given...)
			got, err := community.Decide(s, tt.cmd, community.Env{Actor: tt.by, Exists: exists, StreetExists: !tt.noStreet})
			if tt.refused != nil {
				checkRefused(t, got, err, *tt.refused, tt.fields)
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
				t.Fatalf("decided %#v, want %#v", got, tt.want)
			}
			if tt.after != nil {
				if after, _ := given(t, append(slices.Clone(tt.given), got...)...); after != *tt.after {
					t.Errorf("state after = %+v, want %+v", after, *tt.after)
				}
			}
		})
	}
}

// as is the kind k, to be refused with.
func as(k domain.Kind) *domain.Kind { return &k }

func checkRefused(tb testing.TB, got []domain.Event, err error, kind domain.Kind, fields []string) {
	tb.Helper()
	if err == nil || len(got) != 0 {
		tb.Fatalf("decided %#v, %v; want it refused %v", got, err, kind)
	}
	if k := domain.KindOf(err); k != kind {
		tb.Fatalf("refused as %v (%v), want %v", k, err, kind)
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		tb.Fatalf("error %v is not a *domain.Error", err)
	}
	var at []string
	for _, f := range de.Fields {
		at = append(at, f.Field)
	}
	if !slices.Equal(at, fields) {
		tb.Errorf("fields at fault = %v, want %v", at, fields)
	}
}

func TestEventsRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		event domain.Event
		json  string
	}{
		{"Registered", taoyuan, `{"name":"塔苑社区","street":"dongcheng"}`},
		{"Renamed", community.Renamed{Name: "塔苑新社区"}, `{"name":"塔苑新社区"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" keeps its wire form and decodes to itself", func(t *testing.T) {
			envs, err := domain.Seal(community.AggregateType, "c1", 0, []domain.Event{tt.event}, []string{"e1"}, domain.Meta{Actor: admin, Time: t0})
			if err != nil {
				t.Fatal(err)
			}
			if string(envs[0].Data) != tt.json {
				t.Errorf("data = %s, want %s", envs[0].Data, tt.json)
			}
			ev, err := community.Events.Decode(envs[0])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev, tt.event) {
				t.Errorf("decoded %#v, want %#v", ev, tt.event)
			}
		})
	}
}
