package notify

import (
	"context"
	"time"
)

// Store is the source of truth: inboxes, the durable event streams, and the
// short-lived state that several instances must share (idempotency keys,
// tickets). Implementations: internal/store/sqlite, internal/store/postgres;
// both pass the contract suite in internal/store/storetest.
//
// All methods are safe for concurrent use. ctx bounds the call only; a method
// that returns nil has committed durably (fsync'd) before returning. After
// Close every method returns an error.
//
// Streams: each user has one ordered stream, and the broadcast stream is a
// second one shared by all users. Every durable event is given the next
// position (Seq) of its stream in the same transaction that stores it, so
// positions are 1, 2, 3, … with no gap and no repeat per stream, in commit
// order, whatever the number of concurrent writers or instances.
type Store interface {
	// Epoch names this database. It is fixed when the schema is created and
	// never changes; cursors carry it so that a cursor issued by another
	// database is recognised as foreign.
	Epoch() string

	// Publish stores in one transaction the notifications in in (all with
	// the same content; one per recipient, or one broadcast) and a
	// notification event for each, and returns a Receipt per notification
	// and the stored events in stream order.
	//
	// With in.IdempotencyKey set and the same key stored less than
	// IdempotencyWindow ago, nothing is stored: the original receipts are
	// returned with Duplicate set and no events. With in.CollapseKey set,
	// each recipient's unread notifications with that key are deleted in
	// the same transaction and a notification.deleted event precedes the
	// new notification event in that user's stream.
	Publish(ctx context.Context, in PublishInput) (PublishOutput, error)

	// AppendEvents stores durable system events, assigning each its Seq in
	// its stream (UserID, or BroadcastStream), and returns them in order.
	// Name, Data and CreatedAt are kept as given.
	AppendEvents(ctx context.Context, evs []Event) ([]Event, error)

	// List returns the user's inbox (own and broadcast notifications that
	// the user has not deleted), newest first: at most q.Limit entries
	// strictly older than q.Before (a notification id; "" from the newest).
	// Next is the id to pass as Before for the following page, "" at the end.
	List(ctx context.Context, userID string, q ListQuery) (Page, error)

	// UnreadCount returns the number of unread notifications in the inbox.
	// It equals State(userID).Unread.Count() in the same snapshot.
	UnreadCount(ctx context.Context, userID string) (int, error)

	// MarkRead marks one notification of the user's inbox read and, if it
	// was unread, appends and returns a notification.read event; if it was
	// already read it returns (nil, nil). An id that is not in this user's
	// inbox (unknown, deleted, or another user's) returns ErrNotFound.
	MarkRead(ctx context.Context, userID, id string) (*Event, error)

	// MarkAllRead marks every unread notification of the inbox read, and
	// when there were any appends a notification.read {"all":true} event.
	MarkAllRead(ctx context.Context, userID string) (updated int, ev *Event, err error)

	// Delete removes a notification from the user's inbox and appends a
	// notification.deleted event. Errors as MarkRead.
	Delete(ctx context.Context, userID, id string) (*Event, error)

	// Head returns the positions of the last events of the user's stream
	// and of the broadcast stream (0 for an empty stream).
	Head(ctx context.Context, userID string) (Position, error)

	// State returns, in one snapshot, Head and the unread shares at that
	// head (see UnreadShares). Every durable event a write method returns
	// is Counted: its Unread is its stream's share right after it, so that
	// State's shares updated by the later events' Unread (UnreadShares.Apply)
	// always equal a later State's.
	State(ctx context.Context, userID string) (StreamState, error)

	// ReadEvents returns the page of events that follows pos: the user's
	// and the broadcast stream's events after pos, each stream in Seq
	// order, the two merged by CreatedAt (the user's first on equal
	// times), at most limit in all (see NewEventPage). It reads at most
	// limit events of each stream, so a caller bounds its memory with
	// limit and reads on from Next. An event stored under a name that may
	// not be written to a stream (one refused since, or written to the
	// database by something else) is left out, its position still counted
	// in Next. It returns ErrCursorGone when events after pos have been
	// pruned, or pos lies beyond the head of either stream.
	ReadEvents(ctx context.Context, userID string, pos Position, limit int) (EventPage, error)

	// Import stores, in one transaction, each notification of in whose
	// ImportID was never imported into this database, with its CreatedAt
	// and ReadAt, and remembers the ImportID for good (EraseUser forgets
	// the user's). Each stored notification gets a notification event
	// (the notification as clients see it, ReadAt included; the store's
	// clock as its CreatedAt) at the next position of its user's stream;
	// the events are returned in stream order, Counted. Notifications
	// whose ImportID was imported before are skipped and counted. in's
	// ImportIDs must be distinct and its recipients users, not the
	// broadcast stream.
	Import(ctx context.Context, in ImportInput) (ImportOutput, error)

	// EraseUser deletes everything stored about userID: the user's
	// notifications, broadcast read and delete state, events, tickets and
	// import ids. The user's stream row stays, advanced one position past
	// its last event and pruned up to there, with no unread count: every
	// position issued before the erase is then too old for ReadEvents
	// (ErrCursorGone), and no later event reuses one. Erasing a user with
	// nothing stored changes nothing.
	EraseUser(ctx context.Context, userID string) error

	// CreateTicket stores a one-time stream ticket (by its hash). It first
	// deletes t.UserID's tickets expired at now; then, when max > 0 and the
	// user still holds max tickets, it stores nothing and returns
	// ErrTooManyTickets. The count is exact against committed tickets;
	// calls for one user racing on different connections may each pass it
	// (PostgreSQL), so the bound can be exceeded by the number of racing
	// calls, never more. A hash already stored is an error.
	CreateTicket(ctx context.Context, t Ticket, now time.Time, max int) error
	// ConsumeTicket deletes and returns the ticket with this hash if it
	// exists and has not expired at now; otherwise ErrNotFound. A ticket
	// is returned at most once, across all instances sharing the store.
	ConsumeTicket(ctx context.Context, hash string, now time.Time) (Ticket, error)

	// Prune deletes notifications and events created before before, with
	// their read state, and expired idempotency keys and tickets. Streams
	// remember how far they were pruned so that ReadEvents can tell a
	// cursor that is too old.
	Prune(ctx context.Context, before time.Time) (deleted int64, err error)

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases resources; pending calls may fail.
	Close() error
}

