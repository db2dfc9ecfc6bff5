package query_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/query"
)

func TestStoryWordsEventsWithNamesAndMasksThePhone(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	evs := []domain.Event{
		order.Submitted{Lane: "rouqiao-houxiang", Community: "taoyuan", Category: "repair", Title: "楼道灯不亮了",
			Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"}, Priority: order.PriorityNormal},
		order.Dispatched{Member: "m-1"},
		order.Noted{Text: "已电话联系", Internal: true},
	}
	var recs []domain.Recorded
	for i, ev := range evs {
		envs, err := domain.Seal(order.AggregateType, "o-1", uint64(i), []domain.Event{ev}, []string{"e-" + string(rune('a'+i))},
			domain.Meta{Actor: domain.Actor{Role: domain.RoleSteward, ID: "s-1", Name: "王芳"}, Time: t0.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, domain.Recorded{Envelope: envs[0], Seq: uint64(i + 1)})
	}
	names := query.StoryNames{Lane: "rouqiao-houxiang", Place: lane.Registered{Name: "柔桥后巷", Community: "taoyuan"},
		Members: map[string]member.Profile{"m-1": {Name: "李明", Community: "taoyuan"}}}
	asOf := t0.Add(90 * time.Minute)
	upto := query.StoryUpTo(recs, &asOf)
	if upto != 2 || query.StoryUpTo(recs, nil) != 3 {
		t.Fatalf("StoryUpTo: %d", upto)
	}
	story := query.Story(recs, names, false)
	if len(story) != 3 {
		t.Fatalf("%d events", len(story))
	}
	if !strings.Contains(story[0].Summary, "柔桥后巷") || !strings.Contains(story[1].Summary, "李明") {
		t.Errorf("summaries without names: %q, %q", story[0].Summary, story[1].Summary)
	}
	if story[2].Summary != "" {
		t.Errorf("an internal note is worded for the public: %q", story[2].Summary)
	}
	if strings.Contains(string(story[0].Data), "13812345678") || !strings.Contains(string(story[0].Data), "138****5678") {
		t.Errorf("the phone is not masked: %s", story[0].Data)
	}
	if full := query.Story(recs, names, true); !strings.Contains(string(full[0].Data), "13812345678") {
		t.Errorf("unmasked, the phone is hidden: %s", full[0].Data)
	}
	recs[1].Rejected = "unsigned"
	if s := query.Story(recs, names, false); s[1].Notice != query.NotRedlanes || s[1].Summary != query.NotRedlanesZH {
		t.Errorf("an event Redlane did not sign: %+v", s[1])
	}
}

// TestStoryCallsPlacesByTheirNames: an escalation's summary, in the story and in its CSV,
// names the registered community and street, never "taoyuan社区".
func TestStoryCallsPlacesByTheirNames(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	evs := []domain.Event{
		order.Submitted{Lane: "rouqiao-houxiang", Community: "taoyuan", Street: "dongcheng", Category: "repair", Title: "楼道灯不亮了", Priority: order.PriorityNormal},
		order.Escalated{Level: order.LevelCommunity, Reason: "需要物业配合"},
		order.Escalated{Level: order.LevelStreet, Reason: "需要街道协调"},
	}
	var recs []domain.Recorded
	for i, ev := range evs {
		envs, err := domain.Seal(order.AggregateType, "o-1", uint64(i), []domain.Event{ev}, []string{"e-" + string(rune('a'+i))},
			domain.Meta{Actor: domain.Actor{Role: domain.RoleSteward, ID: "s-1", Name: "王芳"}, Time: t0.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, domain.Recorded{Envelope: envs[0], Seq: uint64(i + 1)})
	}
	names := query.StoryNames{Lane: "rouqiao-houxiang", Place: lane.Registered{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng"},
		CommunityName: "塔苑社区", StreetName: "东城街道"}
	story := query.Story(recs, names, false)
	if story[1].Summary != "「楼道灯不亮了」已上报至塔苑社区（街道兜底）" || story[2].Summary != "「楼道灯不亮了」已上报至东城街道（街道兜底）" {
		t.Errorf("summaries: %q, %q", story[1].Summary, story[2].Summary)
	}
	var b strings.Builder
	if err := query.WriteStoryCSV(&b, story); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "已上报至塔苑社区") || strings.Contains(b.String(), "taoyuan社区") {
		t.Errorf("the story's CSV does not name the community:\n%s", b.String())
	}
}
