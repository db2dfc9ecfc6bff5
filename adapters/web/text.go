package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
)

// The zh-CN words the pages use for the domain's codes. Codes the tables do not know are
// shown as they are, so a new status or role is never hidden.

var statusNames = map[order.Status]string{
	order.StatusOpen:       "待派单",
	order.StatusDispatched: "已派单",
	order.StatusAccepted:   "办理中",
	order.StatusCompleted:  "已办结待评价",
	order.StatusClosed:     "已办结",
	order.StatusCancelled:  "已取消",
}

func statusName(s order.Status) string { return nameOr(statusNames[s], string(s)) }

var roleNames = map[domain.Role]string{
	domain.RoleAdmin:     "管理员",
	domain.RoleSteward:   "驿站管家",
	domain.RoleMember:    "党员",
	domain.RoleOperator:  "接线员",
	domain.RoleAuditor:   "审计员",
	domain.RoleCommunity: "社区工作人员",
	domain.RoleStreet:    "街道工作人员",
	domain.RoleResident:  "居民",
	domain.RoleSystem:    "系统",
}

func roleName(r domain.Role) string { return nameOr(roleNames[r], string(r)) }

var levelNames = map[order.Level]string{
	order.LevelLane:      "街巷",
	order.LevelCommunity: "社区",
	order.LevelStreet:    "街道",
}

func levelName(l order.Level) string { return nameOr(levelNames[l], string(l)) }

// deadlineName is a deadline in Chinese: which step ran late.
func deadlineName(d order.DeadlineKind) string {
	return nameOr(map[order.DeadlineKind]string{order.DeadlineAccept: "接单", order.DeadlineComplete: "办结"}[d], string(d))
}

var priorityNames = map[order.Priority]string{order.PriorityNormal: "普通", order.PriorityUrgent: "紧急"}

func priorityName(p order.Priority) string { return nameOr(priorityNames[p], string(p)) }

var channelNames = map[order.Channel]string{
	order.ChannelStation:  "驿站",
	order.ChannelHotline:  "96345 热线",
	order.ChannelTerminal: "智慧党建终端",
	order.ChannelWeb:      "网上",
	order.ChannelOpen311:  "Open311 应用",
}

func channelName(c order.Channel) string { return nameOr(channelNames[c], string(c)) }

var modeNames = map[order.Mode]string{
	order.ModeInstant:  "即时式",
	order.ModeThematic: "主题式",
	order.ModePeriodic: "周期式",
}

func modeName(m order.Mode) string { return nameOr(modeNames[m], string(m)) }

// eventNames are the order events as a timeline shows them.
var eventNames = map[string]string{
	order.TypeSubmitted:  "居民点单",
	order.TypeDispatched: "组织派单",
	order.TypeReassigned: "改派",
	order.TypeClaimed:    "党员领办",
	order.TypeAccepted:   "党员接单",
	order.TypeDeclined:   "党员退回",
	order.TypeCompleted:  "办结",
	order.TypeRated:      "评价",
	order.TypeCancelled:  "取消",
	order.TypeEscalated:  "上报",
	order.TypeReopened:   "重办",
	order.TypeNoted:      "备注",
	order.TypeOverdue:    "超时",
	order.TypeReturned:   "退回下级",
}

func eventName(t string) string { return nameOr(eventNames[t], t) }

// skillNames are the members' skills in Chinese.
var skillNames = map[string]string{
	"medical":     "医疗",
	"legal":       "法律",
	"repair":      "维修",
	"electrical":  "电工",
	"education":   "教育",
	"fire":        "消防",
	"fire-safety": "消防",
	"firesafety":  "消防",
	"counselling": "心理疏导",
	"counseling":  "心理疏导",
	"policy":      "政策",
	"errand":      "代办",
	"mediation":   "调解",
	"city":        "城市管理",
}

func skillName(s string) string { return nameOr(skillNames[s], s) }

func nameOr(name, code string) string {
	if name == "" {
		return code
	}
	return name
}

// shanghai formats a time as the pages show it: in Asia/Shanghai, to the minute.
func shanghai(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(projections.Shanghai).Format("2006-01-02 15:04")
}

// shanghaiSeconds is shanghai to the second, for histories.
func shanghaiSeconds(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(projections.Shanghai).Format("2006-01-02 15:04:05")
}

