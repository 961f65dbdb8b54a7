package hub

import (
	"context"
	"errors"
	"time"

	"github.com/herald-notify/herald/internal/sse"
)

// appendFrame appends a live frame: transient frames as they are; durable
// ones only if new, after repairing any gap from the store.
func (st *stream) appendFrame(ctx context.Context, buf []byte, f *Frame) ([]byte, error) {
	if f == resyncFrame {
		return st.repair(ctx, buf)
	}
	if f.Shares != nil {
		st.shares = *f.Shares
		return buf, nil
	}
	e := &f.Event
	m := st.s.hub.opts.Metrics
	if !e.Durable() {
		return append(buf, f.Body...), nil
	}
	if !st.pos.After(*e) {
		return buf, nil // already written (replay or gap repair)
	}
	last := st.pos.User
	if e.Broadcast() {
		last = st.pos.Broadcast
	}
	if e.Seq == last+1 {
		st.pos = st.pos.Advance(*e)
		st.shares = st.shares.Apply(e)
		buf = st.appendID(buf)
		m.Delivered(1, time.Since(e.CreatedAt))
		return append(buf, f.Body...), nil
	}
	// A gap: the bus lost or reordered something. The store is the truth.
	return st.repair(ctx, buf)
}

// repair appends every event after the stream's position, read from the
// store a page at a time (see catchUp). It fails with errGap when more than
// the replay limit remain: the stream then ends and the client resumes
// (and is told to reset).
func (st *stream) repair(ctx context.Context, buf []byte) ([]byte, error) {
	page, err := st.s.store.ReadEvents(ctx, st.userID, st.pos, replayPage)
	if err != nil {
		return buf, err
	}
	if buf, err = st.catchUp(ctx, buf, page, nil, st.s.opts.ReplayLimit); err != nil {
		return buf, err
	}
	// Events read back carry no shares: take the store's current ones.
	state, err := st.s.store.State(ctx, st.userID)
	if err != nil {
		return buf, err
	}
	st.shares = state.Unread
	return buf, nil
}

// loop writes live events until the stream ends.
func (st *stream) loop(ctx context.Context, conn *Conn, tokenExpiry time.Time) {
	m := st.s.hub.opts.Metrics
	ping := time.NewTimer(st.s.opts.PingInterval)
	defer ping.Stop()
	var expired <-chan time.Time
	if !tokenExpiry.IsZero() {
		t := time.NewTimer(time.Until(tokenExpiry))
		defer t.Stop()
		expired = t.C
	}
	for {
		var buf []byte
		var bp *[]byte
		select {
		case <-ctx.Done():
			return
		case <-conn.Done():
			return
		case <-expired:
			m.Evicted(ReasonExpired)
			return
		case <-ping.C:
			bp = bufPool.Get().(*[]byte)
			buf = sse.AppendComment((*bp)[:0], "ping")
		case f := <-conn.Queue():
			bp = bufPool.Get().(*[]byte)
			var err error
			buf, err = st.appendFrame(ctx, (*bp)[:0], f)
		drain:
			for err == nil && len(buf) < maxBatch {
				select {
				case f = <-conn.Queue():
					buf, err = st.appendFrame(ctx, buf, f)
				default:
					break drain
				}
			}
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, errWrite) {
					st.s.hub.opts.Logger.Warn("stream repair failed; client will resume", "err", err)
					m.Evicted(ReasonGap)
				}
				putBuf(bp, buf)
				return
			}
			// The count rides in the same write as the events that
			// changed it.
			buf = st.appendCountIfChanged(buf)
		}
		if len(buf) > 0 {
			err := st.write(buf)
			if err != nil {
				putBuf(bp, buf)
				return
			}
		}
		putBuf(bp, buf)
		ping.Reset(st.s.opts.PingInterval)
	}
}
