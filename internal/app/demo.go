package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/campaign"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/schedule"
	"github.com/redlane/redlane/domain/street"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/service"
)

// demoStreets and demoCommunities are the demo district's places, registered before its
// lanes so that every page shows their names.
var (
	demoStreets = []struct {
		id string
		street.Register
	}{
		{"dongcheng", street.Register{Name: "东城街道"}},
		{"xicheng", street.Register{Name: "西城街道"}},
	}
	demoCommunities = []struct {
		id string
		community.Register
	}{
		{"taoyuan", community.Register{Name: "塔苑社区", Street: "dongcheng"}},
		{"yingchun", community.Register{Name: "迎春社区", Street: "xicheng"}},
	}
)

// loadDemoPlaces registers the demo's streets and communities that are not registered
// yet: a demo loaded before places had names gets them too.
func loadDemoPlaces(ctx context.Context, svc *service.Service) error {
	m := svc.Meta(service.Admin, "")
	for _, s := range demoStreets {
		if _, ok := svc.Dir.Street(s.id); ok {
			continue
		}
		if _, err := svc.RegisterStreet(ctx, m, s.id, s.Register); err != nil && domain.KindOf(err) != domain.KindConflict {
			return fmt.Errorf("street %s: %w", s.id, err)
		}
	}
	for _, c := range demoCommunities {
		if _, ok := svc.Dir.Community(c.id); ok {
			continue
		}
		if _, err := svc.RegisterCommunity(ctx, m, c.id, c.Register); err != nil && domain.KindOf(err) != domain.KindConflict {
			return fmt.Errorf("community %s: %w", c.id, err)
		}
	}
	return nil
}

