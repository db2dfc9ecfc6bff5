package scale

import "testing"

// One stream for good: a district stays within the server's budget for five years, a
// city does not last one.
func TestWhoHitsTheLimitWithinFiveYears(t *testing.T) {
	m := Bench20261130
	for _, c := range []struct {
		p        Place
		hitsIn5y bool
	}{{District, false}, {City, true}} {
		years := YearsUntil(m, c.p, ServerBudget)
		if got := years < 5; got != c.hitsIn5y {
			t.Errorf("%s: the budget lasts %.1f years; hits it within five: %v, want %v", c.p.Name, years, got, c.hitsIn5y)
		}
		t.Logf("%s: %.2f GiB of per-subject state a year; a %d GiB budget lasts %.1f years; %.0f GiB of disk a year",
			c.p.Name, ServerBytes(m, c.p, 1)/(1<<30), ServerBudget>>30, years, DiskBytesPerYear(m, c.p)/(1<<30))
	}
	if y := YearsUntil(m, City, ServerBudget); y >= 1 {
		t.Errorf("a city's year fits the budget (%.1f years)", y)
	}
}

// A stream per month keeps a city's live per-subject state within the budget with one
// month still open beside the current; a stream per year does not, and a district's year
// does.
func TestPeriodLengthThatFits(t *testing.T) {
	m := Bench20261130
	if b := LivePeriodBytes(m, City, 30, 1); b > ServerBudget {
		t.Errorf("a city's monthly streams hold %.2f GiB, over the budget", b/(1<<30))
	}
	if b := LivePeriodBytes(m, City, 365, 1); b <= ServerBudget {
		t.Errorf("a city's yearly streams hold %.2f GiB, within the budget", b/(1<<30))
	}
	if b := LivePeriodBytes(m, District, 365, 1); b > ServerBudget {
		t.Errorf("a district's yearly streams hold %.2f GiB, over the budget", b/(1<<30))
	}
	if d := LongestPeriodDays(m, City, ServerBudget, 1); d < 30 || d > 365 {
		t.Errorf("a city's longest period is %.0f days, want between a month and a year", d)
	}
	t.Logf("longest period within %d GiB, one open besides the current: city %.0f days, district %.0f days",
		ServerBudget>>30, LongestPeriodDays(m, City, ServerBudget, 1), LongestPeriodDays(m, District, ServerBudget, 1))
}

// A heavier server (twice the bytes per subject) brings a district's limit within reach
// sooner: what a new nats-server release's figure would change.
func TestYearsUntilFollowsTheMeasuredConstant(t *testing.T) {
	light, heavy := Bench20261130, Bench20261130
	heavy.ServerBytesPerSubject *= 2
	if a, b := YearsUntil(light, District, ServerBudget), YearsUntil(heavy, District, ServerBudget); b*2 < a*0.999 || b*2 > a*1.001 {
		t.Errorf("twice the bytes per subject: %.2f years, want half of %.2f", b, a)
	}
}
