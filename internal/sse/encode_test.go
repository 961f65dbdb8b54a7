package sse

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAppendEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, event, data string
		wire              string // exact encoding
		got               string // data as the receiver sees it
	}{
		{"json", "notification", `{"id":"1"}`, "event: notification\ndata: {\"id\":\"1\"}\n\n", `{"id":"1"}`},
		{"no name", "", "x", "data: x\n\n", "x"},
		{"empty data", "e", "", "event: e\ndata: \n\n", ""},
		{"LF", "e", "a\nb", "event: e\ndata: a\ndata: b\n\n", "a\nb"},
		{"CR", "e", "a\rb", "event: e\ndata: a\ndata: b\n\n", "a\nb"},
		{"CRLF", "e", "a\r\nb", "event: e\ndata: a\ndata: b\n\n", "a\nb"},
		{"LFCR is two breaks", "e", "a\n\rb", "event: e\ndata: a\ndata: \ndata: b\n\n", "a\n\nb"},
		{"mixed", "e", "1\r2\n3\r\n4\n\n5", "event: e\ndata: 1\ndata: 2\ndata: 3\ndata: 4\ndata: \ndata: 5\n\n", "1\n2\n3\n4\n\n5"},
		{"trailing LF", "e", "a\n", "event: e\ndata: a\ndata: \n\n", "a\n"},
		{"trailing CR", "e", "a\r", "event: e\ndata: a\ndata: \n\n", "a\n"},
		{"only breaks", "e", "\r\n\r\n", "event: e\ndata: \ndata: \ndata: \n\n", "\n\n"},
		{"leading space kept", "e", " a\n  b", "event: e\ndata:  a\ndata:   b\n\n", " a\n  b"},
		{"field lookalike", "e", "id: 9\n\nevent: x", "event: e\ndata: id: 9\ndata: \ndata: event: x\n\n", "id: 9\n\nevent: x"},
		{"colon first", "e", ":x", "event: e\ndata: :x\n\n", ":x"},
		{"NUL", "e", "a\x00b", "event: e\ndata: a\x00b\n\n", "a\x00b"},
		{"unicode", "通知", "héllo\u2028wörld 🚀", "event: 通知\ndata: héllo\u2028wörld 🚀\n\n", "héllo\u2028wörld 🚀"},
		{"BOM in data", "e", "\uFEFFx", "event: e\ndata: \uFEFFx\n\n", "\uFEFFx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := []byte("keep")
			b := AppendEvent(prefix, tt.event, []byte(tt.data))
			if !bytes.HasPrefix(b, prefix) {
				t.Fatalf("dst prefix lost: %q", b)
			}
			if got := string(b[len(prefix):]); got != tt.wire {
				t.Fatalf("wire:\n got %q\nwant %q", got, tt.wire)
			}
			r := parseStream(b[len(prefix):])
			wantType := tt.event
			if wantType == "" {
				wantType = "message"
			}
			want := received{Type: wantType, Data: tt.got}
			if len(r.events) != 1 || r.events[0] != want {
				t.Fatalf("received %+v, want [%+v]", r.events, want)
			}
		})
	}
}

func TestAppendIDComposesWithSharedBody(t *testing.T) {
	t.Parallel()
	body := AppendEvent(nil, "notification", []byte("{}"))
	var stream []byte
	stream = AppendRetry(stream, 2500*time.Millisecond)
	stream = AppendID(stream, "a.1.0")
	stream = append(stream, body...)
	stream = AppendComment(stream, "ping")
	stream = append(stream, body...) // no id: keeps the last one
	stream = AppendID(stream, "a.2.0")
	stream = append(stream, body...)
	stream = AppendID(stream, "") // resets the last event id
	stream = append(stream, body...)

	r := parseStream(stream)
	want := []received{
		{"notification", "{}", "a.1.0"},
		{"notification", "{}", "a.1.0"},
		{"notification", "{}", "a.2.0"},
		{"notification", "{}", ""},
	}
	if !slices.Equal(r.events, want) {
		t.Fatalf("received %+v\nwant %+v", r.events, want)
	}
	if r.retryMS != 2500 {
		t.Errorf("retry = %d ms, want 2500", r.retryMS)
	}
}

func TestAppendRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		wire string
	}{
		{3 * time.Second, "retry: 3000\n\n"},
		{1500*time.Millisecond + 999*time.Microsecond, "retry: 1500\n\n"},
		{0, "retry: 0\n\n"},
		{-time.Second, "retry: 0\n\n"},
	}
	for _, tt := range tests {
		b := AppendRetry(nil, tt.d)
		if string(b) != tt.wire {
			t.Errorf("AppendRetry(%v) = %q, want %q", tt.d, b, tt.wire)
		}
	}
	// A retry block dispatches nothing and leaves the next event intact.
	stream := AppendRetry(nil, time.Second)
	stream = AppendEvent(stream, "e", []byte("x"))
	r := parseStream(stream)
	if want := []received{{"e", "x", ""}}; !slices.Equal(r.events, want) || r.retryMS != 1000 {
		t.Fatalf("received %+v retry %d, want %+v retry 1000", r.events, r.retryMS, want)
	}
}

