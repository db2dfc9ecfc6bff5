package open311

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

func TestParseSubmission(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		fields []string // the fields an error names; nil: accepted
		check  func(testing.TB, submission)
	}{
		{name: "a full form is read", body: "service_code=repair&address_id=rouqiao-houxiang&first_name=%E9%98%BF%E5%A7%A8&last_name=%E5%BC%A0&phone=13812345678&description=%E7%81%AF%E5%9D%8F%E4%BA%86&lat=30.5&long=120.25&attribute%5Bfloor%5D=3&attribute%5Bkinds%5D%5B%5D=a&attribute%5Bkinds%5D%5B%5D=b",
			check: func(tb testing.TB, s submission) {
				if s.ServiceCode != "repair" || s.AddressID != "rouqiao-houxiang" || s.FirstName != "阿姨" || s.LastName != "张" || s.Description != "灯坏了" ||
					s.Lat == nil || *s.Lat != 30.5 || s.Long == nil || *s.Long != 120.25 ||
					len(s.Attributes["floor"]) != 1 || strings.Join(s.Attributes["kinds"], ",") != "a,b" {
					tb.Errorf("read %+v", s)
				}
			}},
		{name: "no service_code is invalid service_code", body: "address_id=x", fields: []string{"service_code"}},
		{name: "lat without long is invalid long", body: "service_code=repair&lat=30", fields: []string{"long"}},
		{name: "long without lat is invalid lat", body: "service_code=repair&long=120", fields: []string{"lat"}},
		{name: "a latitude past the pole is invalid lat", body: "service_code=repair&lat=91&long=120", fields: []string{"lat"}},
		{name: "NaN is invalid long", body: "service_code=repair&lat=1&long=NaN", fields: []string{"long"}},
		{name: "bytes that are not UTF-8 are invalid description", body: "service_code=repair&description=%ff%fe", fields: []string{"description"}},
		{name: "a huge description is invalid description", body: "service_code=repair&description=" + strings.Repeat("x", maxText+1), fields: []string{"description"}},
		{name: "a media_url that is no web address is invalid media_url", body: "service_code=repair&media_url=javascript:alert(1)", fields: []string{"media_url"}},
		{name: "an attribute without a code is invalid", body: "service_code=repair&attribute%5B%5D=1", fields: []string{"attribute[]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vals, err := url.ParseQuery(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			s, err := parseSubmission(vals)
			var de *domain.Error
			switch {
			case tc.fields == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.fields == nil:
				tc.check(t, s)
			case !errors.As(err, &de):
				t.Fatalf("err = %v, want invalid %v", err, tc.fields)
			default:
				var got []string
				for _, f := range de.Fields {
					got = append(got, f.Field)
				}
				if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
					t.Errorf("fields %v, want %v", got, tc.fields)
				}
			}
		})
	}
}

func TestRequesterNameAndTitle(t *testing.T) {
	for _, tc := range []struct{ first, last, want string }{
		{"阿姨", "张", "张阿姨"}, {"John", "Smith", "John Smith"}, {"Jo", "", "Jo"}, {"", "王", "王"}, {"", "", ""},
	} {
		if got := requesterName(tc.first, tc.last); got != tc.want {
			t.Errorf("requesterName(%q, %q) = %q, want %q", tc.first, tc.last, got, tc.want)
		}
	}
	for _, tc := range []struct{ desc, want string }{
		{"\n  楼道灯不亮了\n三单元", "楼道灯不亮了"},
		{"", "日常维修"},
		{strings.Repeat("灯", 31), strings.Repeat("灯", 30) + "…"},
	} {
		if got := titleOf(tc.desc, "日常维修"); got != tc.want {
			t.Errorf("titleOf(%q) = %q, want %q", tc.desc, got, tc.want)
		}
	}
}