// clock is the time of day in Asia/Shanghai.
func clock(t time.Time) string { return t.In(projections.Shanghai).Format("15:04") }

// age says how long ago something began, in Chinese: 刚刚, 12分钟, 3小时5分, 2天4小时.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "刚刚"
	case d < time.Hour:
		return fmt.Sprintf("%d分钟", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d小时%d分", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%d天%d小时", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}

// percent shows a rate as a whole percentage, or — when it has no sample.
func percent(r *float64) string {
	if r == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", *r*100)
}

// problem is an error as a page shows it: a status, a headline and the details.
type problem struct {
	Status int
	Title  string
	Lines  []string
}

// fieldNames are the command and form fields in Chinese.
var fieldNames = map[string]string{
	"lane":            "街巷",
	"category":        "服务类别",
	"title":           "标题",
	"description":     "详细描述",
	"requester.name":  "姓名",
	"requester.phone": "联系电话",
	"mode":            "服务方式",
	"channel":         "渠道",
	"priority":        "紧急程度",
	"member":          "党员",
	"reason":          "原因",
	"note":            "办结说明",
	"minutes":         "用时（分钟）",
	"solved":          "是否解决",
	"stars":           "星级",
	"comment":         "评价内容",
	"level":           "上报层级",
	"text":            "备注内容",
	"token":           "令牌",
	"order":           "工单",
	// The admin's forms.
	"id":          "编号",
	"name":        "名称",
	"community":   "社区",
	"street":      "街道",
	"station":     "服务驿站",
	"address":     "地址",
	"point":       "坐标",
	"phone":       "手机",
	"skills":      "技能",
	"teams":       "服务队",
	"username":    "用户名",
	"password":    "密码",
	"role":        "角色",
	"lanes":       "街巷",
	"communities": "社区",
	"streets":     "街道",
}

// fieldMessages translate the domain's field messages, by prefix.
var fieldMessages = []struct{ prefix, zh string }{
	{"is required and must not be blank", "必填，不能为空"},
	{"is required: was the problem solved", "请选择问题是否已解决"},
	{"is required", "必填"},
	{"is too long", "太长了"},
	{"must be a whole number from 1 to 5", "请选择 1 到 5 星"},
	{"must be between 1 and", "须在 1 到 10080 分钟之间"},
	{"must be a mainland mobile", "请填写手机号（如 13812345678）或带区号的固定电话（如 0576-88881234）"},
	{"must be at least 8 characters", "至少 8 个字符"},
	{"must be 3 to 32 lower-case letters", "须为 3 到 32 位小写字母、数字或 . _ -，以字母或数字开头"},
	{"is not in the catalogue", "不在服务目录中"},
	{"is not a known lane", "没有这条街巷"},
	{"no such lane", "没有这条街巷"},
	{"no such street", "没有这个街道"},
	{"must be the street of community", "须与所属社区的街道一致"},
	{"no such member", "没有这位党员"},
	{"is not an active member", "不是在册党员"},
	{"the order is already with this member", "工单已在这位党员手中"},
	{`must be "community" or "street"`, "请选择社区或街道"},
	{"must be normal or urgent", "请选择普通或紧急"},
	{"must be a whole number", "须为整数"},
	// The admin's forms.
	{"must be 1 to 64 letters", "须为 1 到 64 位英文字母、数字、- 或 _"},
	{"no such community", "没有这个社区"},
	{"at most 20", "最多 20 项"},
	{"must be at most 72 bytes", "太长了（最多 72 个字节）"},
	{"must not hold control characters", "不能包含控制字符"},
	{"must be admin, steward, member, operator, auditor, community or street", "请选择角色"},
	{"a steward token needs at least one lane", "驿站管家至少要负责一条街巷"},
	{"only steward tokens are bound to lanes", "只有驿站管家负责街巷，请不要选择"},
	{"a member token needs a member id", "党员账号须选择对应的党员"},
	{"only member tokens are bound to a member", "只有党员账号对应党员，请不要选择"},
	{"a community token needs at least one community", "社区账号至少要负责一个社区"},
	{"only community tokens are bound to communities", "只有社区账号负责社区，请不要选择"},
	{"a street token needs at least one street", "街道账号至少要负责一个街道"},
	{"only street tokens are bound to streets", "只有街道账号负责街道，请不要选择"},
	{"must be a lane id, given once", "街巷编号不对或重复"},
	{"community and street accounts are not served yet", "暂不支持这个角色"},
	{"must be the id in the path", "编号不能修改"},
}

