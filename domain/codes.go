package domain

// Code names why a request was refused, for machines: stable, never reworded. The HTTP
// problem type is urn:redlane:problem:<code>; the pages word each in Chinese. Codes is
// the whole list; a test holds the code base to it.
type Code string

// The codes every refusal of a kind has when nothing more specific is said.
const (
	CodeInvalidInput Code = "invalid-input"
	CodeUnauthorized Code = "unauthorized"
	CodeForbidden    Code = "forbidden"
	CodeNotFound     Code = "not-found"
	CodeConflict     Code = "conflict"
	CodeInternal     Code = "internal"
)

// The specific codes.
const (
	CodeTokenRequired   Code = "auth.token-required"
	CodeTokenInvalid    Code = "auth.token-invalid"
	CodeReceiptRequired Code = "auth.receipt-required"
	CodeReceiptInvalid  Code = "auth.receipt-invalid"
	CodeSignInFailed    Code = "auth.sign-in-failed"

	CodeAdminOnly        Code = "access.admin-only"
	CodeLaneStewardOnly  Code = "access.lane-steward-only"
	CodeAssigneeOnly     Code = "access.assignee-only"
	CodeMemberOnly       Code = "access.member-only"
	CodeCommunityOnly    Code = "access.community-member-only"
	CodeRateNotAllowed   Code = "access.rate-not-allowed"
	CodeCancelNotAllowed Code = "access.cancel-not-allowed"
	CodeNoteNotAllowed   Code = "access.note-not-allowed"
	CodeSystemOnly       Code = "access.system-only"
	CodeOwnLanesOnly     Code = "access.own-lanes-only"
	CodeRoleCannotSubmit Code = "access.role-cannot-submit"
	CodeMemberGone       Code = "access.member-gone"
	CodeReadNotAllowed   Code = "access.read-not-allowed"
	CodeScheduleLaneOnly Code = "access.schedule-lane-steward-only"
	CodeOfficeOnly       Code = "access.escalation-office-only"

	CodeOrderNotFound    Code = "order.not-found"
	CodeLaneNotFound     Code = "lane.not-found"
	CodeMemberNotFound   Code = "member.not-found"
	CodeTokenNotFound    Code = "token.not-found"
	CodeScheduleNotFound Code = "schedule.not-found"
	CodeCampaignNotFound Code = "campaign.not-found"
	CodeActionNotFound   Code = "action.not-found"

	CodeOrderExists    Code = "order.exists"
	CodeLaneExists     Code = "lane.exists"
	CodeMemberExists   Code = "member.exists"
	CodeTokenExists    Code = "token.exists"
	CodeAccountExists  Code = "account.exists"
	CodeScheduleExists Code = "schedule.exists"
	CodeCampaignExists Code = "campaign.exists"

	// Places: streets and communities.
	CodeStreetNotFound    Code = "street.not-found"
	CodeCommunityNotFound Code = "community.not-found"
	CodeStreetExists      Code = "street.exists"
	CodeCommunityExists   Code = "community.exists"

	CodeTransitionRefused Code = "order.transition-refused"
	CodeEscalationNotUp   Code = "order.escalation-not-up"
	CodeOutsideCommunity  Code = "order.member-outside-community"
	CodeNoteOnCancelled   Code = "order.cancelled"
	CodeVersionMismatch   Code = "order.version-mismatch"
	CodeInEarlierPeriod   Code = "order.in-earlier-period"
	CodeIdempotencyReused Code = "idempotency.key-reused"
	CodeConcurrentWrite   Code = "store.concurrent-write"
)

// CodeInfo documents a code: the kind of refusal (and so the HTTP status) and what it
// means, in English.
type CodeInfo struct {
	Code Code
	Kind Kind
	Doc  string
}