// ErrCursorGone reports that a stream cannot be replayed from a position.
var ErrCursorGone = &Error{Code: CodeConflict, Message: "cannot resume from this event id"}

// PublishInput is what Store.Publish stores. Notifications carry their ids,
// recipients (UserID, BroadcastStream for a broadcast) and CreatedAt.
type PublishInput struct {
	Notifications  []Notification
	IdempotencyKey string
	CollapseKey    string
}

// PublishOutput is the result of Store.Publish.
type PublishOutput struct {
	Receipts  []Receipt
	Events    []Event
	Duplicate bool
}

// ListQuery selects a page of an inbox.
type ListQuery struct {
	Limit      int
	Before     string
	UnreadOnly bool
}

// Page is one page of an inbox.
type Page struct {
	Notifications []Notification
	Next          string
}

// EventPage is one page of a reader's two streams (Store.ReadEvents).
type EventPage struct {
	// Events are the events to deliver, in order.
	Events []Event
	// Next is the position after every event the page covered, those left
	// out included: the pos of the following page.
	Next Position
	// Skipped counts the events left out because they fail Event.Validate.
	Skipped int
	// More reports that the page stopped at its limit: events may follow
	// Next. Without it, the page reached the head of both streams.
	More bool
}

// Ticket is a one-time credential that opens one stream (SPEC 2). Only the
// hash of the secret is stored.
type Ticket struct {
	Hash        string
	UserID      string
	TokenExpiry time.Time // the stream ends when the token behind the ticket expires
	ExpiresAt   time.Time
}