func fieldMessage(msg string) string {
	for _, m := range fieldMessages {
		if strings.HasPrefix(msg, m.prefix) {
			return m.zh
		}
	}
	return "格式不正确"
}

var actionNames = map[string]string{
	"dispatch": "派单", "claim": "领办", "reassign": "改派", "accept": "接单", "decline": "退回",
	"complete": "办结", "rate": "评价", "cancel": "取消", "escalate": "上报", "reopen": "重办",
	"note": "备注", "return": "退回下级", "close": "结案",
}

// codeTexts word each refusal's code in Chinese: what a page shows under its title.
// {action}, {status} and {level} stand for the facts the refusal names. Every code of
// domain.Codes has one (a test holds it so).
var codeTexts = map[domain.Code]string{
	domain.CodeInvalidInput: "请检查填写的内容。",
	domain.CodeUnauthorized: "令牌无效、已停用，或回执不符。",
	domain.CodeForbidden:    "这个身份不能进行此操作。",
	domain.CodeNotFound:     "找不到要办理的对象。",
	domain.CodeConflict:     "工单状态已变化，请刷新后再试。",
	domain.CodeInternal:     "系统繁忙，请稍后再试。",

	domain.CodeTokenRequired:   "请先登录。",
	domain.CodeTokenInvalid:    "令牌无效或已停用，请重新登录。",
	domain.CodeReceiptRequired: "请先登录，或出示这张工单的回执。",
	domain.CodeReceiptInvalid:  "回执与这张工单不符。",

	domain.CodeAdminOnly:        "只有管理员可以这样做。",
	domain.CodeLaneStewardOnly:  "只有本街巷的驿站管家可以这样做。",
	domain.CodeAssigneeOnly:     "只有承办这张工单的党员可以这样做。",
	domain.CodeMemberOnly:       "只有党员可以领办工单。",
	domain.CodeCommunityOnly:    "只有本社区的在册党员可以领办这张工单。",
	domain.CodeRateNotAllowed:   "只有持回执的居民，或回访后的驿站管家可以评价。",
	domain.CodeCancelNotAllowed: "居民只能在工单待派单时取消；其他情况请联系驿站管家。",
	domain.CodeNoteNotAllowed:   "只有驿站管家或承办党员可以添加备注。",
	domain.CodeSystemOnly:       "期限由系统标记。",
	domain.CodeOwnLanesOnly:     "驿站管家只能为自己的街巷受理诉求。",
	domain.CodeRoleCannotSubmit: "这个身份不能提交诉求。",
	domain.CodeMemberGone:       "这个令牌对应的党员已不在册。",
	domain.CodeReadNotAllowed:   "这个身份不能查看这些内容。",
	domain.CodeScheduleLaneOnly: "只有管理员或本街巷的驿站管家可以设置或停止周期服务。",

	domain.CodeOrderNotFound:    "找不到这张工单。",
	domain.CodeLaneNotFound:     "找不到这条街巷。",
	domain.CodeMemberNotFound:   "找不到这位党员。",
	domain.CodeTokenNotFound:    "找不到这个令牌。",
	domain.CodeScheduleNotFound: "找不到这项周期服务。",
	domain.CodeCampaignNotFound: "找不到这个主题活动。",
	domain.CodeActionNotFound:   "没有这项操作。",

	domain.CodeOrderExists:    "这张工单已提交过。",
	domain.CodeLaneExists:     "这个编号的街巷已存在。",
	domain.CodeMemberExists:   "这个编号的党员已存在。",
	domain.CodeTokenExists:    "这个令牌已发放过，密钥只显示一次；如果没有记下，请停用它再重新发放。",
	domain.CodeAccountExists:  "这个用户名已被使用，请换一个。",
	domain.CodeSignInFailed:   "用户名或密码不对。",
	domain.CodeScheduleExists: "这个编号的周期服务已存在。",
	domain.CodeCampaignExists: "这个编号的主题活动已存在。",

	domain.CodeStreetNotFound:    "找不到这个街道。",
	domain.CodeCommunityNotFound: "找不到这个社区。",
	domain.CodeStreetExists:      "这个编号的街道已存在。",
	domain.CodeCommunityExists:   "这个编号的社区已存在。",

	domain.CodeTransitionRefused: "工单当前为「{status}」，不能{action}。",
	domain.CodeEscalationNotUp:   "工单已上报到{level}，只能继续向上级上报。",
	domain.CodeOutsideCommunity:  "只能派给本社区的党员。",
	domain.CodeOfficeOnly:        "工单目前在{level}办理，只有上报到的社区或街道才能这样处理。",
	domain.CodeNoteOnCancelled:   "已取消的工单不能再添加备注。",
	domain.CodeVersionMismatch:   "工单已被他人更新，请刷新后再试。",
	domain.CodeInEarlierPeriod:   "该工单属于已结束的周期，只能查看，不能再办理；如需继续，请重新提交诉求。",
	domain.CodeIdempotencyReused: "这份表单已提交过，请重新填写。",
	domain.CodeConcurrentWrite:   "工单已被他人更新，请刷新后再试。",
}

