// Package hub holds the live SSE connections of this instance: who is
// connected, the limits, fan-out of events to each connection's bounded
// queue, slow-consumer eviction, unread-count coalescing and drain.
//
// The hub never blocks on a connection: Dispatch encodes each event once and
// offers the shared bytes to every matching queue without waiting. A queue
// that is full evicts its connection, which then resumes from its last event
// id, so a slow client costs itself a reconnect and nobody else anything.
package hub

import (
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/sse"
)

const numShards = 64

// Options configure a Hub. Zero values take the defaults noted.
type Options struct {
	MaxConnsPerUser int           // per-user limit on this instance; 0: none
	MaxConns        int           // global limit on this instance; 0: none
	QueueSize       int           // per-connection queue length; default 64
	CountInterval   time.Duration // min time between unread-count events per user; default 250ms
	Metrics         Metrics       // default: no metrics
	Logger          *slog.Logger  // default: slog.Default()
}

// Hub is the registry of this instance's connections. Safe for concurrent use.
type Hub struct {
	opts   Options
	seed   maphash.Seed
	shards [numShards]shard

	conns    atomic.Int64
	users    atomic.Int64
	draining atomic.Bool

	counts *counter
}

type shard struct {
	mu    sync.RWMutex
	users map[string]map[*Conn]struct{}
}

// New returns an empty Hub. Start its unread-count loop with Run.
func New(opts Options) *Hub {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 64
	}
	if opts.CountInterval <= 0 {
		opts.CountInterval = 250 * time.Millisecond
	}
	if opts.Metrics == nil {
		opts.Metrics = nopMetrics{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Hub{opts: opts, seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].users = make(map[string]map[*Conn]struct{})
	}
	h.counts = newCounter(h)
	return h
}

func (h *Hub) shard(userID string) *shard {
	return &h.shards[maphash.String(h.seed, userID)%numShards]
}

// Errors returned by Register. They wrap notify errors so that the HTTP
// layer maps them (429 and 503), and say when to retry, jittered so that
// refused clients do not all come back at once.
var (
	ErrUserLimit   = &RefusedError{notify.Errorf(notify.CodeLimited, "too many connections for this user"), 5 * time.Second, 15 * time.Second}
	ErrGlobalLimit = &RefusedError{notify.Errorf(notify.CodeUnavailable, "server at connection limit"), 2 * time.Second, 10 * time.Second}
	ErrDraining    = &RefusedError{notify.Errorf(notify.CodeUnavailable, "server shutting down"), time.Second, 10 * time.Second}
)

// RefusedError is a refused connection: a notify error plus the range in
// which the client should retry.
type RefusedError struct {
	err      *notify.Error
	min, max time.Duration
}

func (e *RefusedError) Error() string { return e.err.Error() }

// Unwrap returns the notify error.
func (e *RefusedError) Unwrap() error { return e.err }

// RetryAfter returns a random delay in [min, max).
func (e *RefusedError) RetryAfter() time.Duration {
	return e.min + rand.N(e.max-e.min) //nolint:gosec // G404: jitter to spread retries; nothing secret depends on it
}

// Register admits a connection for userID and starts queueing its events.
// It never evicts an existing connection to admit a new one. The caller
// must Unregister the connection when its stream ends.
func (h *Hub) Register(userID string) (*Conn, error) {
	if h.draining.Load() {
		h.opts.Metrics.Rejected("draining")
		return nil, ErrDraining
	}
	if max := int64(h.opts.MaxConns); max > 0 {
		if h.conns.Add(1) > max {
			h.conns.Add(-1)
			h.opts.Metrics.Rejected("global_limit")
			return nil, ErrGlobalLimit
		}
	} else {
		h.conns.Add(1)
	}
	c := newConn(userID, h.opts.QueueSize)
	s := h.shard(userID)
	s.mu.Lock()
	if h.draining.Load() {
		// Drain began after the check above; it snapshots each shard under
		// its lock, so a connection added now could be missed: refuse it.
		s.mu.Unlock()
		h.conns.Add(-1)
		h.opts.Metrics.Rejected("draining")
		return nil, ErrDraining
	}
	set := s.users[userID]
	if max := h.opts.MaxConnsPerUser; max > 0 && len(set) >= max {
		s.mu.Unlock()
		h.conns.Add(-1)
		h.opts.Metrics.Rejected("user_limit")
		return nil, ErrUserLimit
	}
	if set == nil {
		set = make(map[*Conn]struct{}, 1)
		s.users[userID] = set
		h.users.Add(1)
	}
	set[c] = struct{}{}
	n := len(set)
	s.mu.Unlock()
	h.opts.Metrics.Connected(n)
	return c, nil
}

