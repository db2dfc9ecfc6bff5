package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// The OpenAPI 3.1 document of /api/v1, served at GET /api/v1/openapi.json. Each route of
// Routes has one entry in operations (a test fails on a route without one, or an entry
// without a route), and every status a route answers is listed there (the tests check
// the answers they record against it).

// op documents one operation.
type op struct {
	summary string
	tag     string
	auth    string   // who may call it, in words; "" for anyone
	body    string   // the request body's schema, or ""
	ok      int      // the status of success
	okBody  string   // its body's schema, or "" (none)
	errs    []int    // the problem statuses it may answer
	params  []string // query parameters
	headers []string // request headers it reads
}

// The statuses most routes may answer besides their own.
var (
	readErrs  = []int{400, 401, 403, 404, 405, 429, 500, 503}
	writeErrs = []int{400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503}
)

var operations = map[string]op{
	"GET /healthz":             {summary: "The process is up", tag: "health", ok: 200, okBody: "Status"},
	"GET /readyz":              {summary: "Ready to serve: NATS reachable, the log whole, the views caught up; \"degraded\" when events Redlane did not sign were set aside", tag: "health", ok: 200, okBody: "Status", errs: []int{503}},
	"GET /metrics":             {summary: "Prometheus metrics (text format)", tag: "health", ok: 200},
	"GET /api/v1/openapi.json": {summary: "This document", tag: "health", ok: 200},

	"POST /api/v1/tokens":        {summary: "Issue a token; its secret is shown once", tag: "access", auth: "admin", body: "TokenIssue", ok: 201, okBody: "TokenIssued", errs: writeErrs},
	"DELETE /api/v1/tokens/{id}": {summary: "Revoke a token at once", tag: "access", auth: "admin", ok: 204, errs: writeErrs},

	"POST /api/v1/accounts":                    {summary: "Open a person's account: a username and a password (kept only as a slow salted hash, outside the log)", tag: "access", auth: "admin", body: "AccountCreate", ok: 201, okBody: "Account", errs: writeErrs},
	"GET /api/v1/accounts":                     {summary: "List the accounts", tag: "access", auth: "admin", ok: 200, okBody: "Items", errs: readErrs},
	"PUT /api/v1/accounts/{username}/password": {summary: "Give an account a new password", tag: "access", auth: "admin", body: "Password", ok: 204, errs: writeErrs},
	"DELETE /api/v1/accounts/{username}":       {summary: "Revoke an account: it signs in no more, its sessions end at once", tag: "access", auth: "admin", ok: 204, errs: writeErrs},
	"POST /api/v1/sessions":                    {summary: "Sign in with a username and password: a session token to send as Authorization: Bearer; a wrong pair is 401, repeated failures 429", tag: "access", body: "SignIn", ok: 201, okBody: "Session", errs: []int{400, 401, 404, 405, 413, 415, 429, 500, 503}},
	"DELETE /api/v1/sessions/current":          {summary: "Sign out: the bearer session ends at once", tag: "access", auth: "a session token", ok: 204, errs: []int{401, 405, 500, 503}},

	"POST /api/v1/streets":     {summary: "Register a street office (街道) with its name", tag: "places", auth: "admin", body: "Street", ok: 201, okBody: "Street", errs: writeErrs},
	"GET /api/v1/streets":      {summary: "List the street offices", tag: "places", auth: "any token", ok: 200, okBody: "Items", errs: readErrs},
	"POST /api/v1/communities": {summary: "Register a community (社区) with its name, in a registered street", tag: "places", auth: "admin", body: "Community", ok: 201, okBody: "Community", errs: writeErrs},
	"GET /api/v1/communities":  {summary: "List the communities", tag: "places", auth: "any token", ok: 200, okBody: "Items", errs: readErrs},

	"POST /api/v1/lanes":   {summary: "Register a lane", tag: "places", auth: "admin", body: "Lane", ok: 201, okBody: "Lane", errs: writeErrs},
	"GET /api/v1/lanes":    {summary: "List the lanes", tag: "places", auth: "any token", ok: 200, okBody: "Items", errs: readErrs},
	"POST /api/v1/members": {summary: "Register a member", tag: "places", auth: "admin", body: "Member", ok: 201, okBody: "Member", errs: writeErrs},
	"GET /api/v1/members":  {summary: "List the members; a phone only to the admin, the member and stewards of lanes in their community", tag: "places", auth: "any token", ok: 200, okBody: "Items", errs: readErrs},
	"PUT /api/v1/members/{id}": {summary: "Change a member's profile, whole (name, community, phone, skills, teams): what is left out is gone", tag: "places",
		auth: "admin", body: "Member", ok: 200, okBody: "Member", errs: writeErrs},
	"GET /api/v1/categories": {summary: "The category catalogue: each category's deadlines (minutes) and the questions intake asks (Open311 datatypes)", tag: "places", ok: 200, okBody: "Items", errs: readErrs},
	"PUT /api/v1/categories/{code}": {summary: "Define a category, or change one whole: it overrides the default catalogue's category of its code, or adds one; zero deadlines are the defaults", tag: "places",
		auth: "admin", body: "CategoryDefine", ok: 200, okBody: "Category", errs: writeErrs},

	"POST /api/v1/orders": {summary: "Place a request (no token: a resident, limited per address)", tag: "orders", body: "OrderSubmit", ok: 201, okBody: "Order",
		errs: writeErrs, headers: []string{"Idempotency-Key"}},
	"GET /api/v1/orders/{id}": {summary: "An order; the requester's phone masked but for the lane's stewards and the assigned member. Community and street staff read the orders of their places that are or were escalated to their level", tag: "orders",
		auth: "a token, or the order's receipt (X-Receipt)", ok: 200, okBody: "Order", errs: readErrs, headers: []string{"X-Receipt"}},
	"GET /api/v1/orders/{id}/events": {summary: "An order's events, in order; those Redlane did not sign marked \"rejected\"", tag: "orders",
		auth: "auditor, the lane's steward", ok: 200, okBody: "Items", errs: readErrs},
	"POST /api/v1/orders/{id}/{action}": {summary: "An action on an order: dispatch, claim, reassign, accept, decline, complete, rate, cancel, escalate, reopen, note, return, close. " +
		"The office an order is escalated to (community staff of its community at level community, street staff of its street at level street) dispatches and reassigns it within its community, escalates it (community to street), " +
		"sends it back down one level (return {reason}: street to community, community to lane) and closes it (close {reason}: it ends cancelled)", tag: "orders",
		auth: "by action and role; rate and cancel also by receipt", body: "Action", ok: 200, okBody: "Order", errs: writeErrs, headers: []string{"If-Match", "X-Receipt"}},
	"GET /api/v1/audit/orders/{id}": {summary: "An order's story: who did what, when, in which role; its state as of a moment", tag: "audit",
		auth: "auditor, the lane's steward", ok: 200, okBody: "Story", errs: readErrs, params: []string{"as_of", "format"}},

	"POST /api/v1/receipts/lookup": {summary: "Find an order's receipt again by its number and the phone given with it; an unknown number and a wrong phone are the same 404; limited per client address", tag: "orders",
		body: "ReceiptLookup", ok: 200, okBody: "ReceiptFound", errs: []int{400, 401, 404, 405, 413, 415, 429, 500}},
	"GET /api/v1/orders": {summary: "Search the orders the caller may read, newest first, paged by cursor; q matches number and title, from/to bound the submission time. " +
		"With escalation=community|street it is an office's board instead (an EscalationPage): the unfinished orders escalated to that level in the caller's communities or streets, most urgent first (sort=age: oldest first), " +
		"narrowed by community=, street= (the caller's own; another's is 403) and status=, paged by limit and cursor", tag: "orders",
		auth: "steward (their lanes), operator, auditor, admin, community and street staff (what reached them); a board: community staff (escalation=community), street staff (escalation=street), auditor, admin", ok: 200, okBody: "SearchPage", errs: readErrs,
		params: []string{"lane", "community", "street", "status", "category", "from", "to", "q", "escalation", "sort", "limit", "cursor"}},
	"GET /api/v1/lanes/{lane}/backlog": {summary: "A lane's backlog: exact counts and one page, most urgent first by default; completed orders left unrated past --callback-after are on the call-back list (status=callback)", tag: "views",
		auth: "the lane's steward, auditor", ok: 200, okBody: "Backlog", errs: readErrs,
		params: []string{"status", "overdue", "category", "assignee", "sort", "limit", "cursor"}},
	"GET /api/v1/members/{id}/record": {summary: "A member's service record for a month, with one page of the events that made it (events_page, from 0; default the newest)", tag: "views", auth: "the member, stewards, auditor", ok: 200, okBody: "Record", errs: readErrs, params: []string{"period", "events_page"}},
	"GET /api/v1/evaluations":         {summary: "Members ranked by points for a month", tag: "views", auth: "any token", ok: 200, okBody: "Items", errs: readErrs, params: []string{"community", "team", "period"}},
	"GET /api/v1/feed":                {summary: "The linkage feed: no names of residents, no phones", tag: "views", ok: 200, okBody: "Items", errs: readErrs, params: []string{"lane", "community", "dimension", "after", "limit"}},
	"GET /api/v1/feed/stream":         {summary: "The linkage feed live, as Server-Sent Events (Last-Event-ID resumes)", tag: "views", ok: 200, errs: readErrs, params: []string{"lane", "community", "dimension", "after"}},
	"GET /api/v1/reports/monthly":     {summary: "A community's monthly report", tag: "views", auth: "steward, auditor, admin", ok: 200, okBody: "Report", errs: readErrs, params: []string{"community", "period"}},

	"POST /api/v1/schedules":        {summary: "Define a periodic service", tag: "desk", auth: "steward, admin", body: "Schedule", ok: 201, okBody: "Schedule", errs: writeErrs},
	"GET /api/v1/schedules":         {summary: "List the periodic services", tag: "desk", auth: "steward, auditor, admin", ok: 200, okBody: "Items", errs: readErrs},
	"DELETE /api/v1/schedules/{id}": {summary: "End a periodic service", tag: "desk", auth: "steward, admin", ok: 204, errs: writeErrs},
	"POST /api/v1/campaigns":        {summary: "Launch a thematic campaign", tag: "desk", auth: "steward, admin", body: "Campaign", ok: 201, okBody: "Campaign", errs: writeErrs},
	"GET /api/v1/campaigns":         {summary: "List the campaigns", tag: "desk", auth: "any token", ok: 200, okBody: "Items", errs: readErrs},
	"DELETE /api/v1/campaigns/{id}": {summary: "End a campaign", tag: "desk", auth: "steward, admin", ok: 204, errs: writeErrs},
	"POST /api/v1/privacy/erase":    {summary: "Forget a resident (phone): their name and phone become unreadable everywhere; or a member's phone (member)", tag: "privacy", auth: "admin", body: "Erase", ok: 200, okBody: "Status", errs: writeErrs},
}