// codeText words a refusal in Chinese, with the facts it names.
func codeText(de *domain.Error) string {
	text := codeTexts[domain.CodeOf(de)]
	return strings.NewReplacer(
		"{status}", statusName(order.Status(de.Args["status"])),
		"{action}", nameOr(actionNames[de.Args["action"]], de.Args["action"]),
		"{level}", levelName(order.Level(de.Args["level"])),
	).Replace(text)
}

// describe turns an error into what a page shows. Internal errors say nothing of their
// cause; the caller logs them.
func describe(err error) problem {
	var de *domain.Error
	if !errors.As(err, &de) {
		return problem{Status: http.StatusInternalServerError, Title: "系统繁忙，请稍后再试"}
	}
	switch de.Kind {
	case domain.KindInvalid:
		p := problem{Status: http.StatusBadRequest, Title: "填写有误，请检查后再提交"}
		if _, worded := codeTexts[de.Code]; worded && de.Code != domain.CodeInvalidInput {
			return problem{Status: http.StatusBadRequest, Title: p.Title, Lines: []string{codeText(de)}}
		}
		for _, f := range de.Fields {
			p.Lines = append(p.Lines, fieldName(f.Field)+"："+fieldMessage(f.Message))
		}
		return p
	case domain.KindUnauthorized:
		return problem{Status: http.StatusUnauthorized, Title: "请先登录", Lines: []string{codeText(de)}}
	case domain.KindForbidden:
		return problem{Status: http.StatusForbidden, Title: "无权进行此操作", Lines: []string{codeText(de)}}
	case domain.KindNotFound:
		return problem{Status: http.StatusNotFound, Title: "找不到这张工单或这个页面", Lines: []string{codeText(de)}}
	case domain.KindConflict:
		return problem{Status: http.StatusConflict, Title: "工单状态已变化，未能办理", Lines: []string{codeText(de)}}
	case domain.KindInternal:
	}
	return problem{Status: http.StatusInternalServerError, Title: "系统繁忙，请稍后再试"}
}

// done are the confirmations shown after an action went through, by action.
var done = map[string]string{
	"dispatch": "已派单，等待党员接单。",
	"reassign": "已改派。",
	"claim":    "已领办，请尽快上门服务。",
	"accept":   "已接单。",
	"decline":  "已退回，工单回到待派单。",
	"complete": "已办结，等待居民评价。",
	"rate":     "评价已记录，谢谢！",
	"cancel":   "工单已取消。",
	"escalate": "已上报。",
	"reopen":   "工单已重办，回到待派单。",
	"note":     "备注已添加。",
	"return":   "已退回下级办理。",
	"close":    "工单已结案。",
	"signout":  "已退出登录。",
}

// fieldName is a field's name in Chinese; an answer to a category's question is named
// as a supplementary question, with its code.
func fieldName(f string) string {
	if code, ok := strings.CutPrefix(f, "answers."); ok {
		return "补充问题（" + code + "）"
	}
	return nameOr(fieldNames[f], f)
}
