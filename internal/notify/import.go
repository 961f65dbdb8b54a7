package notify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Limits of one import request (SPEC 6, POST /api/admin/import). They are
// part of the public contract: `herald import` splits a file to stay within
// them.
const (
	MaxImportLines     = 10000
	MaxImportBytes     = 16 << 20
	MaxImportLineBytes = 64 << 10 // a line is one publish body (SPEC 5: 64 KiB)
	// MaxImportSkew is how far in the future createdAt and readAt may lie:
	// the clock skew between the host application and Herald.
	MaxImportSkew = 5 * time.Minute
	// maxLineErrors bounds the bad lines an ImportError lists.
	maxLineErrors = 100
)

// ImportLine is one line of an import (SPEC 6): a notification body for
// one userId, as published (POST /api/publish/notifications), plus its
// importId, createdAt and readAt. Times are RFC 3339 strings, parsed by
// Validate so that a bad one is reported by name.
type ImportLine struct {
	Publication
	ImportID  string  `json:"importId"`
	CreatedAt string  `json:"createdAt"`
	ReadAt    *string `json:"readAt"`
}

// ImportedNotification is a notification to import: its content, recipient
// (UserID, never BroadcastStream), CreatedAt, ReadAt (nil: unread), an ID
// (given by Service.Import), and the ImportID that makes it idempotent.
type ImportedNotification struct {
	Notification
	ImportID string
}

// ImportInput is what Store.Import stores.
type ImportInput struct {
	Notifications []ImportedNotification
}

// Check reports what makes in unfit for Store.Import: no notification, or
// one without ID, ImportID or user.
func (in ImportInput) Check() error {
	if len(in.Notifications) == 0 {
		return Errorf(CodeInvalid, "notifications: at least one is required")
	}
	for i, n := range in.Notifications {
		switch {
		case n.ID == "":
			return Errorf(CodeInvalid, "notifications[%d]: id required", i)
		case n.ImportID == "":
			return Errorf(CodeInvalid, "notifications[%d]: importId required", i)
		case n.UserID == BroadcastStream:
			return Errorf(CodeInvalid, "notifications[%d]: a user is required", i)
		}
	}
	return nil
}

// ImportOutput is the result of Store.Import.
type ImportOutput struct {
	// Imported counts the notifications stored; Skipped those whose
	// ImportID had been imported before.
	Imported, Skipped int
	// Events are the notification events of the stored notifications, in
	// stream order, Counted.
	Events []Event
}

// ImportResult is the answer to an import request (SPEC 6).
type ImportResult struct {
	Imported int `json:"imported"`
	Skipped  int `json:"skipped"`
}

// Validate checks l against SPEC 6 at time now and returns the
// notification it describes (without ID). createdAt must lie within
// retention before now (0: any past time), since an older notification
// would be deleted at once, and neither time more than MaxImportSkew after
// now. The error is of CodeInvalid and its message starts with the name of
// the field at fault.
func (l *ImportLine) Validate(now time.Time, retention time.Duration) (ImportedNotification, error) {
	switch {
	case l.UserIDs != nil || l.Broadcast:
		return ImportedNotification{}, Errorf(CodeInvalid, "userId: an import line is for exactly one userId (no userIds or broadcast)")
	case l.UserID == "":
		return ImportedNotification{}, Errorf(CodeInvalid, "userId: required")
	}
	if err := l.Publication.Validate(); err != nil {
		return ImportedNotification{}, err
	}
	switch {
	case l.IdempotencyKey != "":
		return ImportedNotification{}, Errorf(CodeInvalid, "idempotencyKey: not used by import: importId is the key")
	case l.ImportID == "":
		return ImportedNotification{}, Errorf(CodeInvalid, "importId: required")
	case !validKey(l.ImportID):
		return ImportedNotification{}, Errorf(CodeInvalid, "importId: must be at most %d bytes without control characters", MaxKeyBytes)
	}
	created, err := importTime("createdAt", l.CreatedAt, now)
	if err != nil {
		return ImportedNotification{}, err
	}
	if retention > 0 && created.Before(now.Add(-retention)) {
		return ImportedNotification{}, Errorf(CodeInvalid,
			"createdAt: older than the retention (HERALD_RETENTION, %s): it would be deleted at once", formatDays(retention))
	}
	n := ImportedNotification{ImportID: l.ImportID, Notification: Notification{
		UserID: l.UserID, Type: l.Type, Title: l.Title, Message: l.Message, Data: l.Data,
		Link: l.Link, CollapseKey: l.CollapseKey, CreatedAt: created,
	}}
	if l.ReadAt != nil {
		read, err := importTime("readAt", *l.ReadAt, now)
		if err != nil {
			return ImportedNotification{}, err
		}
		if read.Before(created) {
			return ImportedNotification{}, Errorf(CodeInvalid, "readAt: before createdAt")
		}
		n.ReadAt = &read
	}
	return n, nil
}

