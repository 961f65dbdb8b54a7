package notify

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Event names Herald itself emits. Publishers may not use them for system events.
const (
	EventConnected    = "connected"
	EventNotification = "notification"
	EventRead         = "notification.read"
	EventDeleted      = "notification.deleted"
	EventUnreadCount  = "unread-count"
	EventReset        = "reset"
	EventLive         = "live" // the replay is over: what follows is live (SPEC 3)
)

// BroadcastStream is the Event.UserID of an event addressed to every user.
// User ids are never empty, so it cannot collide with a user's stream.
const BroadcastStream = ""

// Event is one message for the streams of one user, or of every user when
// UserID is BroadcastStream.
//
// A durable event has Seq > 0: its position in its stream (the user's, or the
// broadcast stream), assigned by the Store in the transaction that stored it.
// Positions are gap-free and strictly increasing per stream, so a receiver
// that sees Seq jump by more than one knows it missed something and reads the
// missing range back from the Store. A transient event (unread-count,
// non-durable system events) has Seq == 0 and is never replayed.
type Event struct {
	UserID    string          `json:"u,omitempty"`
	Seq       int64           `json:"s,omitempty"`
	Name      string          `json:"n"`
	Data      json.RawMessage `json:"d"`
	CreatedAt time.Time       `json:"t"`

	// Unread, when Counted, is the event's stream's share of the unread
	// count right after the event (see UnreadShares): stores set it on the
	// durable events a write returns, so that a receiver knows a user's
	// count without asking the store. Events read back from a store, and
	// transient events, are not Counted.
	Unread  int64 `json:"c,omitempty"`
	Counted bool  `json:"k,omitempty"`
}

// UnreadShares is a user's unread count as the two streams keep it: the
// user's stream holds the user's own unread notifications minus the
// broadcasts the user has read or deleted; the broadcast stream holds the
// number of broadcasts retained. Each share changes only with an event of
// its stream, so a receiver that follows both streams can keep the sum
// right from the events' Unread alone.
type UnreadShares struct {
	User      int64
	Broadcast int64
}

// Count returns the unread count the shares make (never negative).
func (u UnreadShares) Count() int {
	return int(max(0, u.User+u.Broadcast))
}

// Apply returns u with e's share taken in, when e carries one.
func (u UnreadShares) Apply(e *Event) UnreadShares {
	switch {
	case !e.Counted:
	case e.Broadcast():
		u.Broadcast = e.Unread
	default:
		u.User = e.Unread
	}
	return u
}

// StreamState is where a user's two streams stand at one instant: their
// positions and the unread shares at those positions.
type StreamState struct {
	Position
	Unread UnreadShares
}

// Validate reports whether e may be written to a stream: its name passes
// ValidStreamEventName (or it is a transient unread-count, which instances
// may pass each other), its UserID is BroadcastStream or passes
// ValidUserID, and its Seq is not negative. Events that arrive from outside
// the process (the bus, the store) are checked with it; the error, of
// CodeInvalid, is for logs.
func (e *Event) Validate() error {
	switch {
	case !ValidStreamEventName(e.Name) && !e.transientControl():
		return Errorf(CodeInvalid, "event name %q may not be written to a stream", truncate(e.Name, MaxEventNameLen))
	case e.UserID != BroadcastStream && !ValidUserID(e.UserID):
		return Errorf(CodeInvalid, "invalid user id %q", truncate(e.UserID, MaxUserIDBytes))
	case e.Seq < 0:
		return Errorf(CodeInvalid, "negative position %d", e.Seq)
	}
	return nil
}

// transientControl reports whether e is one of the transient events that
// instances pass each other under a name no publisher may use: an unread
// count, or the hub's end-streams control event (never written).
func (e *Event) transientControl() bool {
	return !e.Durable() && (e.Name == EventUnreadCount || e.Name == EventEndStreams)
}

// truncate cuts s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Durable reports whether e has a position in a stream.
func (e Event) Durable() bool { return e.Seq > 0 }

// Broadcast reports whether e is addressed to every user.
func (e Event) Broadcast() bool { return e.UserID == BroadcastStream }

// AffectsUnread reports whether e may change the recipient's unread count.
func (e Event) AffectsUnread() bool {
	switch e.Name {
	case EventNotification, EventRead, EventDeleted:
		return true
	}
	return false
}

