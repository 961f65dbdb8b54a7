package hub

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/sse"
)

// CountFunc returns a user's unread count (notify.Store.UnreadCount).
type CountFunc func(ctx context.Context, userID string) (int, error)

// counter coalesces unread-count updates: events mark users dirty, and one
// loop sends each dirty user's current count at most once per interval.
// Counts are read from the store, so they are right whatever instance or
// request changed them.
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

// Run sends coalesced unread-count events until ctx ends, reading counts
// with count. It returns when ctx is done.
func (h *Hub) Run(ctx context.Context, count CountFunc) {
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
			n, err := count(ctx, u)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				h.opts.Logger.Warn("unread count failed", "err", err)
				continue
			}
			h.deliverUser(u, CountFrame(u, n))
		}
		pace.Reset(h.opts.CountInterval)
		select {
		case <-ctx.Done():
			return
		case <-pace.C:
		}
	}
}

// CountFrame returns the unread-count frame for a user.
func CountFrame(userID string, n int) *Frame {
	data := strconv.AppendInt([]byte(`{"count":`), int64(n), 10)
	data = append(data, '}')
	e := notify.Event{UserID: userID, Name: notify.EventUnreadCount, Data: data, CreatedAt: time.Now()}
	return &Frame{Event: e, Body: sse.AppendEvent(nil, e.Name, e.Data)}
}
