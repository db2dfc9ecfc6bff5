package category_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/category"
	"github.com/redlane/redlane/domain/order"
)

var (
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	admin = domain.Actor{ID: "tok-admin", Role: domain.RoleAdmin}
)

// heating is a category the default catalogue does not have.
var heating = category.Defined{
	Name: "供暖报修", Skills: []string{"repair"},
	Normal:    category.Deadlines{AcceptMinutes: 120, CompleteMinutes: 1440},
	Questions: []order.Question{{Code: "rooms", Description: "几个房间不热？", Datatype: order.DatatypeNumber, Required: true}},
}

// given folds events into a category's state through JSON, as the runner does.
func given(tb testing.TB, code string, events ...domain.Event) category.State {
	tb.Helper()
	var s category.State
	for i, ev := range events {
		envs, err := domain.Seal(category.AggregateType, code, uint64(i), []domain.Event{ev}, []string{"e"},
			domain.Meta{Actor: admin, Time: t0})
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
		decoded, err := category.Events.Decode(env)
		if err != nil {
			tb.Fatal(err)
		}
		s = category.Evolve(s, decoded, env)
	}
	return s
}

func with(d category.Defined, change func(*category.Defined)) category.Defined {
	d.Skills = slices.Clone(d.Skills)
	d.Questions = slices.Clone(d.Questions)
	change(&d)
	return d
}

func TestDecideDefine(t *testing.T) {
	tests := []struct {
		name   string
		code   string
		given  []domain.Event
		cmd    category.Define
		by     domain.Actor
		want   []domain.Event // nil and no faults: nothing
		kind   domain.Kind    // of a refusal
		faults []string
	}{
		{name: "an admin adds a category", code: "heating", cmd: category.Define(heating), by: admin, want: []domain.Event{heating}},
		{name: "an admin changes a default category's questions", code: "repair",
			cmd: category.Define{Name: "日常维修", Questions: heating.Questions}, by: admin,
			want: []domain.Event{category.Defined{Name: "日常维修", Questions: heating.Questions}}},
		{name: "a change to a defined category yields the whole of it", code: "heating", given: []domain.Event{heating},
			cmd: category.Define(with(heating, func(d *category.Defined) { d.Name = "供暖" })), by: admin,
			want: []domain.Event{with(heating, func(d *category.Defined) { d.Name = "供暖" })}},
		{name: "defining what it is yields nothing", code: "heating", given: []domain.Event{heating},
			cmd: category.Define(with(heating, func(d *category.Defined) { d.Name = " 供暖报修 " })), by: admin},
		{name: "skills are trimmed and kept once", code: "heating",
			cmd: category.Define(with(heating, func(d *category.Defined) { d.Skills = []string{"repair", " repair"} })), by: admin,
			want: []domain.Event{heating}},

		{name: "a steward is refused", code: "heating", cmd: category.Define(heating), kind: domain.KindForbidden,
			by: domain.Actor{ID: "s", Role: domain.RoleSteward}},
		{name: "a bad code is refused", code: "供暖", cmd: category.Define(heating), by: admin, kind: domain.KindInvalid, faults: []string{"code"}},
		{name: "no name is refused", code: "heating", cmd: category.Define(with(heating, func(d *category.Defined) { d.Name = " " })),
			by: admin, kind: domain.KindInvalid, faults: []string{"name"}},
		{name: "another category's name is refused", code: "heating", cmd: category.Define(with(heating, func(d *category.Defined) { d.Name = "日常维修" })),
			by: admin, kind: domain.KindInvalid, faults: []string{"name"}},
		{name: "a code that is another category's name is refused", code: "便民咨询", cmd: category.Define(heating),
			by: admin, kind: domain.KindInvalid, faults: []string{"code", "code"}},
		{name: "a bad skill is refused", code: "heating", cmd: category.Define(with(heating, func(d *category.Defined) { d.Skills = []string{"维修"} })),
			by: admin, kind: domain.KindInvalid, faults: []string{"skills[0]"}},
		{name: "completing sooner than accepting is refused", code: "heating",
			cmd: category.Define(with(heating, func(d *category.Defined) { d.Urgent = category.Deadlines{AcceptMinutes: 60, CompleteMinutes: 30} })),
			by:  admin, kind: domain.KindInvalid, faults: []string{"urgent.complete_minutes"}},
		{name: "one deadline without the other is refused", code: "heating",
			cmd: category.Define(with(heating, func(d *category.Defined) { d.Normal = category.Deadlines{AcceptMinutes: 60} })),
			by:  admin, kind: domain.KindInvalid, faults: []string{"normal", "normal.complete_minutes"}},
		{name: "a negative deadline is refused", code: "heating",
			cmd: category.Define(with(heating, func(d *category.Defined) { d.Normal = category.Deadlines{AcceptMinutes: -1, CompleteMinutes: 10} })),
			by:  admin, kind: domain.KindInvalid, faults: []string{"normal.accept_minutes"}},
		{name: "a bad question is refused", code: "heating",
			cmd: category.Define(with(heating, func(d *category.Defined) { d.Questions[0].Datatype = "yesno" })),
			by:  admin, kind: domain.KindInvalid, faults: []string{"questions[0].datatype"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := given(t, tt.code, tt.given...)
			got, err := category.Decide(s, tt.cmd, category.Env{Actor: tt.by, Code: tt.code, Catalog: order.DefaultCatalog()})
			if len(tt.faults) > 0 || tt.kind != 0 {
				var de *domain.Error
				if !errors.As(err, &de) || de.Kind != tt.kind || len(got) != 0 {
					t.Fatalf("decided %#v, %v; want refused %v", got, err, tt.kind)
				}
				var fields []string
				for _, f := range de.Fields {
					fields = append(fields, f.Field)
				}
				slices.Sort(fields)
				if !slices.Equal(fields, tt.faults) {
					t.Errorf("fields at fault %v, want %v", fields, tt.faults)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("decided\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

// TestCatalogueOverride: a defined category replaces the default of its code, keeping
// its place; a new one comes after the defaults; zero deadlines are the defaults.
func TestCatalogueOverride(t *testing.T) {
	repair := given(t, "repair", category.Defined{Name: "日常维修"}).Category()
	heat := given(t, "heating", heating).Category()
	cat := order.DefaultCatalog().With(repair, heat)
	all := cat.All()
	if len(all) != len(order.DefaultCatalog().All())+1 || all[2].Code != "repair" || all[len(all)-1].Code != "heating" {
		t.Fatalf("catalogue order %v", all)
	}
	if got, _ := cat.Lookup("repair"); len(got.Questions) != 0 || got.Normal != order.DefaultDeadlines.Normal {
		t.Errorf("repair as defined = %+v, want no questions and the default deadlines", got)
	}
	if got, _ := cat.Lookup("供暖报修"); got.Normal.Accept != 2*time.Hour || got.Urgent != order.DefaultDeadlines.Urgent || len(got.Questions) != 1 {
		t.Errorf("heating = %+v", got)
	}
}