func TestParseWindow(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, query  string
		from, to     time.Time
		invalidField string
	}{
		{name: "none is the span before now", from: now.Add(-MaxSpan), to: now},
		{name: "a start alone runs the span after it", query: "start_date=2026-11-01T00:00:00Z", from: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), to: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(MaxSpan)},
		{name: "a date is midnight in Shanghai", query: "start_date=2026-11-01&end_date=2026-11-02", from: time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC), to: time.Date(2026, 11, 1, 16, 0, 0, 0, time.UTC)},
		{name: "an end before the start is invalid end_date", query: "start_date=2026-11-02&end_date=2026-11-01", invalidField: "end_date"},
		{name: "91 days is invalid end_date", query: "start_date=2026-01-01&end_date=2026-04-02", invalidField: "end_date"},
		{name: "nonsense is invalid start_date", query: "start_date=yesterday", invalidField: "start_date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			from, to, err := parseWindow(q, now, MaxSpan)
			if tc.invalidField != "" {
				if err == nil || err.field != tc.invalidField {
					t.Fatalf("err = %v, want one naming %s", err, tc.invalidField)
				}
				return
			}
			if err != nil || !from.Equal(tc.from) || !to.Equal(tc.to) {
				t.Errorf("window %v – %v (%v), want %v – %v", from, to, err, tc.from, tc.to)
			}
		})
	}
}

func TestFoldIgnoresReplaysAndPrivateEvents(t *testing.T) {
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	rec := func(seq uint64, ev domain.Event) domain.Recorded {
		return domain.Recorded{Seq: seq, Envelope: domain.Envelope{ID: "e" + string(rune('0'+seq)), Type: ev.EventType(), AggregateID: "o-1", Time: at.Add(time.Duration(seq) * time.Minute)}}
	}
	var r request
	events := []domain.Event{
		order.Submitted{Number: "N1", Lane: "l", Community: "c", Category: "repair", Title: "灯", CompleteBy: at.Add(72 * time.Hour)},
		order.Dispatched{Member: "m-1"},
		order.Noted{Text: "内部", Internal: true},
		order.MarkedOverdue{Deadline: order.DeadlineAccept},
		order.Accepted{Member: "m-1"},
	}
	for i, ev := range events {
		fold(&r, rec(uint64(i+1), ev), ev)
	}
	if fold(&r, rec(2, events[1]), events[1]) {
		t.Error("a replayed event changed the request")
	}
	if fold(&r, rec(9, events[0]), events[0]) {
		t.Error("a second submission changed the request")
	}
	if r.Status != order.StatusAccepted || len(r.Updates) != 3 || r.Note != "" || !r.Updated.Equal(at.Add(5*time.Minute)) {
		t.Errorf("folded %+v", r)
	}
	var orphan request
	if fold(&orphan, rec(1, events[1]), events[1]) || orphan.Status != order.StatusNone {
		t.Errorf("an order never submitted was folded: %+v", orphan)
	}
}

// FuzzSubmissionForm feeds the POST form reader any body: it never panics, and what it
// accepts is UTF-8 text within bounds, with coordinates on the globe and in pairs.
func FuzzSubmissionForm(f *testing.F) {
	f.Add("service_code=repair&address_id=rouqiao-houxiang&phone=13812345678&description=hello")
	f.Add("service_code=repair&lat=30&long=120.5&attribute%5Bx%5D=1&attribute%5Bx%5D%5B%5D=2")
	f.Fuzz(func(t *testing.T, body string) {
		vals, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		s, err := parseSubmission(vals)
		if err != nil {
			if domain.KindOf(err) != domain.KindInvalid {
				t.Fatalf("refused with %v, not invalid input", err)
			}
			return
		}
		for _, v := range []string{s.ServiceCode, s.AddressString, s.AddressID, s.FirstName, s.LastName, s.Phone, s.Description, s.MediaURL} {
			if !utf8.ValidString(v) || len(v) > maxText || v != strings.TrimSpace(v) {
				t.Fatalf("accepted %q", v)
			}
		}
		if s.ServiceCode == "" {
			t.Fatal("accepted no service_code")
		}
		if (s.Lat == nil) != (s.Long == nil) || s.Lat != nil && (*s.Lat < -90 || *s.Lat > 90 || *s.Long < -180 || *s.Long > 180) {
			t.Fatalf("accepted coordinates %v %v", s.Lat, s.Long)
		}
		if len(s.Attributes) > maxAttributes {
			t.Fatalf("accepted %d attributes", len(s.Attributes))
		}
		for code, vals := range s.Attributes {
			if code == "" || !utf8.ValidString(code) {
				t.Fatalf("accepted attribute %q", code)
			}
			for _, v := range vals {
				if !utf8.ValidString(v) || v == "" {
					t.Fatalf("accepted answer %q", v)
				}
			}
		}
	})
}
