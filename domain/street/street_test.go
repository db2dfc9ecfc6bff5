package street_test

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
	"github.com/redlane/redlane/domain/street"
)

var (
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	admin = domain.Actor{ID: "tok-admin", Role: domain.RoleAdmin}
)

var dongcheng = street.Registered{Name: "东城街道"}

// nonAdmins are every other role.
var nonAdmins = []domain.Role{domain.RoleSteward, domain.RoleMember, domain.RoleOperator, domain.RoleAuditor,
	domain.RoleResident, domain.RoleSystem, ""}

// given folds events into a street's state through JSON, as the runner does, and
// reports whether the street exists.
func given(tb testing.TB, events ...domain.Event) (street.State, bool) {
	tb.Helper()
	var s street.State
	for i, ev := range events {
		envs, err := domain.Seal(street.AggregateType, "dongcheng", uint64(i), []domain.Event{ev}, []string{fmt.Sprint("e", i)},
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
		decoded, err := street.Events.Decode(env)
		if err != nil {
			tb.Fatal(err)
		}
		s = street.Evolve(s, decoded, env)
	}
	return s, len(events) > 0
}

type streetCase struct {
	name    string
	given   []domain.Event
	cmd     street.Command
	by      domain.Actor
	want    []domain.Event
	refused *domain.Kind // when set, the command is refused with this kind
	fields  []string     // for invalid input, the fields at fault
	after   *street.State
}

func TestDecide(t *testing.T) {
	tests := []streetCase{
		{
			name: "admin registering a new street yields Registered", cmd: street.Register{Name: "东城街道"}, by: admin,
			want: []domain.Event{dongcheng}, after: &street.State{ID: "dongcheng", Name: "东城街道"},
		},
		{name: "a name with spaces around it yields Registered trimmed", cmd: street.Register{Name: " 东城街道\t"}, by: admin, want: []domain.Event{dongcheng}},
		{name: "a name of 50 characters yields Registered", cmd: street.Register{Name: strings.Repeat("街", 50)}, by: admin, want: []domain.Event{street.Registered{Name: strings.Repeat("街", 50)}}},
		{name: "registering a street twice is refused conflict", given: []domain.Event{dongcheng}, cmd: street.Register{Name: "东城街道"}, by: admin, refused: as(domain.KindConflict)},
		{name: "a missing name is invalid name", cmd: street.Register{}, by: admin, refused: as(domain.KindInvalid), fields: []string{"name"}},
		{name: "a blank name is invalid name", cmd: street.Register{Name: "  "}, by: admin, refused: as(domain.KindInvalid), fields: []string{"name"}},
		{name: "a name of 51 characters is invalid name", cmd: street.Register{Name: strings.Repeat("街", 51)}, by: admin, refused: as(domain.KindInvalid), fields: []string{"name"}},
		{name: "a name over two lines is invalid name", cmd: street.Register{Name: "东城\n街道"}, by: admin, refused: as(domain.KindInvalid), fields: []string{"name"}},
		{
			name: "rename yields Renamed", given: []domain.Event{dongcheng}, cmd: street.Rename{Name: " 东城新街道 "}, by: admin,
			want: []domain.Event{street.Renamed{Name: "东城新街道"}}, after: &street.State{ID: "dongcheng", Name: "东城新街道"},
		},
		{name: "rename to the same name yields nothing", given: []domain.Event{dongcheng}, cmd: street.Rename{Name: "东城街道 "}, by: admin},
		{
			name: "rename back after a rename yields Renamed", given: []domain.Event{dongcheng, street.Renamed{Name: "x"}}, cmd: street.Rename{Name: "东城街道"}, by: admin,
			want: []domain.Event{street.Renamed{Name: "东城街道"}}, after: &street.State{ID: "dongcheng", Name: "东城街道"},
		},
		{name: "rename of a missing street is refused not found", cmd: street.Rename{Name: "东城街道"}, by: admin, refused: as(domain.KindNotFound)},
		{name: "rename to a blank name is invalid name", given: []domain.Event{dongcheng}, cmd: street.Rename{Name: ""}, by: admin, refused: as(domain.KindInvalid), fields: []string{"name"}},
		{name: "nil command is refused internal", by: admin, refused: as(domain.KindInternal)},
	}
	for _, role := range nonAdmins {
		by := domain.Actor{ID: "tok-x", Role: role}
		tests = append(tests,
			streetCase{name: fmt.Sprintf("register by role %q is refused forbidden", role), cmd: street.Register{Name: "东城街道"}, by: by, refused: as(domain.KindForbidden)},
			streetCase{name: fmt.Sprintf("rename by role %q is refused forbidden", role), given: []domain.Event{dongcheng}, cmd: street.Rename{Name: "x"}, by: by, refused: as(domain.KindForbidden)},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, exists := given(t, tt.given...)
			got, err := street.Decide(s, tt.cmd, street.Env{Actor: tt.by, Exists: exists})
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
		{"Registered", dongcheng, `{"name":"东城街道"}`},
		{"Renamed", street.Renamed{Name: "东城新街道"}, `{"name":"东城新街道"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" keeps its wire form and decodes to itself", func(t *testing.T) {
			envs, err := domain.Seal(street.AggregateType, "s1", 0, []domain.Event{tt.event}, []string{"e1"}, domain.Meta{Actor: admin, Time: t0})
			if err != nil {
				t.Fatal(err)
			}
			if string(envs[0].Data) != tt.json {
				t.Errorf("data = %s, want %s", envs[0].Data, tt.json)
			}
			ev, err := street.Events.Decode(envs[0])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev, tt.event) {
				t.Errorf("decoded %#v, want %#v", ev, tt.event)
			}
		})
	}
}