// importTime parses an RFC 3339 time of an import line, in UTC at the
// stores' precision.
func importTime(field, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, Errorf(CodeInvalid, "%s: required", field)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, Errorf(CodeInvalid, "%s: must be an RFC 3339 time such as 2024-05-01T12:00:00Z", field)
	}
	if t.After(now.Add(MaxImportSkew)) {
		return time.Time{}, Errorf(CodeInvalid, "%s: in the future", field)
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// formatDays writes d in days when it is a whole number of them.
func formatDays(d time.Duration) string {
	const day = 24 * time.Hour
	if d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// ParseImportLine decodes one line of an import as strictly as a publish
// body (no unknown field, nothing after the object) and validates it (see
// ImportLine.Validate). The error is of CodeInvalid and names the field.
func ParseImportLine(line []byte, now time.Time, retention time.Duration) (ImportedNotification, error) {
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return ImportedNotification{}, Errorf(CodeInvalid, "line: must be a JSON object")
	}
	var l ImportLine
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return ImportedNotification{}, lineDecodeError(err)
	}
	if dec.More() || dec.InputOffset() != int64(len(trimmed)) {
		return ImportedNotification{}, Errorf(CodeInvalid, "line: unexpected data after the JSON object")
	}
	return l.Validate(now, retention)
}

// lineDecodeError turns an encoding/json error into one naming the field.
func lineDecodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return Errorf(CodeInvalid, "%s: wrong type (%s)", typeErr.Field, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return Errorf(CodeInvalid, "line: malformed JSON at offset %d", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(CodeInvalid, "line: truncated JSON")
	}
	if _, name, ok := strings.Cut(err.Error(), "unknown field "); ok {
		name = strings.Trim(name, `"`)
		if len(name) > MaxEventNameLen {
			name = name[:MaxEventNameLen] + "…"
		}
		return Errorf(CodeInvalid, "%s: unknown field", name)
	}
	return Errorf(CodeInvalid, "line: malformed JSON")
}

// LineError is one bad line of an import: its number (from 1) in the body,
// the field at fault ("line" for the line as a whole) and what is wrong.
type LineError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ImportError reports the bad lines of an import body: at most 100 of them,
// and how many there were in all. It unwraps to an *Error of CodeInvalid
// whose message names the first bad line, its field and the count.
type ImportError struct {
	Lines []LineError
	Total int
}

func (e *ImportError) Error() string { return e.Unwrap().Error() }

// Unwrap returns the caller-safe summary.
func (e *ImportError) Unwrap() error {
	if len(e.Lines) == 0 {
		return Errorf(CodeInvalid, "body: bad lines")
	}
	first := e.Lines[0]
	msg := fmt.Sprintf("line %d: %s: %s", first.Line, first.Field, first.Message)
	if e.Total > 1 {
		msg += fmt.Sprintf(" (and %d more bad lines)", e.Total-1)
	}
	return &Error{Code: CodeInvalid, Message: msg}
}

