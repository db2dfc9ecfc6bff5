package query

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/street"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
)

// StoryEvent is one event of an order's story as auditors read it, over HTTP or from
// the command line.
type StoryEvent struct {
	Seq           uint64          `json:"seq"`
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Time          time.Time       `json:"time"`       // UTC
	TimeLocal     string          `json:"time_local"` // Asia/Shanghai
	Actor         string          `json:"actor"`
	ActorName     string          `json:"actorname"`
	Role          domain.Role     `json:"role"`
	Version       uint64          `json:"aggregateversion"`
	CorrelationID string          `json:"correlationid"`
	CausationID   string          `json:"causationid"`
	Summary       string          `json:"summary"` // zh-CN, as the linkage feed words it; "" for internal notes
	Data          json.RawMessage `json:"data"`
	// Rejected, on an event in the log that Redlane did not sign, says why it is
	// ignored (unsigned, bad_signature, untrusted_key); Notice says so in words.
	Rejected string `json:"rejected,omitempty"`
	Notice   string `json:"notice,omitempty"`
}

// NotRedlanes is the notice on a story's event that Redlane did not sign.
const NotRedlanes = "this event is not Redlane's: ignored"

// NotRedlanesZH is the same for the pages and the summary.
const NotRedlanesZH = "此事件并非本系统签发：已忽略，不作数"

// NewStoryEvent shows a stored event with its summary; the requester's phone in its data,
// when there in the clear, is masked unless unmask.
func NewStoryEvent(rec domain.Recorded, summary string, unmask bool) StoryEvent {
	data := rec.Data
	if !unmask {
		data = MaskRequesterPhone(data)
	}
	e := StoryEvent{
		Seq: rec.Seq, ID: rec.ID, Type: rec.Type, Time: rec.Time.UTC(), TimeLocal: LocalTime(rec.Time),
		Actor: rec.Actor, ActorName: rec.ActorName, Role: rec.Role, Version: rec.Version,
		CorrelationID: rec.CorrelationID, CausationID: rec.CausationID, Summary: summary, Data: data,
	}
	if rec.Rejected != "" {
		e.Rejected, e.Notice, e.Summary = rec.Rejected, NotRedlanes, NotRedlanesZH
	}
	return e
}

// StoryUpTo is how many of an order's events, in log order, were recorded at or before
// asOf: all of them when asOf is nil.
func StoryUpTo(recs []domain.Recorded, asOf *time.Time) int {
	if asOf != nil {
		for i, rec := range recs {
			if rec.Time.After(*asOf) {
				return i
			}
		}
	}
	return len(recs)
}

// StoryNames are the lane, its community and street, and the members an order's story
// speaks of, as the directory or the log knows them.
type StoryNames struct {
	Lane    string
	Place   lane.Registered
	Members map[string]member.Profile
	// CommunityName and StreetName are the names of Place's community and street, when
	// they are registered.
	CommunityName, StreetName string
}

// StoryMembers lists the members an order's events name, each once, in order.
func StoryMembers(recs []domain.Recorded) []string {
	var out []string
	seen := map[string]bool{}
	for _, rec := range recs {
		var who struct{ Member, From string }
		_ = json.Unmarshal(rec.Data, &who)
		for _, id := range []string{who.Member, who.From} {
			if id != "" && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// Story shows an order's events, each worded as the linkage feed words it (with the
// lane's, its places' and the members' names; "" for an event the feed does not show, such as an
// internal note, or one Redlane did not sign). The requester's phone in an event's data
// is masked unless unmask.
func Story(recs []domain.Recorded, names StoryNames, unmask bool) []StoryEvent {
	fv := feed.New()
	if names.Lane != "" {
		fv.Apply(domain.Recorded{Envelope: domain.Envelope{AggregateType: lane.AggregateType, AggregateID: names.Lane}}, names.Place)
	}
	if names.StreetName != "" {
		fv.Apply(domain.Recorded{Envelope: domain.Envelope{AggregateType: street.AggregateType, AggregateID: names.Place.Street}}, street.Registered{Name: names.StreetName})
	}
	if names.CommunityName != "" {
		fv.Apply(domain.Recorded{Envelope: domain.Envelope{AggregateType: community.AggregateType, AggregateID: names.Place.Community}},
			community.Registered{Name: names.CommunityName, Street: names.Place.Street})
	}
	for id, p := range names.Members {
		fv.Apply(domain.Recorded{Envelope: domain.Envelope{AggregateType: member.AggregateType, AggregateID: id}}, member.Registered(p))
	}
	fv.Take()
	out := make([]StoryEvent, 0, len(recs))
	for _, rec := range recs {
		summary := ""
		if ev, err := projections.Events.Decode(rec.Envelope); err == nil && rec.Rejected == "" {
			fv.Apply(rec, ev)
			if es := fv.Take(); len(es) > 0 {
				summary = es[0].Text
			}
		}
		out = append(out, NewStoryEvent(rec, summary, unmask))
	}
	return out
}

// LocalTime shows a moment in Asia/Shanghai.
func LocalTime(t time.Time) string { return t.In(projections.Shanghai).Format("2006-01-02 15:04:05") }

// ParseTime reads RFC 3339, or a local time in Asia/Shanghai: "2026-11-27 14:00",
// "2026-11-27 14:00:05", or the same with T.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, projections.Shanghai); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf(`time %q: want RFC 3339 (2026-11-27T06:00:00Z) or "2026-11-27 14:00" in Asia/Shanghai`, s)
}

// MaskRequesterPhone masks requester.phone in an event's data, when it is there in the
// clear (an event written without a vault; otherwise the requester is sealed).
func MaskRequesterPhone(data json.RawMessage) json.RawMessage {
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return data
	}
	var req map[string]any
	if raw, ok := fields["requester"]; !ok || json.Unmarshal(raw, &req) != nil {
		return data
	}
	phone, _ := req["phone"].(string)
	if phone == "" {
		return data
	}
	req["phone"] = order.MaskPhone(phone)
	fields["requester"], _ = json.Marshal(req)
	out, err := json.Marshal(fields)
	if err != nil {
		return data
	}
	return out
}

// WriteStoryCSV writes events as CSV a spreadsheet opens: a UTF-8 byte-order mark (so a
// Chinese Excel reads it), Chinese headers, one row an event.
func WriteStoryCSV(w io.Writer, events []StoryEvent) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"序号", "时间（UTC）", "时间（北京时间）", "事件类型", "版本", "操作人", "操作人姓名", "角色", "关联号", "起因号", "摘要", "数据"})
	for _, e := range events {
		_ = cw.Write([]string{
			strconv.FormatUint(e.Seq, 10), e.Time.Format(time.RFC3339Nano), e.TimeLocal, e.Type, strconv.FormatUint(e.Version, 10),
			e.Actor, csvText(e.ActorName), string(e.Role), e.CorrelationID, e.CausationID, csvText(e.Summary), string(e.Data),
		})
	}
	cw.Flush()
	return cw.Error()
}

// csvText keeps a spreadsheet from reading a text cell as a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
