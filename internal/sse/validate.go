package sse

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Limits on what ValidateName and ValidateID accept, in bytes.
const (
	MaxNameLen = 64
	MaxIDLen   = 256
)

// Errors returned (wrapped, with the detail) by the validators; test with
// errors.Is.
var (
	ErrInvalidName = errors.New("invalid event name")
	ErrInvalidID   = errors.New("invalid event id")
	ErrInvalidData = errors.New("invalid event data")
)

// ValidateName reports whether name can be written as an "event:" field and
// read back unchanged: it must be non-empty, at most MaxNameLen bytes of valid
// UTF-8, and free of control characters (CR, LF, NUL, the rest of C0, DEL and
// C1). The error wraps ErrInvalidName and names the problem.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: %d bytes, at most %d allowed", ErrInvalidName, len(name), MaxNameLen)
	}
	for i, r := range name {
		if r == utf8.RuneError && !validRuneAt(name, i) {
			return fmt.Errorf("%w: invalid UTF-8 at byte %d", ErrInvalidName, i)
		}
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: contains %s at byte %d", ErrInvalidName, describe(r), i)
		}
	}
	return nil
}

// ValidateID reports whether id can be written as an "id:" field and read
// back unchanged: at most MaxIDLen bytes of valid UTF-8 without CR, LF or NUL
// (a receiver ignores an id containing NUL). The empty id is valid; written
// with AppendID it resets the receiver's last event id. The error wraps
// ErrInvalidID and names the problem.
func ValidateID(id string) error {
	if len(id) > MaxIDLen {
		return fmt.Errorf("%w: %d bytes, at most %d allowed", ErrInvalidID, len(id), MaxIDLen)
	}
	for i, r := range id {
		switch {
		case r == utf8.RuneError && !validRuneAt(id, i):
			return fmt.Errorf("%w: invalid UTF-8 at byte %d", ErrInvalidID, i)
		case r == '\r' || r == '\n' || r == 0:
			return fmt.Errorf("%w: contains %s at byte %d", ErrInvalidID, describe(r), i)
		}
	}
	return nil
}

// ValidateData reports whether data arrives byte for byte (line breaks
// aside, see the package doc) at a receiver, which decodes the stream as
// UTF-8: it must be valid UTF-8. Any byte value is otherwise allowed, since
// AppendEvent splits data on its line breaks. The error wraps ErrInvalidData.
func ValidateData(data []byte) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidData)
	}
	return nil
}

// validRuneAt tells a U+FFFD written in s (valid) from the RuneError that
// ranging over s yields for an invalid byte.
func validRuneAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size > 1
}

// describe names a control character for an error message.
func describe(r rune) string {
	switch r {
	case '\r':
		return "a carriage return (CR)"
	case '\n':
		return "a line feed (LF)"
	case 0:
		return "a NUL byte"
	}
	return fmt.Sprintf("control character %U", r)
}
