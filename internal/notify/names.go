package notify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Event names and user ids are the parts of an event that travel outside
// its JSON data: a name is written verbatim as an SSE "event:" field, and a
// user id routes events and appears in logs and admin answers. They are
// checked wherever they enter Herald — publish, tokens, the admin API, the
// bus, reads from the store — so that nothing stored in a database or sent
// over Redis by anyone else can add a field to a stream or fire a handler
// that a browser treats specially.

// ReservedEventName reports whether name is reserved, so that publishers
// may not give it to a system event (SPEC 5): the names Herald emits (connected, notification and
// notification.*, unread-count, reset, live) and those EventSource treats
// specially, compared case-insensitively. EventSource dispatches "error"
// and "open" to a client's connection handlers, and "message" to its
// handler for unnamed events.
func ReservedEventName(name string) bool {
	for _, r := range [...]string{
		EventConnected, EventNotification, EventUnreadCount, EventReset, EventLive,
		"message", "error", "open",
	} {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	const prefix = EventNotification + "."
	return len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix)
}

// ValidSystemEventName reports whether publishers may use name for a system
// event: 1 to MaxEventNameLen characters of [A-Za-z0-9._-], not reserved.
func ValidSystemEventName(name string) bool {
	return name != "" && len(name) <= MaxEventNameLen && isName(name, true) && !ReservedEventName(name)
}

// ValidStreamEventName reports whether an event named name may be written
// to a stream once it has been stored or sent over the bus: one of
// Herald's durable events (notification, notification.read,
// notification.deleted) or a valid system event name. Events Herald writes
// by itself on each connection (connected, unread-count, reset, live) never
// travel that way, so they do not pass.
func ValidStreamEventName(name string) bool {
	switch name {
	case EventNotification, EventRead, EventDeleted:
		return true
	}
	return ValidSystemEventName(name)
}

// ValidUserID reports whether id can name a user: 1 to MaxUserIDBytes of
// valid UTF-8 without control characters (C0, DEL, C1), line or paragraph
// separators (U+2028, U+2029) or bidirectional formatting characters
// (embeddings, overrides, isolates and marks), which could break a log line
// or make one id display as another.
func ValidUserID(id string) bool {
	if id == "" || len(id) > MaxUserIDBytes || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if forbiddenInID(r) {
			return false
		}
	}
	return true
}

// CheckUserID returns nil for a valid user id, else an error of CodeInvalid
// naming field.
func CheckUserID(field, id string) error {
	if ValidUserID(id) {
		return nil
	}
	return Errorf(CodeInvalid, "%s: must be 1 to %d bytes of UTF-8 without control, line separator or bidirectional formatting characters",
		field, MaxUserIDBytes)
}

// forbiddenInID reports the characters ValidUserID refuses.
func forbiddenInID(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r)
}

// hasControl reports whether s holds a control character (C0, DEL or C1).
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// isName accepts [a-z0-9._-], and upper case letters too when upper is set.
func isName(s string, upper bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		case upper && c >= 'A' && c <= 'Z':
		default:
			return false
		}
	}
	return true
}
