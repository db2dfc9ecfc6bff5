package web

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
)

// MemberFacts are what the dispatch dialog knows of a member besides the profile.
type MemberFacts struct {
	Load      int     // live orders in the member's hands: dispatched to them or accepted
	Ratings   int     // ratings of the member's work this month
	MeanStars float64 // their mean, 0 without ratings
}

// Ranked is one member as the dispatch dialog proposes them.
type Ranked struct {
	Member        member.State
	Score         float64
	Skills        []string // the member's skills the category asks for
	Load          int
	SameCommunity bool
	Ratings       int
	MeanStars     float64
	Reasons       string // zh-CN, e.g. 技能匹配：维修 · 当前在办 1 件 · 本社区 · 本月均分 4.5（2 次评价）
}

// The weights of the ranking. A skill match and the community count most; each order
// in hand counts against; the month's ratings move a member a little, and only in
// proportion to how many there are, so that one five-star job does not put anyone first.
const (
	scoreSkill        = 40.0 // the member has one of the skills the category asks for
	scoreExtraSkill   = 5.0  // each further matching skill
	scoreCommunity    = 25.0 // the member belongs to the order's community
	scorePerLoad      = -10.0
	maxLoadPenalty    = -50.0
	scorePerStar      = 4.0 // per star above or below 3, at full confidence
	fullConfidenceAt  = 5   // ratings at which the stars count fully
	neutralStarsScore = 3.0
)

// Rank orders the active members for an order of category cat in community: best first,
// ties broken by fewer orders in hand, more ratings, then member id. It is a pure
// function of its arguments; facts may lack members (they count as idle and unrated).
func Rank(cat order.Category, community string, members []member.State, facts map[string]MemberFacts) []Ranked {
	out := make([]Ranked, 0, len(members))
	for _, m := range members {
		if !m.Active {
			continue
		}
		f := facts[m.ID]
		r := Ranked{Member: m, Load: f.Load, SameCommunity: m.Community == community, Ratings: f.Ratings, MeanStars: f.MeanStars}
		for _, s := range cat.Skills {
			if slices.Contains(m.Skills, s) {
				r.Skills = append(r.Skills, s)
			}
		}
		if n := len(r.Skills); n > 0 {
			r.Score += scoreSkill + scoreExtraSkill*float64(n-1)
		}
		if r.SameCommunity {
			r.Score += scoreCommunity
		}
		r.Score += max(scorePerLoad*float64(f.Load), maxLoadPenalty)
		if f.Ratings > 0 {
			confidence := float64(min(f.Ratings, fullConfidenceAt)) / fullConfidenceAt
			r.Score += (f.MeanStars - neutralStarsScore) * scorePerStar * confidence
		}
		r.Reasons = reasons(cat, r)
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b Ranked) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Load, b.Load); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Ratings, a.Ratings); c != 0 {
			return c
		}
		return cmp.Compare(a.Member.ID, b.Member.ID)
	})
	return out
}

// reasons says in zh-CN why a member is where the ranking puts them.
func reasons(cat order.Category, r Ranked) string {
	var parts []string
	switch {
	case len(r.Skills) > 0:
		names := make([]string, len(r.Skills))
		for i, s := range r.Skills {
			names[i] = skillName(s)
		}
		parts = append(parts, "技能匹配："+strings.Join(names, "、"))
	case len(cat.Skills) > 0:
		parts = append(parts, "技能不符")
	}
	if r.Load == 0 {
		parts = append(parts, "当前无在办")
	} else {
		parts = append(parts, fmt.Sprintf("当前在办 %d 件", r.Load))
	}
	if r.SameCommunity {
		parts = append(parts, "本社区")
	} else {
		parts = append(parts, "外社区")
	}
	if r.Ratings > 0 {
		parts = append(parts, fmt.Sprintf("本月均分 %.1f（%d 次评价）", r.MeanStars, r.Ratings))
	} else {
		parts = append(parts, "本月暂无评价")
	}
	return strings.Join(parts, " · ")
}