// DemoLanes and the demo members and tokens are the demo district, from the programme Redlane is modelled on: 东城街道 with 塔苑社区,
// 西城街道 with 迎春社区, and lanes among the "36 streets and 72 lanes".
var DemoLanes = []struct {
	id string
	lane.Register
}{
	{"rouqiao-houxiang", lane.Register{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng", Station: "柔桥后巷驿站"}},
	{"kongyuan", lane.Register{Name: "孔园", Community: "taoyuan", Street: "dongcheng", Station: "孔园驿站"}},
	{"wudongqiao", lane.Register{Name: "五洞桥", Community: "yingchun", Street: "xicheng", Station: "五洞桥驿站"}},
}

var demoMembers = []struct {
	id string
	member.Register
}{
	{"m-001", member.Register{Name: "李明", Community: "taoyuan", Skills: []string{"repair", "electrical"}, Teams: []string{"红色方舟"}, Phone: "13800001111"}},
	{"m-002", member.Register{Name: "陈静", Community: "taoyuan", Skills: []string{"counselling", "policy"}, Teams: []string{"姐妹帮帮团"}, Phone: "13800002222"}},
	{"m-003", member.Register{Name: "张医生", Community: "taoyuan", Skills: []string{"medical"}, Teams: []string{"护航者"}, Phone: "13800003333"}},
	{"m-004", member.Register{Name: "王律师", Community: "yingchun", Skills: []string{"legal", "policy"}, Teams: []string{"红心特快"}, Phone: "13900004444"}},
	{"m-005", member.Register{Name: "赵消防", Community: "yingchun", Skills: []string{"fire-safety", "repair", "city"}, Teams: []string{"护航者"}, Phone: "13900005555"}},
	{"m-006", member.Register{Name: "周老师", Community: "yingchun", Skills: []string{"education"}, Teams: []string{"红色方舟"}, Phone: "13900006666"}},
}

var demoTokens = []access.Issue{
	{Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang", "kongyuan"}, Name: "王芳"},
	{Role: domain.RoleSteward, Lanes: []string{"wudongqiao"}, Name: "刘洋"},
	{Role: domain.RoleMember, Member: "m-001", Name: "李明"},
	{Role: domain.RoleMember, Member: "m-004", Name: "王律师"},
	{Role: domain.RoleOperator, Name: "96345 热线"},
	{Role: domain.RoleAuditor, Name: "审计"},
}

// DemoPassword is the password of every demo account (README): a demo, not a district.
const DemoPassword = "redlane-demo"

// demoAccounts are the people of the demo who sign in with a username and DemoPassword.
var demoAccounts = []service.NewAccount{
	{Username: "admin", Issue: access.Issue{Role: domain.RoleAdmin, Name: "管理员"}},
	{Username: "wangfang", Issue: access.Issue{Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang", "kongyuan"}, Name: "王芳"}},
	{Username: "liuyang", Issue: access.Issue{Role: domain.RoleSteward, Lanes: []string{"wudongqiao"}, Name: "刘洋"}},
	{Username: "liming", Issue: access.Issue{Role: domain.RoleMember, Member: "m-001", Name: "李明"}},
	{Username: "wanglvshi", Issue: access.Issue{Role: domain.RoleMember, Member: "m-004", Name: "王律师"}},
	{Username: "rexian", Issue: access.Issue{Role: domain.RoleOperator, Name: "96345 热线"}},
	{Username: "shenji", Issue: access.Issue{Role: domain.RoleAuditor, Name: "审计"}},
	// The offices a lane escalates to (兜底): 塔苑社区's staff and 东城街道's.
	{Username: "tayuan", Issue: access.Issue{Role: domain.RoleCommunity, Communities: []string{"taoyuan"}, Name: "塔苑社区"}},
	{Username: "dongcheng", Issue: access.Issue{Role: domain.RoleStreet, Streets: []string{"dongcheng"}, Name: "东城街道"}},
}

// loadDemoAccounts opens the demo accounts that are not open yet.
func loadDemoAccounts(ctx context.Context, svc *service.Service, log *slog.Logger) error {
	m := svc.Meta(service.Admin, "")
	opened := 0
	for _, a := range demoAccounts {
		if _, ok := svc.Dir.Account(a.Username); ok {
			continue
		}
		a.Password = DemoPassword
		if _, err := svc.CreateAccount(ctx, m, a); err != nil && domain.KindOf(err) != domain.KindConflict {
			return fmt.Errorf("account %s: %w", a.Username, err)
		}
		opened++
	}
	if opened > 0 {
		log.Info("demo accounts opened", "accounts", opened, "password", "see README")
	}
	return nil
}

// loadDemoPhones gives the demo members who have none their phones: a demo loaded
// before members carried phones gets them at its next --demo start.
func loadDemoPhones(ctx context.Context, svc *service.Service) error {
	m := svc.Meta(service.Admin, "")
	for _, mem := range demoMembers {
		st, ok := svc.Dir.Member(mem.id)
		if !ok || st.Phone != "" || st.PhoneSealed != nil {
			continue
		}
		p := st.Profile
		p.Phone = mem.Phone
		if _, err := svc.UpdateMember(ctx, m, mem.id, member.Update(p)); err != nil {
			return fmt.Errorf("member %s: %w", mem.id, err)
		}
	}
	return nil
}

// loadDemo registers the demo district once. On the first load it also issues demo tokens
// and writes them to DATA/demo-tokens.json (mode 0600), never to the log.
func loadDemo(ctx context.Context, svc *service.Service, dataDir string, log *slog.Logger) error {
	if err := loadDemoPlaces(ctx, svc); err != nil {
		return err
	}
	if _, loaded := svc.Dir.Lane(DemoLanes[0].id); loaded {
		log.Info("demo data already loaded")
		if err := loadDemoPhones(ctx, svc); err != nil {
			return err
		}
		return loadDemoAccounts(ctx, svc, log)
	}
	m := svc.Meta(service.Admin, "")
	for _, l := range DemoLanes {
		if _, err := svc.RegisterLane(ctx, m, l.id, l.Register); err != nil && domain.KindOf(err) != domain.KindConflict {
			return fmt.Errorf("lane %s: %w", l.id, err)
		}
	}
	for _, mem := range demoMembers {
		if _, err := svc.RegisterMember(ctx, m, mem.id, mem.Register); err != nil && domain.KindOf(err) != domain.KindConflict {
			return fmt.Errorf("member %s: %w", mem.id, err)
		}
	}
	// A month's theme and a weekly visit, as the programme runs them.
	now := svc.Now().In(projections.Shanghai)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, projections.Shanghai)
	if _, err := svc.LaunchCampaign(ctx, m, "demo-dianqi", campaign.Launch{
		Theme: "安全用电月", Community: "taoyuan", Categories: []string{"repair"},
		From: first.Format(time.DateOnly), Until: first.AddDate(0, 1, -1).Format(time.DateOnly),
	}); err != nil && domain.KindOf(err) != domain.KindConflict {
		return fmt.Errorf("campaign: %w", err)
	}
	if _, err := svc.DefineSchedule(ctx, m, "demo-visit", schedule.Define{
		Lane: "rouqiao-houxiang", Category: "errand", Title: "每周二上门看望独居老人",
		Description: "红色代办：陪同聊天，检查水电煤气，代购日用品",
		Requester:   order.Requester{Name: "陈奶奶", Phone: "13600002222"},
		Every:       schedule.Weekly, Weekday: int(time.Tuesday), At: "09:00", From: now.Format(time.DateOnly),
	}); err != nil && domain.KindOf(err) != domain.KindConflict {
		return fmt.Errorf("schedule: %w", err)
	}
	type issued struct {
		ID     string      `json:"id"`
		Token  string      `json:"token"`
		Role   domain.Role `json:"role"`
		Lanes  []string    `json:"lanes,omitempty"`
		Member string      `json:"member,omitempty"`
		Name   string      `json:"name"`
	}
	var out []issued
	for _, t := range demoTokens {
		id, secret, err := svc.IssueToken(ctx, m, t)
		if err != nil {
			return fmt.Errorf("token for %s: %w", t.Name, err)
		}
		out = append(out, issued{id, secret, t.Role, t.Lanes, t.Member, t.Name})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dataDir, "demo-tokens.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	log.Info("demo data loaded", "lanes", len(DemoLanes), "members", len(demoMembers), "tokens", path)
	return loadDemoAccounts(ctx, svc, log)
}
