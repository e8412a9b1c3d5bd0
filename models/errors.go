package models

import (
	"errors"
	"fmt"
)

// Code is the machine-readable kind of an error, sent as extensions.code.
type Code string

// The codes clients see.
const (
	CodeUnauthenticated Code = "UNAUTHENTICATED"
	CodeForbidden       Code = "FORBIDDEN"
	CodeNotFound        Code = "NOT_FOUND"
	CodeBadUserInput    Code = "BAD_USER_INPUT"
	CodeConflict        Code = "CONFLICT"
	CodeQuotaExceeded   Code = "QUOTA_EXCEEDED"
	CodeTooComplex      Code = "TOO_COMPLEX"
	CodeTooManyRequests Code = "TOO_MANY_REQUESTS" // too many failed logins: wait, then retry
	CodeInternal        Code = "INTERNAL_SERVER_ERROR"
)

// Error is the one error type that reaches clients: a code, a message that
// says what was wrong and what to do, and for bulk inputs the bad items.
type Error struct {
	Code    Code
	Message string
	Items   []ItemError
}

// ItemError names one bad item of an input: which, which of its fields
// (when one is to blame), and why, with the item's own code.
type ItemError struct {
	Index   int    `json:"index"`
	Field   string `json:"field,omitempty"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrNotFound) match any error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == ""
}

// Sentinels to match with errors.Is; they carry no message of their own.
var (
	ErrUnauthenticated = &Error{Code: CodeUnauthenticated}
	ErrForbidden       = &Error{Code: CodeForbidden}
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrBadUserInput    = &Error{Code: CodeBadUserInput}
	ErrConflict        = &Error{Code: CodeConflict}
)

// Errorf makes an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err, INTERNAL_SERVER_ERROR when it has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
