// Package sse encodes the Server-Sent Events wire format (WHATWG HTML,
// "Server-sent events", section 9.2) and nothing else: no HTTP, no
// connections, no buffering policy.
//
// # Wire format
//
// An event stream is UTF-8 text made of lines. A line ends with CRLF, LF or
// CR. A line "field: value" sets a field of the pending event (one space
// after the colon is dropped by the receiver), a line starting with ':' is a
// comment and is ignored, and a blank line dispatches the pending event.
// The fields are:
//
//	event: <name>   the event type; the receiver uses "message" when absent
//	data: <line>    one line of payload; several data lines are joined with LF
//	id: <id>        the last event id; the browser resends it as Last-Event-ID
//	retry: <ms>     the reconnection delay, in ASCII decimal milliseconds
//
// Herald writes one event as
//
//	id: 0b3k.1c.0\n           (AppendID, durable events only)
//	event: notification\n     (AppendEvent)
//	data: {"id":"…"}\n
//	\n
//
// The order of fields inside an event does not matter to a receiver: each
// field only updates a buffer, and the blank line dispatches. So the server
// encodes an event body once with AppendEvent, shares those bytes between all
// connections, and prefixes each connection's copy with its own AppendID.
//
// # Why names and ids are validated
//
// A line break is the only structure SSE has. A CR or LF inside an event name
// or id would end that field early and let the rest of the value be read as
// new fields (a forged "data:" line, another "id:") or even as a new event;
// this is the SSE form of header injection. Data is safe by construction,
// because AppendEvent splits it on every CR, LF and CRLF and writes each piece
// as its own "data:" line. Names and ids cannot be split, so they must be
// checked with ValidateName and ValidateID before they are encoded; Event's
// methods do that for you, the Append functions trust their caller.
//
// # What round-trips
//
// A receiver rebuilds data by joining the data lines with LF, so line breaks
// do not survive as sent: CR and CRLF arrive as LF. Everything else in valid
// UTF-8 data, including NUL, leading spaces, empty lines and a trailing line
// break, arrives byte for byte. Receivers decode the stream as UTF-8 and
// replace invalid sequences with U+FFFD, so ValidateData rejects data that is
// not valid UTF-8, and names and ids must be valid UTF-8 as well.
//
// All functions are safe for concurrent use; they share no state.
package sse
