package hub

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/sse"
)

// StateFunc returns where a user's streams stand (notify.Store.State).
type StateFunc func(ctx context.Context, userID string) (notify.StreamState, error)

// counter refreshes unread counts from the store where the events cannot:
// an event that changed a count without carrying its share (from an
// instance of an earlier release), a bus that may have lost events
// (Resync), retention that removed unread notifications. Such events mark
// users dirty, and one loop reads each dirty user's shares at most once per
// interval and hands them to the user's streams. Counted events never come
// here: each stream keeps its count from their shares.
type counter struct {
	h     *Hub
	mu    sync.Mutex
	dirty map[string]struct{}
	all   bool // a broadcast changed every local user's count
	wake  chan struct{}
}

func newCounter(h *Hub) *counter {
	return &counter{h: h, dirty: make(map[string]struct{}), wake: make(chan struct{}, 1)}
}

// mark notes that userID's count may have changed (every local user's for
// the broadcast stream).
func (c *counter) mark(userID string) {
	c.mu.Lock()
	if userID == notify.BroadcastStream {
		c.all = true
	} else {
		c.dirty[userID] = struct{}{}
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *counter) take() []string {
	c.mu.Lock()
	all := c.all
	users := make([]string, 0, len(c.dirty))
	for u := range c.dirty {
		users = append(users, u)
	}
	c.dirty = make(map[string]struct{})
	c.all = false
	c.mu.Unlock()
	if all {
		return c.h.localUsers()
	}
	return users
}

// Run refreshes marked users' unread counts until ctx ends, reading them
// with state. It returns when ctx is done.
func (h *Hub) Run(ctx context.Context, state StateFunc) {
	c := h.counts
	pace := time.NewTimer(0)
	defer pace.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		for _, u := range c.take() {
			if h.UserConnections(u) == 0 {
				continue
			}
			st, err := state(ctx, u)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				h.opts.Logger.Warn("unread count failed", "err", err)
				continue
			}
			h.deliverUser(u, sharesFrame(u, st.Unread))
		}
		pace.Reset(h.opts.CountInterval)
		select {
		case <-ctx.Done():
			return
		case <-pace.C:
		}
	}
}

// sharesFrame hands a user's streams their unread shares as read from the
// store; each stream writes the count it makes if it differs from the last
// one it wrote.
func sharesFrame(userID string, u notify.UnreadShares) *Frame {
	return &Frame{Event: notify.Event{UserID: userID, Name: notify.EventUnreadCount}, Shares: &u}
}

// appendCount appends the unread-count event for n.
func appendCount(buf []byte, n int) []byte {
	var b [32]byte
	data := strconv.AppendInt(append(b[:0], `{"count":`...), int64(n), 10)
	return sse.AppendEvent(buf, notify.EventUnreadCount, append(data, '}'))
}
