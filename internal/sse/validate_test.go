package sse

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantErr string // substring of the error; "" for valid
	}{
		{"simple", "notification", ""},
		{"dotted", "notification.read", ""},
		{"unicode", "événement-通知", ""},
		{"inner space", "a b", ""},
		{"leading space", " x", ""},
		{"replacement char", "\uFFFD", ""},
		{"at limit", strings.Repeat("a", MaxNameLen), ""},
		{"empty", "", "empty"},
		{"too long", strings.Repeat("a", MaxNameLen+1), "65 bytes, at most 64"},
		{"LF", "a\nb", "line feed (LF) at byte 1"},
		{"CR", "a\rdata: x", "carriage return (CR) at byte 1"},
		{"CRLF", "a\r\n", "carriage return (CR) at byte 1"},
		{"NUL", "\x00", "NUL byte at byte 0"},
		{"tab", "a\tb", "control character U+0009"},
		{"DEL", "a\x7f", "control character U+007F"},
		{"C1", "a\u0085", "control character U+0085"},
		{"invalid UTF-8", "a\xffb", "invalid UTF-8 at byte 1"},
		{"truncated UTF-8", "a\xe2\x82", "invalid UTF-8 at byte 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateName(tt.in)
			checkErr(t, err, tt.wantErr, ErrInvalidName)
		})
	}
}

func TestValidateID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"cursor", "0b3k.1c.0", ""},
		{"empty", "", ""},
		{"unicode", "id-ünï", ""},
		{"tab and space", " a\tb ", ""},
		{"at limit", strings.Repeat("9", MaxIDLen), ""},
		{"too long", strings.Repeat("9", MaxIDLen+1), "257 bytes, at most 256"},
		{"LF", "1\n", "line feed (LF) at byte 1"},
		{"CR", "1\r", "carriage return (CR) at byte 1"},
		{"CRLF injection", "1\r\ndata: forged", "carriage return (CR) at byte 1"},
		{"NUL", "1\x002", "NUL byte at byte 1"},
		{"invalid UTF-8", "\xc0\x80", "invalid UTF-8 at byte 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkErr(t, ValidateID(tt.in), tt.wantErr, ErrInvalidID)
		})
	}
}

func TestValidateData(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "{}", "a\r\nb\x00c", "通知 🚀"} {
		checkErr(t, ValidateData([]byte(ok)), "", ErrInvalidData)
	}
	for _, bad := range []string{"\xff", "ok\xed\xa0\x80"} { // a byte, a surrogate
		checkErr(t, ValidateData([]byte(bad)), "not valid UTF-8", ErrInvalidData)
	}
}

func checkErr(t *testing.T, err error, want string, sentinel error) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got nil error, want one containing %q", want)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %q", err, sentinel)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}