// obj is a JSON schema of an object with the given properties (name → type or $ref).
func obj(props map[string]any, required ...string) map[string]any {
	p := map[string]any{}
	for k, v := range props {
		switch t := v.(type) {
		case string:
			if strings.HasPrefix(t, "#") {
				p[k] = map[string]any{"$ref": "#/components/schemas/" + t[1:]}
			} else {
				p[k] = map[string]any{"type": t}
			}
		default:
			p[k] = t
		}
	}
	s := map[string]any{"type": "object", "properties": p}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func refArray(schema string) map[string]any {
	return map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/" + schema}}
}

func arrayOf(t string) map[string]any {
	return map[string]any{"type": "array", "items": map[string]any{"type": t}}
}

var schemas = map[string]any{
	"Problem": obj(map[string]any{"type": "string", "title": "string", "status": "integer", "detail": "string", "code": "string",
		"errors": map[string]any{"type": "array", "items": obj(map[string]any{"field": "string", "message": "string"}, "field", "message")}}, "type", "title", "status", "code"),
	"Status": obj(map[string]any{"status": "string", "reason": "string"}, "status"),
	"Items":  obj(map[string]any{"items": map[string]any{"type": "array"}, "next_cursor": map[string]any{"type": []string{"string", "null"}}}, "items"),
	"TokenIssue": obj(map[string]any{"role": map[string]any{"enum": []string{"admin", "steward", "member", "operator", "auditor", "community", "street"}}, "lanes": arrayOf("string"), "member": "string", "name": "string",
		"communities": arrayOf("string"), "streets": arrayOf("string")}, "role", "name"),
	"TokenIssued": obj(map[string]any{"id": "string", "token": "string", "role": "string", "lanes": arrayOf("string"), "member": "string", "name": "string",
		"communities": arrayOf("string"), "streets": arrayOf("string")}, "id", "token"),
	"AccountCreate": obj(map[string]any{"username": "string", "password": "string", "name": "string", "role": map[string]any{"enum": []string{"admin", "steward", "member", "operator", "auditor", "community", "street"}}, "lanes": arrayOf("string"), "member": "string",
		"communities": arrayOf("string"), "streets": arrayOf("string")}, "username", "password", "role"),
	"Account": obj(map[string]any{"id": "string", "username": "string", "name": "string", "role": "string", "lanes": arrayOf("string"), "member": "string",
		"communities": arrayOf("string"), "streets": arrayOf("string"), "revoked": "boolean"},
		"id", "username", "role"),
	"Password": obj(map[string]any{"password": "string"}, "password"),
	"SignIn":   obj(map[string]any{"username": "string", "password": "string"}, "username", "password"),
	"Session": obj(map[string]any{"token": "string", "expires_at": map[string]any{"type": "string", "format": "date-time"},
		"account": obj(map[string]any{"username": "string", "name": "string", "role": "string"})}, "token", "expires_at"),
	"Street":    obj(map[string]any{"id": "string", "name": "string"}, "id", "name"),
	"Community": obj(map[string]any{"id": "string", "name": "string", "street": "string"}, "id", "name", "street"),
	"Lane": obj(map[string]any{"id": "string", "name": "string", "community": "string", "street": "string", "station": "string", "address": "string", "community_name": "string", "street_name": "string",
		"point": obj(map[string]any{"lat": "number", "long": "number"}, "lat", "long")}, "id", "name"),
	"Member": obj(map[string]any{"id": "string", "name": "string", "community": "string", "community_name": "string", "active": "boolean",
		"phone":  map[string]any{"type": "string", "description": "written as people write numbers, stored normalised and sealed; shown only to the admin, the member and stewards of lanes in their community"},
		"skills": arrayOf("string"), "teams": arrayOf("string")}, "id", "name"),
	"Requester": obj(map[string]any{"name": "string", "phone": "string", "erased": "boolean"}),
	"Address":   obj(map[string]any{"building": "string", "unit": "string", "door": "string"}),
	"OrderSubmit": obj(map[string]any{"lane": "string", "category": "string", "title": "string", "description": "string", "requester": "#Requester", "address": "#Address",
		"mode": map[string]any{"enum": []string{"instant", "thematic", "periodic"}}, "channel": map[string]any{"enum": []string{"station", "hotline", "terminal", "web", "open311"}},
		"priority": map[string]any{"enum": []string{"normal", "urgent"}},
		"answers": map[string]any{"type": "object", "description": "answers to the category's questions by question code: a string, a number, or a list of a multivaluelist's keys",
			"additionalProperties": map[string]any{"type": []string{"string", "number", "array"}}}}, "lane", "category", "title", "requester"),
	"Order": obj(map[string]any{"id": "string", "number": "string", "lane": "string", "community": "string", "street": "string", "category": "string",
		"title": "string", "description": "string", "requester": "#Requester", "address": "#Address", "mode": "string", "channel": "string", "priority": "string", "status": "string",
		"assignee": map[string]any{"type": []string{"string", "null"}}, "escalation": "string", "overdue": "boolean", "version": "integer",
		"rating": map[string]any{"type": []string{"object", "null"}}, "submitted_at": "string", "updated_at": "string", "accept_by": "string",
		"complete_by": "string", "receipt": "string",
		"answers": map[string]any{"type": "array", "items": obj(map[string]any{"code": "string", "question": "string", "values": arrayOf("string"), "answer": "string"}, "code", "question", "values", "answer")}},
		"id", "number", "status", "version"),
	"Deadlines": obj(map[string]any{"accept_minutes": "integer", "complete_minutes": "integer"}),
	"Question": obj(map[string]any{"code": "string", "description": "string", "required": "boolean",
		"datatype": map[string]any{"enum": []string{"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}},
		"values":   map[string]any{"type": "array", "items": obj(map[string]any{"key": "string", "name": "string"}, "key", "name")}}, "code", "description", "datatype"),
	"CategoryDefine": obj(map[string]any{"name": "string", "skills": arrayOf("string"), "normal": "#Deadlines", "urgent": "#Deadlines", "questions": refArray("Question")}, "name"),
	"Category": obj(map[string]any{"code": "string", "name": "string", "skills": arrayOf("string"), "normal": "#Deadlines", "urgent": "#Deadlines", "questions": refArray("Question")},
		"code", "name", "skills", "normal", "urgent", "questions"),
	"Action": obj(map[string]any{"member": "string", "reason": "string", "note": "string", "minutes": "integer", "solved": "boolean", "stars": "integer",
		"comment": "string", "receipt": "string", "level": map[string]any{"enum": []string{"community", "street"}}, "text": "string", "internal": "boolean"}),
	"Story": obj(map[string]any{"order": "string", "as_of": map[string]any{"type": []string{"string", "null"}}, "seq": "integer", "state": map[string]any{"type": []string{"object", "null"}}, "events": map[string]any{"type": "array"}, "later": "integer"}, "order", "events"),
	"Backlog": obj(map[string]any{"lane": "string", "name": "string", "community": "string", "street": "string", "community_name": "string", "street_name": "string",
		"counts": obj(map[string]any{"open": "integer", "dispatched": "integer", "accepted": "integer", "completed": "integer", "callback": "integer", "overdue": "integer", "live": "integer"}),
		"items":  refArray("BacklogItem"), "next_cursor": "string", "sort": "string", "as_of": "string", "seq": "integer", "callback_after_hours": "number"}, "lane", "counts", "items", "next_cursor"),
	"BacklogItem": obj(map[string]any{"id": "string", "number": "string", "title": "string", "category": "string", "priority": "string", "status": "string",
		"assignee": "string", "escalation": "string", "submitted_at": "string", "accept_by": "string", "complete_by": "string", "completed_at": "string",
		"overdue": "boolean", "callback": "boolean", "returned": "boolean", "lane": "string", "community": "string", "street": "string", "age_seconds": "integer", "theme": "string",
		"escalated_at": "string", "escalation_reason": "string", "sent_back": "boolean", "reached": "string",
		"lane_name": "string", "community_name": "string", "street_name": "string"}, "id", "status"),
	"ReceiptLookup": obj(map[string]any{"number": "string", "phone": "string"}, "number", "phone"),
	"ReceiptFound":  obj(map[string]any{"id": "string", "number": "string", "receipt": "string"}, "id", "number", "receipt"),
	"SearchPage":    obj(map[string]any{"items": refArray("BacklogItem"), "next_cursor": "string", "as_of": "string", "covers_since": "string", "escalation": "string", "total": "integer", "sort": "string", "seq": "integer"}, "items", "next_cursor"),
	"Record":        obj(map[string]any{"member": "string", "period": "string", "dispatched": "integer", "accepted": "integer", "declined": "integer", "completed": "integer", "minutes": "integer", "ratings": "integer", "mean_stars": "number", "on_time_rate": "number", "points": "integer", "event_pages": "integer", "events_page": "integer"}, "member", "period"),
	"Report":        obj(map[string]any{"community": "string", "period": "string", "orders": "integer", "response_rate": "number", "resolution_rate": "number", "satisfaction_rate": "number", "by_category": map[string]any{}, "by_lane": map[string]any{}, "feed_by_dimension": map[string]any{}}, "community", "period"),
	"Schedule":      obj(map[string]any{"id": "string", "lane": "string", "category": "string", "title": "string", "every": "string", "start": "string"}),
	"Campaign":      obj(map[string]any{"id": "string", "community": "string", "theme": "string", "categories": arrayOf("string"), "from": "string", "until": "string"}),
	"Erase": obj(map[string]any{"phone": map[string]any{"type": "string", "description": "a resident's phone: their key is destroyed"},
		"member": map[string]any{"type": "string", "description": "a member's id: the key of their phone is destroyed"}}),
}

var (
	openAPIOnce sync.Once
	openAPIDoc  map[string]any
)

// OpenAPI returns the document.
func OpenAPI() map[string]any {
	openAPIOnce.Do(func() {
		paths := map[string]any{}
		for pattern, o := range operations {
			method, path, _ := strings.Cut(pattern, " ")
			item, _ := paths[path].(map[string]any)
			if item == nil {
				item = map[string]any{}
				paths[path] = item
			}
			var params []any
			for _, seg := range strings.Split(path, "/") {
				if strings.HasPrefix(seg, "{") {
					params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
				}
			}
			for _, q := range o.params {
				params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
			}
			for _, h := range o.headers {
				params = append(params, map[string]any{"name": h, "in": "header", "schema": map[string]any{"type": "string"}})
			}
			responses := map[string]any{}
			okResp := map[string]any{"description": http.StatusText(o.ok)}
			if o.okBody != "" {
				okResp["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + o.okBody}}}
			}
			responses[strconv.Itoa(o.ok)] = okResp
			for _, code := range o.errs {
				responses[strconv.Itoa(code)] = map[string]any{"description": http.StatusText(code),
					"content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
			}
			operation := map[string]any{"summary": o.summary, "tags": []string{o.tag}, "responses": responses,
				"operationId": strings.ToLower(method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_", "-", "_").Replace(path)}
			if len(params) > 0 {
				operation["parameters"] = params
			}
			if o.auth != "" {
				operation["description"] = "Who may call it: " + o.auth + "."
				operation["security"] = []any{map[string]any{"bearer": []string{}}}
			}
			if o.body != "" {
				operation["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + o.body}}}}
			}
			item[strings.ToLower(method)] = operation
		}
		openAPIDoc = map[string]any{
			"openapi": "3.1.0",
			"info": map[string]any{"title": "Redlane", "version": "1",
				"description": "Work orders for neighbourhood services, event-sourced on NATS JetStream. Errors are application/problem+json (RFC 9457)."},
			"paths": paths,
			"components": map[string]any{"schemas": schemas,
				"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
		}
	})
	return openAPIDoc
}

// Documented reports whether the document lists status for the route pattern.
func Documented(pattern string, status int) bool {
	o, ok := operations[pattern]
	if !ok {
		return false
	}
	if status == o.ok || status == 405 || status == 429 {
		return true
	}
	for _, c := range o.errs {
		if c == status {
			return true
		}
	}
	return false
}

// DocumentedPatterns lists the route patterns the document holds.
func DocumentedPatterns() []string {
	out := make([]string, 0, len(operations))
	for p := range operations {
		out = append(out, p)
	}
	return out
}

func (a *API) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, OpenAPI())
}