// Codes lists every code, in the order the documentation shows them.
var Codes = []CodeInfo{
	{CodeInvalidInput, KindInvalid, "the request's input is not valid; errors names each field at fault"},
	{CodeUnauthorized, KindUnauthorized, "no valid credentials"},
	{CodeForbidden, KindForbidden, "the caller may not do this"},
	{CodeNotFound, KindNotFound, "no such resource"},
	{CodeConflict, KindConflict, "the request conflicts with the resource's state"},
	{CodeInternal, KindInternal, "something went wrong on the server's side; it was logged"},

	{CodeTokenRequired, KindUnauthorized, "a bearer token is required"},
	{CodeTokenInvalid, KindUnauthorized, "the token is unknown, revoked or malformed"},
	{CodeSignInFailed, KindUnauthorized, "the username or the password is wrong, or the account is revoked"},
	{CodeReceiptRequired, KindUnauthorized, "a bearer token or the order's receipt is required"},
	{CodeReceiptInvalid, KindUnauthorized, "the receipt does not match the order"},

	{CodeAdminOnly, KindForbidden, "only an admin may do this"},
	{CodeLaneStewardOnly, KindForbidden, "only a steward of the order's lane may do this"},
	{CodeAssigneeOnly, KindForbidden, "only the member the order is assigned to may do this"},
	{CodeMemberOnly, KindForbidden, "only a member may claim an order"},
	{CodeCommunityOnly, KindForbidden, "only an active member of the order's community may claim it"},
	{CodeRateNotAllowed, KindForbidden, "only the resident with the receipt, or a steward of the lane after a call-back, may rate"},
	{CodeCancelNotAllowed, KindForbidden, "only a steward of the lane, or the resident while the order is open, may cancel"},
	{CodeNoteNotAllowed, KindForbidden, "only a steward of the lane or the assigned member may add notes"},
	{CodeSystemOnly, KindForbidden, "only the system marks deadlines"},
	{CodeOwnLanesOnly, KindForbidden, "a steward takes requests for their own lanes only"},
	{CodeRoleCannotSubmit, KindForbidden, "this role may not submit requests"},
	{CodeMemberGone, KindForbidden, "the member this token stands for no longer exists"},
	{CodeReadNotAllowed, KindForbidden, "the caller may not read this"},
	{CodeScheduleLaneOnly, KindForbidden, "only an admin or a steward of the lane defines or ends its schedules"},
	{CodeOfficeOnly, KindForbidden, "only the office the order is escalated to (community staff of its community at level community, street staff of its street at level street) may do this"},

	{CodeOrderNotFound, KindNotFound, "no such order"},
	{CodeLaneNotFound, KindNotFound, "no such lane"},
	{CodeStreetNotFound, KindNotFound, "no such street"},
	{CodeCommunityNotFound, KindNotFound, "no such community"},
	{CodeMemberNotFound, KindNotFound, "no such member"},
	{CodeTokenNotFound, KindNotFound, "no such token"},
	{CodeScheduleNotFound, KindNotFound, "no such schedule"},
	{CodeCampaignNotFound, KindNotFound, "no such campaign"},
	{CodeActionNotFound, KindNotFound, "no such action"},

	{CodeOrderExists, KindConflict, "the order was already submitted"},
	{CodeLaneExists, KindConflict, "a lane with this id exists"},
	{CodeStreetExists, KindConflict, "a street with this id exists"},
	{CodeCommunityExists, KindConflict, "a community with this id exists"},
	{CodeMemberExists, KindConflict, "a member with this id exists"},
	{CodeTokenExists, KindConflict, "a token with this id exists"},
	{CodeAccountExists, KindConflict, "an account with this username exists"},
	{CodeScheduleExists, KindConflict, "a schedule with this id exists"},
	{CodeCampaignExists, KindConflict, "a campaign with this id exists"},

	{CodeTransitionRefused, KindConflict, "the order's state does not allow this action now"},
	{CodeEscalationNotUp, KindConflict, "escalation only goes up: the order is at this level or above"},
	{CodeOutsideCommunity, KindInvalid, "community and street staff hand an order only to an active member of the order's community; errors names the member field"},
	{CodeNoteOnCancelled, KindConflict, "the order is cancelled: nothing more is added to it"},
	{CodeVersionMismatch, KindConflict, "If-Match named a version the order has moved past: reload it"},
	{CodeInEarlierPeriod, KindConflict, "the order was left behind in an earlier period (cancelled, or closed before the roll's grace): it is read-only now"},
	{CodeIdempotencyReused, KindConflict, "the Idempotency-Key was already used for a different request"},
	{CodeConcurrentWrite, KindConflict, "another writer changed the aggregate at the same moment: retry"},
}

// defaultCode is a kind's code when nothing more specific is said.
func defaultCode(k Kind) Code {
	switch k {
	case KindInvalid:
		return CodeInvalidInput
	case KindUnauthorized:
		return CodeUnauthorized
	case KindForbidden:
		return CodeForbidden
	case KindNotFound:
		return CodeNotFound
	case KindConflict:
		return CodeConflict
	}
	return CodeInternal
}

// Refuse returns an Error of kind k with code and a message for the caller.
func Refuse(k Kind, code Code, format string, args ...any) *Error {
	e := Errorf(k, format, args...)
	e.Code = code
	return e
}

// CodeOf returns the code of err: that of the first *Error in its chain, or its kind's
// default; CodeInternal for any other error.
func CodeOf(err error) Code {
	var e *Error
	if !asError(err, &e) {
		return CodeInternal
	}
	if e.Code != "" {
		return e.Code
	}
	return defaultCode(e.Kind)
}
