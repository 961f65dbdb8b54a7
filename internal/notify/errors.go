package notify

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers that must map it to a protocol status
// (HTTP, SQS redelivery). The mapping lives in exactly one place per adapter.
type Code string

// Error codes. Adapters map them to statuses; they never inspect messages.
const (
	CodeInvalid     Code = "invalid"      // bad input; Message names the field
	CodeNotFound    Code = "not_found"    // no such resource for this user
	CodeUnavailable Code = "unavailable"  // a dependency is down; retry later
	CodeInternal    Code = "internal"     // a bug or an unexpected failure
	CodeTooLarge    Code = "too_large"    // request body over the limit
	CodeConflict    Code = "conflict"     // state does not allow the operation
	CodeLimited     Code = "limited"      // a per-user limit is reached; retry later
	CodeUnauth      Code = "unauthorized" // missing, invalid or expired credentials
)

// Error is a domain error: a code plus a message safe to show to the caller.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is returned by stores for a notification that does not exist or
// belongs to another user; callers must not be able to tell the two apart.
var ErrNotFound = &Error{Code: CodeNotFound, Message: "notification not found"}

// ErrTooManyTickets is returned by Store.CreateTicket for a user who holds
// as many unused, unexpired stream tickets as allowed.
var ErrTooManyTickets = &Error{Code: CodeLimited, Message: "too many unused stream tickets"}

// ErrorCode returns the code of the first *Error in err's chain, CodeInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the caller-safe message of err: the message of its
// *Error, or a generic text for internal errors (whose details belong in logs).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
