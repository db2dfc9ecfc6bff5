package domain_test

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/redlane/redlane/domain"
)

func TestKindOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want domain.Kind
	}{
		{"nil is internal", nil, domain.KindInternal},
		{"a plain error is internal", io.EOF, domain.KindInternal},
		{"invalid", domain.Invalid("title", "is required"), domain.KindInvalid},
		{"unauthorized", domain.Errorf(domain.KindUnauthorized, "no token"), domain.KindUnauthorized},
		{"forbidden", domain.Errorf(domain.KindForbidden, "no"), domain.KindForbidden},
		{"not found", domain.Errorf(domain.KindNotFound, "no such order"), domain.KindNotFound},
		{"conflict", domain.ErrConflict, domain.KindConflict},
		{"wrapped keeps its kind", fmt.Errorf("append order 42: %w", domain.ErrConflict), domain.KindConflict},
		{"twice wrapped keeps its kind", fmt.Errorf("a: %w", fmt.Errorf("b: %w", domain.Errorf(domain.KindNotFound, "x"))), domain.KindNotFound},
		{"the first in the chain wins", fmt.Errorf("%w: %w", domain.Errorf(domain.KindForbidden, "x"), domain.ErrConflict), domain.KindForbidden},
		{"joined finds the domain error", errors.Join(io.EOF, domain.Errorf(domain.KindInvalid, "x")), domain.KindInvalid},
		{"a validator's error is invalid", func() error {
			var v domain.Validator
			v.Check(false, "f", "bad")
			return v.Err()
		}(), domain.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		kind domain.Kind
		want string
	}{
		{domain.KindInternal, "internal"},
		{domain.KindInvalid, "invalid"},
		{domain.KindUnauthorized, "unauthorized"},
		{domain.KindForbidden, "forbidden"},
		{domain.KindNotFound, "not found"},
		{domain.KindConflict, "conflict"},
		{domain.Kind(99), "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.kind.String(); got != tt.want {
				t.Errorf("Kind(%d).String() = %q, want %q", tt.kind, got, tt.want)
			}
		})
	}
}

func TestValidator(t *testing.T) {
	type check struct {
		ok           bool
		field, about string
	}
	tests := []struct {
		name    string
		checks  []check
		want    []domain.FieldError // nil: no error
		wantMsg string
	}{
		{name: "no checks is no error"},
		{name: "passing checks are no error", checks: []check{{true, "a", "x"}, {true, "b", "y"}}},
		{
			name:    "one fault names its field",
			checks:  []check{{true, "a", "x"}, {false, "b", "is required"}},
			want:    []domain.FieldError{{Field: "b", Message: "is required"}},
			wantMsg: "invalid input (b: is required)",
		},
		{
			name:    "every fault is reported in order",
			checks:  []check{{false, "title", "is required"}, {true, "x", "y"}, {false, "requester.phone", "bad"}, {false, "title", "is too long"}},
			want:    []domain.FieldError{{"title", "is required"}, {"requester.phone", "bad"}, {"title", "is too long"}},
			wantMsg: "invalid input (title: is required; requester.phone: bad; title: is too long)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v domain.Validator
			for _, c := range tt.checks {
				v.Check(c.ok, c.field, c.about)
			}
			err := v.Err()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			var de *domain.Error
			if !errors.As(err, &de) {
				t.Fatalf("Err() = %#v, want a *domain.Error", err)
			}
			if de.Kind != domain.KindInvalid {
				t.Errorf("kind = %v, want invalid", de.Kind)
			}
			if !reflect.DeepEqual(de.Fields, tt.want) {
				t.Errorf("fields = %v, want %v", de.Fields, tt.want)
			}
			if got := err.Error(); got != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", got, tt.wantMsg)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *domain.Error
		want string
	}{
		{"without fields is the message", domain.Errorf(domain.KindConflict, "cannot %s an order that is %s", "accept", "open"), "cannot accept an order that is open"},
		{"invalid names its one field", domain.Invalid("stars", "must be 1 to 5"), "invalid input (stars: must be 1 to 5)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
