package sse

import (
	"bytes"
	"strconv"
	"time"
)

// AppendEvent appends to dst one complete event: an "event: name" line
// (omitted when name is empty, which the receiver reads as "message"), one
// "data: " line per line of data, and the blank line that dispatches it.
//
// Data is split on CRLF, LF and CR, so no byte of it can end a field early.
// Every line break yields one more data line: empty data is one empty data
// line (the receiver dispatches an event whose data is ""), and a trailing
// line break is an empty last data line (the receiver keeps it). The receiver
// joins the lines with LF, so it sees data with each CRLF and CR turned into
// LF, and otherwise unchanged. Data is written verbatim; data that is not
// valid UTF-8 (see ValidateData) arrives with U+FFFD in place of the invalid
// bytes.
//
// The caller guarantees that name is empty or passes ValidateName: it is
// written verbatim, and a line break in it would inject fields into the
// stream. Event.AppendTo validates for you.
//
// AppendEvent allocates only when dst must grow. An id for the event may be
// written before the result with AppendID.
func AppendEvent(dst []byte, name string, data []byte) []byte {
	if name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	dst = appendLines(dst, "data: ", data)
	return append(dst, '\n')
}

// AppendID appends an "id: id" line to dst. It is a field, not an event: the
// server writes it immediately before the bytes of an AppendEvent, and the
// receiver assigns the id to that event (the order of fields within an event
// does not matter, so one shared AppendEvent encoding can take a different id
// on every connection). Nothing may come between the two but other fields;
// a blank line (a comment or retry block) would commit the id without the
// event.
//
// The caller guarantees that id passes ValidateID: it is written verbatim.
// The empty id is written too, as "id: ", which resets the receiver's last
// event id.
func AppendID(dst []byte, id string) []byte {
	dst = append(dst, "id: "...)
	dst = append(dst, id...)
	return append(dst, '\n')
}

// AppendRetry appends a block that sets the receiver's reconnection delay to
// d: "retry: <ms>\n" followed by a blank line. The blank line dispatches
// nothing (the block has no data), so the block stands alone: it can be
// written and flushed before the first event or between any two events,
// without touching them. d is written in whole milliseconds, truncated; a
// negative d is written as 0.
func AppendRetry(dst []byte, d time.Duration) []byte {
	dst = appendRetryField(dst, d)
	return append(dst, '\n')
}

// AppendComment appends a comment block: text split on CRLF, LF and CR, each
// line written as ": line", followed by a blank line. Receivers ignore
// comments, and text can never break out of one, so any text is safe. The
// keep-alive ping is AppendComment(dst, "ping"), that is ": ping\n\n".
//
// The blank line makes the block stand alone, like AppendRetry: written
// between events, where it belongs, it dispatches nothing and leaves the
// stream on an event boundary, also for intermediaries that parse SSE.
// Written between AppendID and AppendEvent it would commit the id without
// the event, so never write it there.
func AppendComment(dst []byte, text string) []byte {
	// The string twin of appendLines: comments are short and rare.
	for {
		i := indexBreakString(text)
		dst = append(dst, ": "...)
		if i < 0 {
			dst = append(dst, text...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, text[:i]...)
		dst = append(dst, '\n')
		text = text[i+breakLenString(text, i):]
	}
	return append(dst, '\n')
}

// appendRetryField appends "retry: <ms>\n".
func appendRetryField(dst []byte, d time.Duration) []byte {
	ms := max(d.Milliseconds(), 0)
	dst = append(dst, "retry: "...)
	dst = strconv.AppendInt(dst, ms, 10)
	return append(dst, '\n')
}

// appendLines appends prefix+line+"\n" for each line of b, where lines are
// separated by CRLF, LF or CR; b with n line breaks has n+1 lines.
//
// It finds breaks with bytes.IndexByte (vectorised) and remembers the next CR
// and LF positions, so each byte is scanned at most twice however many lines
// there are.
func appendLines(dst []byte, prefix string, b []byte) []byte {
	nextCR, nextLF := -1, -1 // next CR and LF at or after start, len(b) if none
	start := 0
	for {
		if nextCR < start {
			nextCR = indexFrom(b, start, '\r')
		}
		if nextLF < start {
			nextLF = indexFrom(b, start, '\n')
		}
		end := min(nextCR, nextLF)
		dst = append(dst, prefix...)
		dst = append(dst, b[start:end]...)
		dst = append(dst, '\n')
		if end == len(b) {
			return dst
		}
		start = end + 1
		if b[end] == '\r' && start < len(b) && b[start] == '\n' {
			start++ // CRLF is one break
		}
	}
}

// indexFrom returns the index of c in b at or after start, or len(b).
func indexFrom(b []byte, start int, c byte) int {
	if i := bytes.IndexByte(b[start:], c); i >= 0 {
		return start + i
	}
	return len(b)
}

// indexBreakString returns the index of the first CR or LF in s, or -1.
func indexBreakString(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return i
		}
	}
	return -1
}

// breakLenString returns the length of the line break at s[i]: 2 for CRLF,
// else 1.
func breakLenString(s string, i int) int {
	if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
		return 2
	}
	return 1
}
