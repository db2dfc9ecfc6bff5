package lane_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
)

var (
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	admin = domain.Actor{ID: "tok-admin", Role: domain.RoleAdmin}
)

var rouqiao = lane.Registered{Name: "柔桥后巷", Community: "tayuan", Street: "dongcheng", Station: "柔桥后巷驿站"}

// withPoint is rouqiao with a point (a fresh one each time, so no test shares it).
func withPoint(lat, long float64) lane.Registered {
	r := rouqiao
	r.Point = &lane.Point{Lat: lat, Long: long}
	return r
}

// nonAdmins are every other role, each holding the lane as a steward would.
var nonAdmins = []domain.Role{domain.RoleSteward, domain.RoleMember, domain.RoleOperator, domain.RoleAuditor,
	domain.RoleResident, domain.RoleSystem, ""}

// given folds events into a lane's state through JSON, as the runner does, and reports
// whether the lane exists.
func given(tb testing.TB, events ...domain.Event) (lane.State, bool) {
	tb.Helper()
	var s lane.State
	for i, ev := range events {
		envs, err := domain.Seal(lane.AggregateType, "rouqiao", uint64(i), []domain.Event{ev}, []string{fmt.Sprint("e", i)},
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
		decoded, err := lane.Events.Decode(env)
		if err != nil {
			tb.Fatal(err)
		}
		s = lane.Evolve(s, decoded, env)
	}
	return s, len(events) > 0
}

// outcome is the events a command yields, or the kind it is refused with (and for invalid
// input, the fields at fault, in order).
type outcome struct {
	refused bool
	kind    domain.Kind
	fields  []string
	events  []domain.Event
}

func yields(evs ...domain.Event) outcome { return outcome{events: evs} }
func refused(k domain.Kind) outcome      { return outcome{refused: true, kind: k} }
func invalid(fields ...string) outcome {
	return outcome{refused: true, kind: domain.KindInvalid, fields: fields}
}

func checkOutcome(tb testing.TB, got []domain.Event, err error, want outcome) {
	tb.Helper()
	if want.refused {
		if err == nil {
			tb.Fatalf("decided %#v, want it refused %v", got, want.kind)
		}
		if len(got) != 0 {
			tb.Errorf("a refused command yielded %#v", got)
		}
		if k := domain.KindOf(err); k != want.kind {
			tb.Fatalf("refused as %v (%v), want %v", k, err, want.kind)
		}
		var de *domain.Error
		if !errors.As(err, &de) {
			tb.Fatalf("error %v is not a *domain.Error", err)
		}
		var fields []string
		for _, f := range de.Fields {
			fields = append(fields, f.Field)
		}
		if !slices.Equal(fields, want.fields) {
			tb.Errorf("fields at fault = %v, want %v", fields, want.fields)
		}
		return
	}
	if err != nil {
		tb.Fatalf("refused as %v: %v", domain.KindOf(err), err)
	}
	if len(got) != len(want.events) || (len(got) > 0 && !reflect.DeepEqual(got, want.events)) {
		tb.Fatalf("decided %#v, want %#v", got, want.events)
	}
}

type laneCase struct {
	name  string
	given []domain.Event
	cmd   lane.Command
	by    domain.Actor
	in    string // the street of the named community, when it is registered
	want  outcome
	after *lane.State // the state the yielded events make, when checked
}

func TestDecide(t *testing.T) {
	tests := []laneCase{
		{
			name: "admin registering a new lane yields Registered", cmd: lane.Register(rouqiao), by: admin,
			want:  yields(rouqiao),
			after: &lane.State{ID: "rouqiao", Name: "柔桥后巷", Community: "tayuan", Street: "dongcheng", Station: "柔桥后巷驿站"},
		},
		{
			name: "names with spaces around them yield Registered trimmed",
			cmd:  lane.Register{Name: "  孔园 ", Community: "yingchun", Street: "xicheng", Station: " 孔园驿站\n"}, by: admin,
			want: yields(lane.Registered{Name: "孔园", Community: "yingchun", Street: "xicheng", Station: "孔园驿站"}),
		},
		{
			name: "lane without a station yields Registered", cmd: lane.Register{Name: "五洞桥", Community: "c1", Street: "s1"}, by: admin,
			want: yields(lane.Registered{Name: "五洞桥", Community: "c1", Street: "s1"}),
		},
		{name: "registering a lane twice is refused conflict", given: []domain.Event{rouqiao}, cmd: lane.Register(rouqiao), by: admin, want: refused(domain.KindConflict)},
		{name: "registering a lane twice with other names is refused conflict", given: []domain.Event{rouqiao}, cmd: lane.Register{Name: "x", Community: "c", Street: "s"}, by: admin, want: refused(domain.KindConflict)},
		{name: "missing name is invalid name", cmd: lane.Register{Community: "c1", Street: "s1"}, by: admin, want: invalid("name")},
		{name: "blank name is invalid name", cmd: lane.Register{Name: " \t", Community: "c1", Street: "s1"}, by: admin, want: invalid("name")},
		{name: "community that is no id is invalid community", cmd: lane.Register{Name: "x", Community: "塔苑社区", Street: "s1"}, by: admin, want: invalid("community")},
		{name: "missing street is invalid street", cmd: lane.Register{Name: "x", Community: "c1"}, by: admin, want: invalid("street")},
		{name: "street with a dot is invalid street", cmd: lane.Register{Name: "x", Community: "c1", Street: "s.1"}, by: admin, want: invalid("street")},
		{name: "empty register is invalid name community and street", cmd: lane.Register{}, by: admin, want: invalid("name", "community", "street")},
		{
			name: "update of a name yields Updated", given: []domain.Event{rouqiao},
			cmd: lane.Update{Name: "柔桥后巷（新）", Community: "tayuan", Street: "dongcheng", Station: "柔桥后巷驿站"}, by: admin,
			want:  yields(lane.Updated{Name: "柔桥后巷（新）", Community: "tayuan", Street: "dongcheng", Station: "柔桥后巷驿站"}),
			after: &lane.State{ID: "rouqiao", Name: "柔桥后巷（新）", Community: "tayuan", Street: "dongcheng", Station: "柔桥后巷驿站"},
		},
		{
			name: "update moving the lane to another community yields Updated", given: []domain.Event{rouqiao},
			cmd: lane.Update{Name: "柔桥后巷", Community: "yingchun", Street: "dongcheng"}, by: admin,
			want:  yields(lane.Updated{Name: "柔桥后巷", Community: "yingchun", Street: "dongcheng"}),
			after: &lane.State{ID: "rouqiao", Name: "柔桥后巷", Community: "yingchun", Street: "dongcheng"},
		},
		{name: "update changing nothing yields nothing", given: []domain.Event{rouqiao}, cmd: lane.Update(rouqiao), by: admin, want: yields()},
		{
			name: "update changing only spaces yields nothing", given: []domain.Event{rouqiao},
			cmd: lane.Update{Name: " 柔桥后巷 ", Community: "tayuan", Street: "dongcheng", Station: "柔桥后巷驿站 "}, by: admin, want: yields(),
		},
		{
			name:  "update back to the registered names after a change yields Updated",
			given: []domain.Event{rouqiao, lane.Updated{Name: "x", Community: "tayuan", Street: "dongcheng"}},
			cmd:   lane.Update(rouqiao), by: admin, want: yields(lane.Updated(rouqiao)),
			after: &lane.State{ID: "rouqiao", Name: "柔桥后巷", Community: "tayuan", Street: "dongcheng", Station: "柔桥后巷驿站"},
		},
		{name: "update of a missing lane is refused not found", cmd: lane.Update(rouqiao), by: admin, want: refused(domain.KindNotFound)},
		{name: "update with no name is invalid name", given: []domain.Event{rouqiao}, cmd: lane.Update{Community: "tayuan", Street: "dongcheng"}, by: admin, want: invalid("name")},
		{
			name: "a lane with its address and point yields Registered with them", by: admin,
			cmd:  lane.Register{Name: "孔园", Community: "c1", Street: "s1", Address: " 东城街道孔园5号 ", Point: &lane.Point{Lat: 28.65, Long: 121.42}},
			want: yields(lane.Registered{Name: "孔园", Community: "c1", Street: "s1", Address: "东城街道孔园5号", Point: &lane.Point{Lat: 28.65, Long: 121.42}}),
		},
		{name: "a latitude past the pole is invalid point.lat", cmd: lane.Register{Name: "x", Community: "c1", Street: "s1", Point: &lane.Point{Lat: 90.5}}, by: admin, want: invalid("point.lat")},
		{name: "a longitude past the date line is invalid point.long", cmd: lane.Register{Name: "x", Community: "c1", Street: "s1", Point: &lane.Point{Long: -181}}, by: admin, want: invalid("point.long")},
		{name: "NaN is invalid point.lat and point.long", cmd: lane.Register{Name: "x", Community: "c1", Street: "s1", Point: &lane.Point{Lat: math.NaN(), Long: math.NaN()}}, by: admin, want: invalid("point.lat", "point.long")},
		{name: "an address over two lines is invalid address", cmd: lane.Register{Name: "x", Community: "c1", Street: "s1", Address: "一\n二"}, by: admin, want: invalid("address")},
		{name: "an address of 201 characters is invalid address", cmd: lane.Register{Name: "x", Community: "c1", Street: "s1", Address: strings.Repeat("号", 201)}, by: admin, want: invalid("address")},
		{
			name: "update giving the same point again yields nothing", by: admin,
			given: []domain.Event{withPoint(28.65, 121.42)}, cmd: lane.Update(withPoint(28.65, 121.42)), want: yields(),
		},
		{
			name: "update moving the point yields Updated", by: admin,
			given: []domain.Event{withPoint(28.65, 121.42)}, cmd: lane.Update(withPoint(28.66, 121.42)), want: yields(lane.Updated(withPoint(28.66, 121.42))),
		},
		{
			name: "update dropping the point yields Updated", by: admin,
			given: []domain.Event{withPoint(28.65, 121.42)}, cmd: lane.Update(rouqiao), want: yields(lane.Updated(rouqiao)),
		},
		{name: "nil command is refused internal", cmd: nil, by: admin, want: refused(domain.KindInternal)},
		{name: "register in a registered community of the same street yields Registered", cmd: lane.Register(rouqiao), by: admin, in: "dongcheng", want: yields(rouqiao)},
		{name: "register in a registered community of another street is invalid street", cmd: lane.Register(rouqiao), by: admin, in: "xicheng", want: invalid("street")},
		{name: "register with a bad street in a registered community is invalid street once", cmd: lane.Register{Name: "x", Community: "tayuan", Street: "s.1"}, by: admin, in: "dongcheng", want: invalid("street")},
		{
			name: "update into a registered community of another street is invalid street", given: []domain.Event{rouqiao}, by: admin, in: "xicheng",
			cmd: lane.Update{Name: "柔桥后巷", Community: "yingchun", Street: "dongcheng"}, want: invalid("street"),
		},
		{
			name: "update into a registered community with its street yields Updated", given: []domain.Event{rouqiao}, by: admin, in: "xicheng",
			cmd: lane.Update{Name: "柔桥后巷", Community: "yingchun", Street: "xicheng"}, want: yields(lane.Updated{Name: "柔桥后巷", Community: "yingchun", Street: "xicheng"}),
		},
	}
	for _, role := range nonAdmins {
		by := domain.Actor{ID: "tok-x", Role: role, Lanes: []string{"rouqiao"}}
		tests = append(tests,
			laneCase{name: fmt.Sprintf("register by role %q is refused forbidden", role), cmd: lane.Register(rouqiao), by: by, want: refused(domain.KindForbidden)},
			laneCase{name: fmt.Sprintf("update by role %q is refused forbidden", role), given: []domain.Event{rouqiao},
				cmd: lane.Update{Name: "x", Community: "c", Street: "s"}, by: by, want: refused(domain.KindForbidden)},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, exists := given(t, tt.given...)
			got, err := lane.Decide(s, tt.cmd, lane.Env{Actor: tt.by, Exists: exists, CommunityStreet: tt.in})
			checkOutcome(t, got, err, tt.want)
			if tt.after != nil {
				after, _ := given(t, append(slices.Clone(tt.given), got...)...)
				if after != *tt.after {
					t.Errorf("state after = %+v, want %+v", after, *tt.after)
				}
			}
		})
	}
}

func TestEventsRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		event domain.Event
		json  string
	}{
		{"Registered", rouqiao, `{"name":"柔桥后巷","community":"tayuan","street":"dongcheng","station":"柔桥后巷驿站"}`},
		{"Registered without a station", lane.Registered{Name: "n", Community: "c", Street: "s"}, `{"name":"n","community":"c","street":"s"}`},
		{"Updated", lane.Updated(rouqiao), `{"name":"柔桥后巷","community":"tayuan","street":"dongcheng","station":"柔桥后巷驿站"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" keeps its wire form and decodes to itself", func(t *testing.T) {
			envs, err := domain.Seal(lane.AggregateType, "l1", 0, []domain.Event{tt.event}, []string{"e1"}, domain.Meta{Actor: admin, Time: t0})
			if err != nil {
				t.Fatal(err)
			}
			if string(envs[0].Data) != tt.json {
				t.Errorf("data = %s, want %s", envs[0].Data, tt.json)
			}
			ev, err := lane.Events.Decode(envs[0])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev, tt.event) {
				t.Errorf("decoded %#v, want %#v", ev, tt.event)
			}
		})
	}
}
