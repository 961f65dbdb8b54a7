package sse

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

// normalizeBreaks is the round-trip contract for data: the receiver sees
// data with every CRLF and every lone CR turned into LF.
func normalizeBreaks(data []byte) string {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// FuzzRoundTrip checks that any (id, name, data) is either rejected by
// validation, or encoded into exactly one event that a WHATWG receiver reads
// back with the same id and name and with data equal to normalizeBreaks(data).
// An empty name is valid for the encoder (the receiver reads "message"); an
// empty id is valid for AppendID (it resets the last event id) and omitted by
// Event.
func FuzzRoundTrip(f *testing.F) {
	seeds := []struct{ id, name, data string }{
		{"abc.1.0", "notification", `{"id":"01j","title":"New comment"}`},
		{"", "", ""},
		{"", "message", "\n"},
		{"1", "e", "\r"},
		{"1", "e", "\r\n"},
		{"1", "e", "\n\r"},
		{"1", "e", "\r\r\n\n"},
		{"1", "e", "a\r\nb\rc\nd"},
		{"1", "e", "trailing\n"},
		{"1", "e", "\n\nid: 2\nevent: forged\ndata: x\n\n"},
		{"1\ndata: x", "e", "x"},
		{"1", "e\r\ndata: x", "x"},
		{"1\x00", "e", "x"},
		{"1", "e\x00", "x"},
		{" 1", " e", " x"},
		{"\uFEFF", "\uFEFF", "\uFEFFx"},
		{":", ":", ":"},
		{"1", "e", "\xff"},
		{"\xff", "e", "x"},
		{"1", "\u0085", "x"},
		{strings.Repeat("i", MaxIDLen), strings.Repeat("n", MaxNameLen), "x"},
		{strings.Repeat("i", MaxIDLen+1), "e", "x"},
		{"1", strings.Repeat("n", MaxNameLen+1), "x"},
		{"日本", "通知", "🚀\u2028\u2029"},
	}
	for _, s := range seeds {
		f.Add(s.id, s.name, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, id, name string, data []byte) {
		orig := bytes.Clone(data)
		valid := ValidateID(id) == nil && ValidateData(data) == nil &&
			(name == "" || ValidateName(name) == nil)

		e := Event{ID: id, Name: name, Data: data}
		viaEvent, err := e.AppendTo(nil)
		if (err == nil) != valid {
			t.Fatalf("Event.AppendTo error %v, but validators say valid=%v", err, valid)
		}
		if !valid {
			return
		}
		viaParts := AppendEvent(AppendID(nil, id), name, data)
		if !bytes.Equal(data, orig) {
			t.Fatalf("data modified: %q, was %q", data, orig)
		}

		wantType := name
		if wantType == "" {
			wantType = "message"
		}
		want := []received{{Type: wantType, Data: normalizeBreaks(data), LastEventID: id}}
		for _, enc := range []struct {
			how    string
			stream []byte
		}{{"AppendID+AppendEvent", viaParts}, {"Event.AppendTo", viaEvent}} {
			r := parseStream(enc.stream)
			if !slices.Equal(r.events, want) {
				t.Fatalf("%s: %q\nreceived %+v\nwant     %+v", enc.how, enc.stream, r.events, want)
			}
			if r.retryMS != -1 || r.data.Len() != 0 || r.eventType != "" {
				t.Fatalf("%s: %q left receiver state %+v", enc.how, enc.stream, r)
			}
		}

		// Shared body, framed by other blocks, twice: still two events.
		body := AppendEvent(nil, name, data)
		var stream []byte
		stream = AppendRetry(stream, time.Second)
		stream = AppendID(stream, id)
		stream = append(stream, body...)
		stream = AppendComment(stream, string(data))
		stream = append(stream, body...)
		r := parseStream(stream)
		want = append(want, want[0])
		if !slices.Equal(r.events, want) || r.retryMS != 1000 {
			t.Fatalf("stream %q\nreceived %+v retry %d\nwant     %+v", stream, r.events, r.retryMS, want)
		}
	})
}

// FuzzComment checks that no comment text changes what a receiver sees.
func FuzzComment(f *testing.F) {
	for _, s := range []string{"ping", "", "\n", "\r\n\r\n", "x\ndata: y\n\nid: 1\nretry: 5\n\n", "\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		stream := AppendComment(nil, text)
		stream = AppendEvent(stream, "e", []byte("x"))
		r := parseStream(stream)
		if want := []received{{"e", "x", ""}}; !slices.Equal(r.events, want) || r.retryMS != -1 {
			t.Fatalf("comment %q: received %+v retry %d", text, r.events, r.retryMS)
		}
	})
}
