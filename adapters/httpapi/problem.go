package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/redlane/redlane/domain"
)

// problem is an RFC 9457 problem document.
type problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Code   string              `json:"code"` // why, for machines: domain.Codes, or the status's slug
	Errors []domain.FieldError `json:"errors,omitempty"`
}

// statusOf maps a domain error kind to its HTTP status: the one place that does.
func statusOf(k domain.Kind) int {
	switch k {
	case domain.KindInvalid:
		return http.StatusBadRequest
	case domain.KindUnauthorized:
		return http.StatusUnauthorized
	case domain.KindForbidden:
		return http.StatusForbidden
	case domain.KindNotFound:
		return http.StatusNotFound
	case domain.KindConflict:
		return http.StatusConflict
	default:
		return http.StatusInternalServerError
	}
}

var problemTypes = map[int]string{
	http.StatusBadRequest:            "invalid-input",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not-found",
	http.StatusMethodNotAllowed:      "method-not-allowed",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "body-too-large",
	http.StatusUnsupportedMediaType:  "unsupported-media-type",
	http.StatusTooManyRequests:       "too-many-requests",
	http.StatusInternalServerError:   "internal",
	http.StatusServiceUnavailable:    "unavailable",
}

// ProblemType is the problem type URI of a code: urn:redlane:problem:<code>.
func ProblemType(code string) string { return "urn:redlane:problem:" + code }

// httpError is an error that already knows its status (body limits, media types).
type httpError struct {
	status int
	detail string
	fields []domain.FieldError
}

func (e *httpError) Error() string { return e.detail }

func writeProblem(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := problem{Status: http.StatusInternalServerError, Detail: "something went wrong on our side; it has been logged"}
	var he *httpError
	var de *domain.Error
	switch {
	case errors.As(err, &he):
		p.Status, p.Detail, p.Errors = he.status, he.detail, he.fields
	case errors.As(err, &de) && de.Kind != domain.KindInternal:
		p.Status, p.Detail, p.Errors, p.Code = statusOf(de.Kind), de.Message, de.Fields, string(domain.CodeOf(de))
	default:
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if p.Code == "" {
		p.Code = problemTypes[p.Status]
	}
	p.Type = ProblemType(p.Code)
	p.Title = http.StatusText(p.Status)
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="redlane"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
