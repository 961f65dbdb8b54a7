package sse

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"time"
)

// Received is one event as a receiver dispatches it.
type Received struct {
	ID    string // the last event id in force when the event was dispatched
	Name  string // "message" when the event had no event field
	Data  string
	Retry time.Duration // the latest retry field seen so far (0: none)
}

// Decoder reads events from a stream following the WHATWG interpretation
// rules (lines end in CRLF, LF or CR; comments are skipped; data lines are
// joined with LF). It is the receiving side for Herald's own tools (tests,
// the load generator); browsers use EventSource. Not safe for concurrent use.
type Decoder struct {
	sc      *bufio.Scanner
	started bool   // a line was read: a BOM is only skipped before the first
	idBuf   string // the id of the event being read, committed by a blank line
	lastID  string // the last event id string, as EventSource keeps it
	retry   time.Duration
	// Comments counts comment lines read (keep-alive pings).
	Comments int
}

// NewDecoder returns a Decoder reading from r. Lines longer than 1 MiB are
// an error.
func NewDecoder(r io.Reader) *Decoder {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	sc.Split(scanLines)
	return &Decoder{sc: sc}
}

// Next returns the next dispatched event, or io.EOF (or the read error) when
// the stream ends. A partial event at the end of the stream is discarded, as
// a browser does.
func (d *Decoder) Next() (Received, error) {
	var data strings.Builder
	var name string
	hasData := false
	for d.sc.Scan() {
		line := d.sc.Bytes()
		if !d.started {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			d.started = true
		}
		if len(line) == 0 {
			// Every blank line commits the id, even one that dispatches
			// nothing; an event cut off before its blank line does not,
			// so a resume never skips it.
			d.lastID = d.idBuf
			if !hasData {
				name = ""
				continue
			}
			if name == "" {
				name = "message"
			}
			return Received{ID: d.lastID, Name: name, Data: data.String(), Retry: d.retry}, nil
		}
		if line[0] == ':' {
			d.Comments++
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch string(field) {
		case "event":
			name = string(value)
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.Write(value)
			hasData = true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				d.idBuf = string(value)
			}
		case "retry":
			if ms, err := strconv.ParseUint(string(value), 10, 63); err == nil {
				d.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if err := d.sc.Err(); err != nil {
		return Received{}, err
	}
	return Received{}, io.EOF
}

// LastID returns the id of the last complete event (the last event id string
// EventSource keeps), as it would send it in Last-Event-ID on reconnect.
func (d *Decoder) LastID() string { return d.lastID }

// scanLines splits on CRLF, LF or CR. An unterminated last line is dropped,
// as the interpretation rules discard pending data at end of file.
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	for i, c := range data {
		switch c {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // need one more byte to tell CR from CRLF
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), nil, nil
	}
	return 0, nil, nil
}