// add records that line is bad with err.
func (e *ImportError) add(line int, err error) {
	e.Total++
	if len(e.Lines) == maxLineErrors {
		return
	}
	field, msg, ok := strings.Cut(ErrorMessage(err), ": ")
	if !ok {
		field, msg = "line", field
	}
	e.Lines = append(e.Lines, LineError{Line: line, Field: field, Message: msg})
}

// ReadImport reads an import body (JSON Lines: one object per line, blank
// lines ignored) of at most MaxImportLines lines with an object and
// MaxImportBytes, and parses every line (ParseImportLine). It returns the
// notifications in order when every line is good; otherwise an
// *ImportError listing the bad lines, so that nothing of a bad body is
// stored. A body over the limits is an error of CodeTooLarge, and one with
// the same importId on two lines is invalid (the second line is named).
func ReadImport(body io.Reader, now time.Time, retention time.Duration) ([]ImportedNotification, error) {
	lr := NewLineReader(io.LimitReader(body, MaxImportBytes+1), MaxImportLineBytes)
	var (
		out  []ImportedNotification
		bad  ImportError
		seen = make(map[string]int)
	)
	for {
		n, line, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if lr.Bytes() > MaxImportBytes {
			return nil, Errorf(CodeTooLarge, "body: must be at most %d bytes", MaxImportBytes)
		}
		if errors.Is(err, ErrLineTooLong) {
			bad.add(n, Errorf(CodeInvalid, "line: longer than %d bytes", MaxImportLineBytes))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if lr.Records() > MaxImportLines {
			return nil, Errorf(CodeTooLarge, "body: must hold at most %d lines", MaxImportLines)
		}
		imp, err := ParseImportLine(line, now, retention)
		if err != nil {
			bad.add(n, err)
			continue
		}
		if first, ok := seen[imp.ImportID]; ok {
			bad.add(n, Errorf(CodeInvalid, "importId: repeats line %d", first))
			continue
		}
		seen[imp.ImportID] = n
		out = append(out, imp)
	}
	if bad.Total > 0 {
		return nil, &bad
	}
	if len(out) == 0 {
		return nil, Errorf(CodeInvalid, "body: no notification to import")
	}
	return out, nil
}

// ErrLineTooLong is returned by LineReader.Next for a line over its limit;
// the reader skips the rest of the line and goes on with the next.
var ErrLineTooLong = errors.New("line too long")

// LineReader reads lines of at most a given length, counting them, for
// JSON Lines bodies and files.
type LineReader struct {
	r       *bufio.Reader
	max     int
	line    int   // number of the last line read, from 1
	records int   // lines with something else than white space
	bytes   int64 // bytes read so far
	buf     []byte
}

// NewLineReader returns a LineReader of r for lines of at most max bytes
// (the line feed and a carriage return before it not counted).
func NewLineReader(r io.Reader, max int) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next line's number and content, without its line
// ending; the content is valid until the next call. At the end it returns
// io.EOF; a line over the limit gives ErrLineTooLong (and its number).
func (lr *LineReader) Next() (int, []byte, error) {
	lr.buf = lr.buf[:0]
	tooLong := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.bytes += int64(len(chunk))
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.max+2 { // room for "\r\n"
				tooLong, lr.buf = true, lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return lr.line + 1, nil, err
		}
		if errors.Is(err, io.EOF) && len(chunk) == 0 && len(lr.buf) == 0 && !tooLong {
			return lr.line, nil, io.EOF
		}
		break
	}
	lr.line++
	if tooLong {
		lr.records++
		return lr.line, nil, ErrLineTooLong
	}
	line := bytes.TrimSuffix(bytes.TrimSuffix(lr.buf, []byte("\n")), []byte("\r"))
	if len(line) > lr.max {
		lr.records++
		return lr.line, nil, ErrLineTooLong
	}
	if len(bytes.TrimSpace(line)) > 0 {
		lr.records++
	}
	return lr.line, line, nil
}

// Records returns how many non-blank lines (too long ones included) have
// been read.
func (lr *LineReader) Records() int { return lr.records }

// Bytes returns how many bytes have been read.
func (lr *LineReader) Bytes() int64 { return lr.bytes }