// Unregister removes c. It is idempotent.
func (h *Hub) Unregister(c *Conn) {
	s := h.shard(c.UserID)
	s.mu.Lock()
	set := s.users[c.UserID]
	_, ok := set[c]
	if ok {
		delete(set, c)
		if len(set) == 0 {
			delete(s.users, c.UserID)
			h.users.Add(-1)
		}
	}
	s.mu.Unlock()
	if ok {
		h.conns.Add(-1)
		c.close(ReasonClosed)
		h.opts.Metrics.Disconnected()
	}
}

// Dispatch fans events out to the local connections of their recipients
// (every connection for a broadcast). It is the bus sink: it never blocks.
// A notify.EventEndStreams control event is not written: it ends its
// user's connections (EndUser).
func (h *Hub) Dispatch(evs []notify.Event) {
	for i := range evs {
		e := &evs[i]
		if e.Name == notify.EventEndStreams {
			h.endStreams(e)
			continue
		}
		f := &Frame{Event: *e, Body: sse.AppendEvent(nil, e.Name, e.Data)}
		if e.Broadcast() {
			for j := range h.shards {
				h.offerShard(&h.shards[j], f)
			}
		} else {
			s := h.shard(e.UserID)
			s.mu.RLock()
			for c := range s.users[e.UserID] {
				h.offer(c, f)
			}
			s.mu.RUnlock()
		}
		if e.AffectsUnread() && !e.Counted {
			// Without its share (an earlier release's instance sent it),
			// the count is read from the store.
			h.counts.mark(e.UserID)
		}
	}
}

func (h *Hub) offerShard(s *shard, f *Frame) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, set := range s.users {
		for c := range set {
			h.offer(c, f)
		}
	}
}

// offer queues f for c without blocking; a full queue evicts c.
func (h *Hub) offer(c *Conn, f *Frame) {
	if !c.offer(f) {
		if c.close(ReasonSlow) {
			h.opts.Metrics.Evicted(ReasonSlow)
		}
	}
}

// deliverUser queues f for every local connection of userID.
func (h *Hub) deliverUser(userID string, f *Frame) {
	s := h.shard(userID)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for c := range s.users[userID] {
		h.offer(c, f)
	}
}

// localUsers returns the ids of users with a connection here.
func (h *Hub) localUsers() []string {
	var out []string
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for u := range s.users {
			out = append(out, u)
		}
		s.mu.RUnlock()
	}
	return out
}

// resyncFrame, offered to a connection, makes it read from the store
// whatever it may have missed.
var resyncFrame = &Frame{}

// resyncSpread is the time over which Resync reaches every shard, so that
// thousands of streams do not all read from the store at the same moment.
const resyncSpread = 250 * time.Millisecond

// Resync makes every local stream catch up from the store, and refreshes
// every unread count. A bus calls it after it may have lost events without
// a later event to reveal the gap (a reconnect to Redis, say). It returns at
// once; the shards are reached one after another over resyncSpread.
func (h *Hub) Resync() {
	go func() {
		for i := range h.shards {
			if i > 0 {
				time.Sleep(resyncSpread / numShards)
			}
			h.offerShard(&h.shards[i], resyncFrame)
		}
		h.counts.mark(notify.BroadcastStream)
	}()
}

// RefreshCounts makes every local stream read its unread count from the
// store once (coalesced with other refreshes), for changes that come with
// no event, such as retention removing unread notifications.
func (h *Hub) RefreshCounts() { h.counts.mark(notify.BroadcastStream) }

// Connections returns the number of open connections on this instance.
func (h *Hub) Connections() int { return int(h.conns.Load()) }

// Users returns the number of distinct users connected to this instance.
func (h *Hub) Users() int { return int(h.users.Load()) }

// UserConnections returns the number of userID's connections here.
func (h *Hub) UserConnections(userID string) int {
	s := h.shard(userID)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.users[userID])
}

// Draining reports whether Drain has begun.
func (h *Hub) Draining() bool { return h.draining.Load() }
