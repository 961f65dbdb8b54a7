package sse

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds an independent receiver for the tests: the WHATWG HTML
// "Interpreting an event stream" algorithm (section 9.2.6), written from the
// specification rather than from the encoder, so that the tests check the
// encoder against what a browser does.

// received is one dispatched event as a MessageEvent would carry it.
type received struct {
	Type        string // "message" when the stream named none
	Data        string
	LastEventID string
}

// receiver is the state of one EventSource reading one stream.
type receiver struct {
	events []received

	lastEventID string // the EventSource's last event ID string
	retryMS     int64  // the reconnection time; -1 while never set

	// Buffers of the event being read.
	data      strings.Builder
	eventType string
	idBuf     string
}

// parseStream feeds the whole of stream to a new receiver, as if the
// connection closed after it. A trailing incomplete line and an event that
// is not terminated by a blank line are discarded, as the specification
// requires at end of file.
func parseStream(stream []byte) *receiver {
	r := &receiver{retryMS: -1}
	s := decodeUTF8(stream)
	s = strings.TrimPrefix(s, "\uFEFF") // one leading BOM is ignored
	for {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			return r // pending data at end of file is discarded
		}
		r.line(s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
}

// decodeUTF8 is the stream decoding step: invalid bytes become U+FFFD. (Go
// replaces each invalid byte, the Encoding standard each maximal invalid
// subpart; the tests never assert on invalid input, so this is close enough.)
func decodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		sb.WriteRune(r)
		b = b[size:]
	}
	return sb.String()
}

func (r *receiver) line(l string) {
	switch {
	case l == "":
		r.dispatch()
	case l[0] == ':':
		// comment
	default:
		field, value, found := strings.Cut(l, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		r.field(field, value)
	}
}

func (r *receiver) field(name, value string) {
	switch name {
	case "event":
		r.eventType = value
	case "data":
		r.data.WriteString(value)
		r.data.WriteByte('\n')
	case "id":
		if !strings.ContainsRune(value, 0) {
			r.idBuf = value
		}
	case "retry":
		if value != "" && strings.Trim(value, "0123456789") == "" {
			if ms, err := strconv.ParseInt(value, 10, 64); err == nil {
				r.retryMS = ms
			}
		}
	default:
		// unknown fields are ignored
	}
}

func (r *receiver) dispatch() {
	r.lastEventID = r.idBuf
	data := r.data.String()
	r.data.Reset()
	typ := r.eventType
	r.eventType = ""
	if data == "" {
		return
	}
	data = strings.TrimSuffix(data, "\n")
	if typ == "" {
		typ = "message"
	}
	r.events = append(r.events, received{Type: typ, Data: data, LastEventID: r.lastEventID})
}
