package hub

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/sse"
)

// Store is what a stream reads from the source of truth; notify.Store
// satisfies it.
type Store interface {
	Epoch() string
	State(ctx context.Context, userID string) (notify.StreamState, error)
	ReadEvents(ctx context.Context, userID string, pos notify.Position, limit int) (notify.EventPage, error)
}

// StreamOptions configure the streams. Zero values take the defaults noted.
type StreamOptions struct {
	PingInterval time.Duration // keep-alive comment interval; default 30s
	WriteTimeout time.Duration // deadline of each write; default 10s
	ReplayLimit  int           // most events replayed on resume; default 10,000
	RetryMin     time.Duration // the retry: field is jittered in [RetryMin, RetryMax);
	RetryMax     time.Duration // defaults 1s and 5s
}

// Streamer serves SSE streams: it registers the connection, replays what
// the client missed, then writes live events until the client leaves, its
// token expires, or the hub ends it. It implements httpapi.Streamer.
type Streamer struct {
	hub     *Hub
	store   Store
	opts    StreamOptions
	mu      sync.Mutex
	closing bool           // set by Wait: no stream may start
	wg      sync.WaitGroup // streams being served, in a handler or on their own
}

// NewStreamer returns a Streamer over h and store.
func NewStreamer(h *Hub, store Store, opts StreamOptions) *Streamer {
	if opts.PingInterval <= 0 {
		opts.PingInterval = 30 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.ReplayLimit <= 0 {
		opts.ReplayLimit = 10000
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = time.Second
	}
	if opts.RetryMax <= opts.RetryMin {
		opts.RetryMax = opts.RetryMin + 4*time.Second
	}
	return &Streamer{hub: h, store: store, opts: opts}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxBatch bounds how many bytes one write gathers from the queue or the
// store (one event more may take it past).
const maxBatch = 64 << 10

// replayPage is how many events a stream reads from the store at a time,
// on resume and in gap repair: a connection holds one page of events and
// one batch of bytes at a time, whatever the backlog and however slowly
// its client reads (SPEC 3). The store reads at most this many events of
// each of the two streams per page. An event is at most about 55 KB (a
// notification with the longest title, message, link and data, all of it
// characters JSON escapes), so a page is at most ~1.8 MB and usually a few
// tens of KB.
const replayPage = 32

// errGap ends a stream whose missing range could not be filled live.
var errGap = errors.New("gap too large to fill")

// errWrite wraps a failed write to the client: the stream ends quietly.
var errWrite = errors.New("write to client")

// ServeStream serves one stream for userID (see httpapi.Streamer). It
// returns an error, having written nothing, when the connection is refused
// (limits, drain) or the store cannot be read. Otherwise it writes the
// response head, the replay, the unread count and the live event, reading
// and writing the replay a page at a time, and then, over HTTP/1.x,
// takes the connection over from net/http and returns nil at once: the
// stream goes on in a goroutine of its own (see Wait), so an idle stream
// holds no net/http goroutine or buffer. Where the connection cannot be
// taken over (HTTP/2) it returns nil when the stream ends.
func (s *Streamer) ServeStream(w http.ResponseWriter, r *http.Request, userID string, tokenExpiry time.Time, lastEventID string) error {
	ctx := r.Context()
	if !tokenExpiry.IsZero() && !time.Now().Before(tokenExpiry) {
		return notify.Errorf(notify.CodeUnauth, "token expired")
	}
	if !s.begin() {
		return ErrDraining
	}
	conn, err := s.hub.Register(userID)
	if err != nil {
		s.wg.Done()
		return err
	}
	handedOff := false
	defer func() {
		if !handedOff {
			s.hub.Unregister(conn)
			s.wg.Done()
		}
	}()

	// Registered first, so every event committed from now on is queued;
	// then the snapshot: anything at or below it in the queue is skipped.
	st := &stream{s: s, userID: userID, epoch: s.store.Epoch()}
	res, err := st.start(ctx, lastEventID)
	if err != nil {
		s.hub.opts.Logger.Warn("stream start failed", "err", err)
		return notify.Errorf(notify.CodeUnavailable, "store unavailable")
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no")

	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	var out sink
	cs, head, gone, hijacked := hijack(w, s.opts.WriteTimeout)
	if hijacked {
		out, ctx, buf = cs, gone, append(buf, head...)
	} else {
		w.WriteHeader(http.StatusOK)
		out = &httpSink{w: w, rc: http.NewResponseController(w), timeout: s.opts.WriteTimeout}
	}
	st.out = out

	// SPEC 3's order: retry, connected, reset, the replay, unread-count,
	// live; then the loop's live events.
	buf = sse.AppendRetry(buf, s.retry())
	buf = st.appendConnected(buf)
	if res.reset != "" {
		buf = appendJSONEvent(buf, notify.EventReset, map[string]string{"reason": res.reset})
	}
	if res.replay {
		buf, err = st.catchUp(ctx, buf, res.first, &res.until, s.opts.ReplayLimit)
	}
	if err == nil {
		buf = st.appendCountIfChanged(buf)
		buf = sse.AppendEvent(buf, notify.EventLive, []byte("{}"))
		err = st.write(buf)
	}
	putBuf(bp, buf)
	if err != nil {
		if !errors.Is(err, errWrite) && ctx.Err() == nil {
			s.hub.opts.Logger.Warn("stream replay failed; client will resume", "err", err)
		}
		out.close()
		return nil
	}
	if !hijacked {
		st.loop(ctx, conn, tokenExpiry)
		return nil
	}
	// The handler returns; the stream lives on in its own goroutine, which
	// now owns the registration.
	handedOff = true
	go func() {
		defer s.wg.Done()
		defer out.close() // after Unregister: a client that sees the end is no longer counted
		defer s.hub.Unregister(conn)
		st.loop(ctx, conn, tokenExpiry)
	}()
	return nil
}

// begin counts a stream in, unless Wait has been called.
func (s *Streamer) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

// Wait refuses new streams and blocks until every stream has ended. Call it
// after Hub.Drain, for a clean shutdown: streams taken over from net/http
// are not waited for by http.Server.Shutdown.
func (s *Streamer) Wait() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Streamer) retry() time.Duration {
	return s.opts.RetryMin + rand.N(s.opts.RetryMax-s.opts.RetryMin) //nolint:gosec // G404: jitter to spread reconnects; nothing secret depends on it
}

func putBuf(bp *[]byte, buf []byte) {
	if cap(buf) <= maxBatch*2 {
		*bp = buf[:0]
		bufPool.Put(bp)
	}
}

// stream is the state of one connection's writer loop.
type stream struct {
	s      *Streamer
	userID string
	epoch  string
	pos    notify.Position // last durable event written, per stream
	out    sink

	// shares are the user's unread shares as of the events written (see
	// notify.UnreadShares); sent is the last count written, -1 for none.
	shares notify.UnreadShares
	sent   int
}

// resume is where a stream starts: without a reset, the first page of its
// replay and the position the replay ends at (the heads when the stream
// registered: later events arrive live, with their unread shares).
type resume struct {
	replay bool
	first  notify.EventPage
	until  notify.Position
	reset  string // why the client's id cannot be resumed from
}

// start sets the starting position and shares, and reads the first page of
// the replay, so that a store failure is answered (503) before anything is
// written. The backlog is counted from positions, which are gap-free per
// stream, so a resume beyond the replay limit is refused without reading.
func (st *stream) start(ctx context.Context, lastEventID string) (resume, error) {
	state, err := st.s.store.State(ctx, st.userID)
	if err != nil {
		return resume{}, err
	}
	head := state.Position
	st.pos, st.shares, st.sent = head, state.Unread, -1
	if lastEventID == "" {
		return resume{}, nil
	}
	cur, err := notify.ParseCursor(lastEventID)
	switch {
	case err != nil:
		return resume{reset: "malformed event id"}, nil
	case cur.Epoch != st.epoch:
		return resume{reset: "event id from another database"}, nil
	case (head.User-cur.User)+(head.Broadcast-cur.Broadcast) > int64(st.s.opts.ReplayLimit):
		return resume{reset: "too many events to replay"}, nil
	}
	first, err := st.s.store.ReadEvents(ctx, st.userID, cur.Position, replayPage)
	switch {
	case errors.Is(err, notify.ErrCursorGone):
		return resume{reset: "event id too old or unknown"}, nil
	case err != nil:
		return resume{}, err
	}
	st.pos = cur.Position
	return resume{replay: true, first: first, until: head}, nil
}

// catchUp appends to buf the events of page and of the pages that follow
// it in the store, a page at a time, writing buf whenever it holds
// maxBatch bytes: the stream holds one page of events and one batch of
// bytes at a time, whatever the backlog. It stops at a page that reaches
// the head (More unset); with until set, it writes nothing beyond until
// and stops there. It fails with errGap when it has read budget events and
// more remain. A failed write is returned wrapped in errWrite.
func (st *stream) catchUp(ctx context.Context, buf []byte, page notify.EventPage, until *notify.Position, budget int) ([]byte, error) {
	read := 0
	for {
		written := 0
		for _, e := range page.Events {
			if until != nil && until.After(e) {
				continue // committed after the stream registered: it comes live
			}
			written++
			buf = st.appendStored(buf, e)
			if len(buf) >= maxBatch {
				if err := st.write(buf); err != nil {
					return buf, err
				}
				buf = buf[:0]
			}
		}
		st.s.hub.opts.Metrics.Replayed(written)
		if page.Skipped > 0 {
			st.s.hub.opts.Logger.Warn("stream skipped stored events that may not be written to a stream",
				"events", page.Skipped)
		}
		next := page.Next
		if until != nil {
			next = notify.Position{User: min(next.User, until.User), Broadcast: min(next.Broadcast, until.Broadcast)}
		}
		st.pos = notify.Position{User: max(st.pos.User, next.User), Broadcast: max(st.pos.Broadcast, next.Broadcast)}
		read += len(page.Events) + page.Skipped
		switch {
		case !page.More, until != nil && st.pos.User >= until.User && st.pos.Broadcast >= until.Broadcast:
			return buf, nil
		case read >= budget:
			return buf, errGap
		}
		var err error
		if page, err = st.s.store.ReadEvents(ctx, st.userID, st.pos, replayPage); err != nil {
			return buf, err
		}
	}
}

// write writes buf to the client; an error wraps errWrite.
func (st *stream) write(buf []byte) error {
	if err := st.out.write(buf); err != nil {
		return fmt.Errorf("%w: %w", errWrite, err)
	}
	return nil
}

func (st *stream) cursor() notify.Cursor {
	return notify.Cursor{Epoch: st.epoch, Position: st.pos}
}

// appendID appends the id field for the current position. Cursors hold only
// [a-z0-9.], so they need no validation.
func (st *stream) appendID(buf []byte) []byte {
	buf = append(buf, "id: "...)
	buf = st.cursor().AppendTo(buf)
	return append(buf, '\n')
}

func (st *stream) appendConnected(buf []byte) []byte {
	var id [9]byte
	_, _ = crand.Read(id[:]) // crypto/rand.Read never fails
	// The connected event carries the starting position as its id, so a
	// client that reconnects before any other event resumes from here.
	buf = st.appendID(buf)
	return appendJSONEvent(buf, notify.EventConnected, map[string]string{
		"clientId": base64.RawURLEncoding.EncodeToString(id[:]),
		"userId":   st.userID,
	})
}

// appendStored appends an event read from the store (replay, gap repair),
// encoded for this connection alone.
func (st *stream) appendStored(buf []byte, e notify.Event) []byte {
	if !st.pos.After(e) {
		return buf
	}
	st.pos = st.pos.Advance(e)
	buf = st.appendID(buf)
	return sse.AppendEvent(buf, e.Name, e.Data)
}

// appendCountIfChanged appends the unread-count event when the count the
// shares make differs from the last one written.
func (st *stream) appendCountIfChanged(buf []byte) []byte {
	if n := st.shares.Count(); n != st.sent {
		st.sent = n
		buf = appendCount(buf, n)
	}
	return buf
}

func appendJSONEvent(buf []byte, name string, v any) []byte {
	data, _ := json.Marshal(v) // maps of strings always marshal
	return sse.AppendEvent(buf, name, data)
}
