package sse

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestDecoderReadsWhatTheEncoderWrites(t *testing.T) {
	t.Parallel()
	var b []byte
	b = AppendRetry(b, 1500*time.Millisecond)
	b = AppendID(b, "a.1.0")
	b = AppendEvent(b, "notification", []byte("line1\r\nline2\rline3\nline4"))
	b = AppendComment(b, "ping")
	b = AppendEvent(b, "", []byte(""))
	// CRLF line endings from another server, split across reads.
	b = append(b, "event: x\r\ndata: y\r\n\r\n"...)
	d := NewDecoder(&oneByteReader{s: string(b)})
	want := []Received{
		{ID: "a.1.0", Name: "notification", Data: "line1\nline2\nline3\nline4", Retry: 1500 * time.Millisecond},
		{ID: "a.1.0", Name: "message", Data: "", Retry: 1500 * time.Millisecond},
		{ID: "a.1.0", Name: "x", Data: "y", Retry: 1500 * time.Millisecond},
	}
	for i, w := range want {
		got, err := d.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got != w {
			t.Fatalf("event %d = %+v, want %+v", i, got, w)
		}
	}
	if _, err := d.Next(); err != io.EOF { //nolint:errorlint // the contract is io.EOF itself, as io.Reader's; errors.Is would accept a wrapped one
		t.Fatalf("after last event: %v, want EOF", err)
	}
	if d.Comments != 1 {
		t.Fatalf("Comments = %d, want 1", d.Comments)
	}
}

func TestDecoderDropsPartialEventAtEOF(t *testing.T) {
	t.Parallel()
	d := NewDecoder(strings.NewReader("data: complete\n\ndata: partial\n"))
	if got, err := d.Next(); err != nil || got.Data != "complete" {
		t.Fatalf("first = %+v, %v", got, err)
	}
	if _, err := d.Next(); err != io.EOF { //nolint:errorlint // the contract is io.EOF itself, as io.Reader's
		t.Fatalf("partial event dispatched: %v", err)
	}
}

// oneByteReader returns one byte per Read, to exercise split lines.
type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}