// Position is a reader's place in the two streams a connection follows: its
// user's stream and the broadcast stream. Each field is the Seq of the last
// event delivered (0: none).
type Position struct {
	User      int64
	Broadcast int64
}

// After reports whether e comes after p in e's stream.
func (p Position) After(e Event) bool {
	if e.Broadcast() {
		return e.Seq > p.Broadcast
	}
	return e.Seq > p.User
}

// Advance returns p moved to e (which must be durable).
func (p Position) Advance(e Event) Position {
	if e.Broadcast() {
		p.Broadcast = e.Seq
	} else {
		p.User = e.Seq
	}
	return p
}

// Cursor is the resume token a client holds (the SSE event id): a Position
// plus the epoch of the store that issued it, so that a cursor from another
// database (a restore, a new deployment) is detected rather than misread.
// Clients treat its string form as opaque.
type Cursor struct {
	Epoch string
	Position
}

// String encodes c as "epoch.user.broadcast", positions in base 36.
func (c Cursor) String() string {
	return string(c.AppendTo(make([]byte, 0, len(c.Epoch)+2+2*13)))
}

// AppendTo appends the String form of c to dst. The result holds only
// [a-z0-9.], so it is safe in any SSE field without further validation.
func (c Cursor) AppendTo(dst []byte) []byte {
	dst = append(dst, c.Epoch...)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, c.User, 36)
	dst = append(dst, '.')
	return strconv.AppendInt(dst, c.Broadcast, 36)
}

// ParseCursor decodes a Cursor in the exact form Cursor.String produces
// (positions in base 36, lower case, without sign or leading zero), so
// that every accepted id is the one Herald issued. Any other input is an
// error of CodeInvalid.
func ParseCursor(s string) (Cursor, error) {
	bad := Errorf(CodeInvalid, "malformed event id")
	if len(s) > 64 {
		return Cursor{}, bad
	}
	epoch, rest, ok1 := strings.Cut(s, ".")
	user, bc, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || !validEpoch(epoch) || !canonicalBase36(user) || !canonicalBase36(bc) {
		return Cursor{}, bad
	}
	u, err1 := strconv.ParseInt(user, 36, 64)
	b, err2 := strconv.ParseInt(bc, 36, 64)
	if err1 != nil || err2 != nil {
		return Cursor{}, bad
	}
	return Cursor{Epoch: epoch, Position: Position{User: u, Broadcast: b}}, nil
}

// validEpoch accepts 1 to 32 characters of [a-z0-9].
func validEpoch(s string) bool {
	return len(s) <= 32 && lowerAlnum(s)
}

// canonicalBase36 accepts what strconv.FormatInt(n, 36) gives for n >= 0:
// [a-z0-9]+ without a leading zero, or "0".
func canonicalBase36(s string) bool {
	return lowerAlnum(s) && (s == "0" || s[0] != '0')
}

// lowerAlnum reports whether s is non-empty and all [a-z0-9].
func lowerAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// MergeStreams interleaves a user's stream and the broadcast stream (each in
// Seq order) by CreatedAt, keeping each stream's order and taking the user's
// event first on equal times, up to limit events: the order Store.ReadEvents
// returns.
func MergeStreams(user, broadcast []Event, limit int) []Event {
	out := make([]Event, 0, min(len(user)+len(broadcast), limit))
	for len(out) < limit && (len(user) > 0 || len(broadcast) > 0) {
		if len(broadcast) == 0 || (len(user) > 0 && !broadcast[0].CreatedAt.Before(user[0].CreatedAt)) {
			out = append(out, user[0])
			user = user[1:]
		} else {
			out = append(out, broadcast[0])
			broadcast = broadcast[1:]
		}
	}
	return out
}

// NewEventPage returns the page that Store.ReadEvents answers for pos:
// user and broadcast hold events after pos of each stream, in Seq order
// (limit of each suffice); the page holds the first limit events of their
// merge (MergeStreams), less those that fail Event.Validate, which are
// counted in Skipped. Next is pos advanced past every merged event,
// skipped ones included.
func NewEventPage(pos Position, user, broadcast []Event, limit int) EventPage {
	merged := MergeStreams(user, broadcast, max(limit, 0))
	p := EventPage{Next: pos, More: limit > 0 && len(merged) == limit}
	p.Events = merged[:0]
	for _, e := range merged {
		p.Next = p.Next.Advance(e)
		if e.Validate() != nil {
			p.Skipped++
			continue
		}
		p.Events = append(p.Events, e)
	}
	return p
}
