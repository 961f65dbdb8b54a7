package sse

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzDecoder checks Decoder against the WHATWG receiver of the tests on
// arbitrary valid UTF-8 streams, read one byte at a time: the same events,
// with the same ids, and the same last event id at the end.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		"data: x\n\n",
		"id: 1\ndata: x\n\nid: 2\ndata: y\n",
		"id: 1\n\ndata: x\r\n\r\n",
		"id: 1\ndata: a\n\nid: 2",
		"\uFEFFdata: x\n\n\uFEFFdata: y\n\n",
		"retry: 10\nevent: e\ndata\ndata:\n\n",
		"data: a\rdata: b\r\r",
		": c\nid: \x00\ndata: z\n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stream string) {
		if strings.ContainsRune(stream, '\uFFFD') || !utf8.ValidString(stream) {
			return // decoding of invalid UTF-8 is out of scope here
		}
		if len(stream) > 4096 {
			// bufio.Scanner rescans a line on every one-byte read, so long
			// inputs only make the fuzzer (and its minimiser) crawl.
			return
		}
		want := parseStream([]byte(stream))
		d := NewDecoder(&oneByteReader{s: stream})
		var got []received
		for {
			ev, err := d.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			got = append(got, received{Type: ev.Name, Data: ev.Data, LastEventID: ev.ID})
		}
		if len(got) != len(want.events) {
			t.Fatalf("stream %q\ngot  %+v\nwant %+v", stream, got, want.events)
		}
		for i := range got {
			if got[i] != want.events[i] {
				t.Fatalf("stream %q event %d\ngot  %+v\nwant %+v", stream, i, got[i], want.events[i])
			}
		}
		if d.LastID() != want.lastEventID {
			t.Fatalf("stream %q: LastID %q, want %q", stream, d.LastID(), want.lastEventID)
		}
		if want.retryMS >= 0 && d.retry != time.Duration(want.retryMS)*time.Millisecond {
			t.Fatalf("stream %q: retry %v, want %d ms", stream, d.retry, want.retryMS)
		}
	})
}

// An event cut off by the connection before its blank line must not move
// LastID, or the resume that follows would skip it.
func TestDecoderCommitsIDOnlyWithEvent(t *testing.T) {
	t.Parallel()
	d := NewDecoder(strings.NewReader("id: 1\ndata: a\n\nid: 2\nevent: notification\ndata: b\n"))
	if ev, err := d.Next(); err != nil || ev.ID != "1" || ev.Data != "a" {
		t.Fatalf("first = %+v, %v", ev, err)
	}
	if _, err := d.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("partial event: %v, want EOF", err)
	}
	if got := d.LastID(); got != "1" {
		t.Fatalf("LastID = %q after a cut-off event with id 2, want %q", got, "1")
	}
}
