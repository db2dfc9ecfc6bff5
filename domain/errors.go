package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error so that an edge (HTTP, CLI) can map it to a status without
// knowing where it came from.
type Kind int

// The error kinds. The HTTP adapter maps each to one status code.
const (
	KindInternal Kind = iota
	KindInvalid
	KindUnauthorized
	KindForbidden
	KindNotFound
	KindConflict
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindUnauthorized:
		return "unauthorized"
	case KindForbidden:
		return "forbidden"
	case KindNotFound:
		return "not found"
	case KindConflict:
		return "conflict"
	default:
		return "internal"
	}
}

// FieldError names one bad field of a request and says what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a domain error: a kind, a message fit for the caller, and for invalid input the
// fields at fault.
type Error struct {
	Kind    Kind
	Code    Code // stable, for machines (codes.go); "" means the kind's default
	Message string
	Fields  []FieldError
	// Args are the facts a refusal names (an order's status, an action), by name, for
	// whoever words it in another language.
	Args map[string]string
}

// With returns e naming one more fact.
func (e *Error) With(name, value string) *Error {
	if e.Args == nil {
		e.Args = map[string]string{}
	}
	e.Args[name] = value
	return e
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Errorf returns an Error of kind k.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an invalid-input error naming one field.
func Invalid(field, message string) *Error {
	return &Error{Kind: KindInvalid, Message: "invalid input", Fields: []FieldError{{Field: field, Message: message}}}
}

// ErrConflict is the kind of error the store reports when an append's expected version
// no longer holds: another writer got there first.
var ErrConflict = &Error{Kind: KindConflict, Code: CodeConcurrentWrite, Message: "the aggregate has moved on; reload and retry"}

// KindOf returns the kind of err: the Kind of the first *Error in its chain, or
// KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if asError(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Validator gathers field errors so that a request reports all its faults at once.
type Validator struct{ fields []FieldError }

// Check records message against field when ok is false.
func (v *Validator) Check(ok bool, field, message string) {
	if !ok {
		v.fields = append(v.fields, FieldError{Field: field, Message: message})
	}
}

// Err returns the gathered faults as one invalid-input error, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Message: "invalid input", Fields: v.fields}
}

func asError(err error, e **Error) bool { return errors.As(err, e) }
