package hub

import (
	"sync"

	"github.com/herald-notify/herald/internal/notify"
)

// Reason says why a connection ended. Reasons are metric labels.
type Reason string

// Reasons a connection ends.
const (
	ReasonClosed   Reason = "closed"        // the client left or the stream ended normally
	ReasonSlow     Reason = "slow_consumer" // its queue was full
	ReasonShutdown Reason = "shutdown"      // the server is draining
	ReasonExpired  Reason = "token_expired" // its token expired
	ReasonGap      Reason = "gap"           // a gap too large to fill live
	ReasonError    Reason = "error"         // a write or store error
)

// Frame is one event ready to write: the event and its SSE encoding without
// the id field. A Frame is shared by every connection it is offered to and
// must not be modified. A frame with Shares set carries no event to write:
// it hands the user's streams their unread shares read from the store.
type Frame struct {
	Event  notify.Event
	Body   []byte
	Shares *notify.UnreadShares
}

// Conn is one registered stream: a bounded queue filled by the hub and
// drained by the stream's writer loop.
type Conn struct {
	UserID string

	queue  chan *Frame
	done   chan struct{}
	once   sync.Once
	reason Reason // written once, before done is closed
}

func newConn(userID string, queueSize int) *Conn {
	return &Conn{UserID: userID, queue: make(chan *Frame, queueSize), done: make(chan struct{})}
}

// Queue delivers the frames offered to this connection, in order.
func (c *Conn) Queue() <-chan *Frame { return c.queue }

// Done is closed when the hub ends the connection (slow consumer, drain).
func (c *Conn) Done() <-chan struct{} { return c.done }

// Reason says why Done was closed; valid once Done is closed.
func (c *Conn) Reason() Reason {
	<-c.done
	return c.reason
}

// offer queues f without blocking; false when the queue is full.
func (c *Conn) offer(f *Frame) bool {
	select {
	case c.queue <- f:
		return true
	default:
		return false
	}
}

// close ends c with reason; true if this call ended it.
func (c *Conn) close(r Reason) bool {
	closed := false
	c.once.Do(func() {
		c.reason = r
		close(c.done)
		closed = true
	})
	return closed
}
