package sse

import (
	"fmt"
	"io"
	"time"
)

// Event is one event with all its optional fields, for callers that do not
// need the shared-encoding split of AppendID and AppendEvent.
type Event struct {
	// ID, when not empty, is written as the "id:" field. An empty ID writes
	// no id field, so the receiver keeps its last event id.
	ID string
	// Name, when not empty, is written as the "event:" field; the receiver
	// reads an event without one as "message".
	Name string
	// Data is the payload. It is always written, so the event is always
	// dispatched, with data "" when Data is empty.
	Data []byte
	// Retry, when positive, is written as a "retry:" field in the event,
	// in whole milliseconds.
	Retry time.Duration
}

// Validate reports whether e can be encoded so that a receiver reads back
// its ID, Name and Data (line breaks in Data arriving as LF): see
// ValidateID, ValidateName and ValidateData. A negative Retry is an error.
func (e *Event) Validate() error {
	if e.ID != "" {
		if err := ValidateID(e.ID); err != nil {
			return err
		}
	}
	if e.Name != "" {
		if err := ValidateName(e.Name); err != nil {
			return err
		}
	}
	if e.Retry < 0 {
		return fmt.Errorf("negative retry %v", e.Retry)
	}
	return ValidateData(e.Data)
}

// AppendTo validates e and appends its encoding to dst: the id, retry, event
// and data fields, then the blank line. On error dst is returned unchanged
// and the error, wrapping ErrInvalidID, ErrInvalidName or ErrInvalidData,
// names the problem. AppendTo allocates only when dst must grow.
func (e *Event) AppendTo(dst []byte) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return dst, fmt.Errorf("append event: %w", err)
	}
	if e.ID != "" {
		dst = AppendID(dst, e.ID)
	}
	if e.Retry > 0 {
		dst = appendRetryField(dst, e.Retry)
	}
	return AppendEvent(dst, e.Name, e.Data), nil
}

// WriteTo validates e and writes its encoding to w in one Write call. It
// returns the number of bytes written and a validation error (nothing is
// written) or the error from w. Event implements io.WriterTo.
func (e *Event) WriteTo(w io.Writer) (int64, error) {
	buf, err := e.AppendTo(make([]byte, 0, 32+len(e.ID)+len(e.Name)+len(e.Data)*11/10))
	if err != nil {
		return 0, err
	}
	n, err := w.Write(buf)
	if err != nil {
		return int64(n), fmt.Errorf("write event: %w", err)
	}
	return int64(n), nil
}

var _ io.WriterTo = (*Event)(nil)