func TestAppendComment(t *testing.T) {
	t.Parallel()
	tests := []struct{ text, wire string }{
		{"ping", ": ping\n\n"},
		{"", ": \n\n"},
		{"a\nb", ": a\n: b\n\n"},
		{"a\r\nb\rc\n", ": a\n: b\n: c\n: \n\n"},
		{"x\ndata: forged\n\nid: 1", ": x\n: data: forged\n: \n: id: 1\n\n"},
	}
	for _, tt := range tests {
		b := AppendComment(nil, tt.text)
		if string(b) != tt.wire {
			t.Errorf("AppendComment(%q) = %q, want %q", tt.text, b, tt.wire)
		}
		r := parseStream(b)
		if len(r.events) != 0 || r.lastEventID != "" || r.retryMS != -1 {
			t.Errorf("AppendComment(%q) changed the receiver: %+v", tt.text, r)
		}
	}
}

func TestEventAppendTo(t *testing.T) {
	t.Parallel()
	e := Event{ID: "e.1.2", Name: "notification", Data: []byte("a\r\nb"), Retry: 5 * time.Second}
	b, err := e.AppendTo([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	const wire = "xid: e.1.2\nretry: 5000\nevent: notification\ndata: a\ndata: b\n\n"
	if string(b) != wire {
		t.Fatalf("got %q, want %q", b, wire)
	}
	r := parseStream(b[1:])
	if want := []received{{"notification", "a\nb", "e.1.2"}}; !slices.Equal(r.events, want) || r.retryMS != 5000 {
		t.Fatalf("received %+v retry %d", r.events, r.retryMS)
	}

	// The zero Event is a "message" with empty data and no id.
	b, err = (&Event{}).AppendTo(nil)
	if err != nil || string(b) != "data: \n\n" {
		t.Fatalf("zero Event: %q, %v", b, err)
	}
}

func TestEventAppendToRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		e        Event
		sentinel error
		want     string
	}{
		{"id LF", Event{ID: "1\ndata: x"}, ErrInvalidID, "append event: invalid event id: contains a line feed"},
		{"name CR", Event{Name: "a\rb"}, ErrInvalidName, "append event: invalid event name: contains a carriage return"},
		{"name long", Event{Name: strings.Repeat("n", 65)}, ErrInvalidName, "65 bytes"},
		{"data UTF-8", Event{Data: []byte{0xff}}, ErrInvalidData, "not valid UTF-8"},
		{"negative retry", Event{Retry: -1}, nil, "negative retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dst := []byte("keep")
			b, err := tt.e.AppendTo(dst)
			if err == nil {
				t.Fatalf("no error, wrote %q", b)
			}
			if string(b) != "keep" {
				t.Errorf("dst changed on error: %q", b)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %q does not wrap %q", err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			var w bytes.Buffer
			if n, err := tt.e.WriteTo(&w); err == nil || n != 0 || w.Len() != 0 {
				t.Errorf("WriteTo = %d, %v; wrote %q", n, err, w.Bytes())
			}
		})
	}
}

func TestEventWriteTo(t *testing.T) {
	t.Parallel()
	e := Event{ID: "7", Name: "n", Data: []byte("d")}
	var w bytes.Buffer
	n, err := e.WriteTo(&w)
	if err != nil || n != int64(w.Len()) || w.String() != "id: 7\nevent: n\ndata: d\n\n" {
		t.Fatalf("WriteTo = %d, %v; wrote %q", n, err, w.Bytes())
	}

	fw := &failWriter{n: 3}
	n, err = e.WriteTo(fw)
	if !errors.Is(err, errShortDisk) || n != 3 {
		t.Fatalf("WriteTo on failing writer = %d, %v", n, err)
	}
}

var errShortDisk = errors.New("short disk")

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) { return min(f.n, len(p)), errShortDisk }

func TestAppendEventDoesNotAllocate(t *testing.T) {
	data := []byte(strings.Repeat("line one\r\nline two\n", 10))
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendID(buf[:0], "abc.1.2")
		buf = AppendEvent(buf, "notification", data)
	})
	if allocs != 0 {
		t.Fatalf("AppendID+AppendEvent allocated %v times per run with a large enough dst", allocs)
	}
}
