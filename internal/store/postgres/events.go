package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// Head returns the last positions of the user's and the broadcast stream.
func (s *Store) Head(ctx context.Context, userID string) (notify.Position, error) {
	st, err := s.State(ctx, userID)
	return st.Position, err
}

// State returns the heads and the unread shares of the user's and the
// broadcast stream, read from their stream rows in one statement.
func (s *Store) State(ctx context.Context, userID string) (notify.StreamState, error) {
	if s.closed.Load() {
		return notify.StreamState{}, errClosed
	}
	rows, err := s.pool.Query(ctx, `SELECT stream, last_seq, unread - seen FROM streams WHERE stream IN ($1, '')`, userID)
	if err != nil {
		return notify.StreamState{}, mapErr("stream state", err)
	}
	defer rows.Close()
	var st notify.StreamState
	for rows.Next() {
		var (
			stream      string
			last, share int64
		)
		if err := rows.Scan(&stream, &last, &share); err != nil {
			return notify.StreamState{}, mapErr("stream state", err)
		}
		if stream == notify.BroadcastStream {
			st.Broadcast, st.Unread.Broadcast = last, share
		} else {
			st.User, st.Unread.User = last, share
		}
	}
	if err := rows.Err(); err != nil {
		return notify.StreamState{}, mapErr("stream state", err)
	}
	return st, nil
}

// readEventsSQL reads both stream heads and up to $4 events of each stream
// after the cursor in one statement, hence one snapshot: heads and events
// agree, and (see the package doc) no event is missing below a visible one.
// Rows with a NULL seq are heads.
const readEventsSQL = `SELECT stream, NULL::bigint, last_seq, pruned_seq, NULL, NULL, NULL::timestamptz
	FROM streams WHERE stream IN ($1, '')
	UNION ALL
	(SELECT stream, seq, NULL, NULL, name, data, created_at FROM events
	 WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT $4)
	UNION ALL
	(SELECT stream, seq, NULL, NULL, name, data, created_at FROM events
	 WHERE stream = '' AND seq > $3 ORDER BY seq LIMIT $4)`

// ReadEvents returns the page after pos (see notify.Store): up to limit
// events of each stream, merged by CreatedAt into at most limit.
func (s *Store) ReadEvents(ctx context.Context, userID string, pos notify.Position, limit int) (notify.EventPage, error) {
	if s.closed.Load() {
		return notify.EventPage{}, errClosed
	}
	rows, err := s.pool.Query(ctx, readEventsSQL, userID, pos.User, pos.Broadcast, max(limit, 0))
	if err != nil {
		return notify.EventPage{}, mapErr("read events", err)
	}
	defer rows.Close()
	var (
		user, bc   streamHead
		own, bcast []notify.Event
	)
	for rows.Next() {
		var (
			stream       string
			seq          *int64
			last, pruned *int64
			name, data   *string
			at           *time.Time
		)
		if err := rows.Scan(&stream, &seq, &last, &pruned, &name, &data, &at); err != nil {
			return notify.EventPage{}, mapErr("read events", err)
		}
		switch {
		case seq == nil && stream == notify.BroadcastStream:
			bc = streamHead{*last, *pruned}
		case seq == nil:
			user = streamHead{*last, *pruned}
		case stream == notify.BroadcastStream:
			bcast = append(bcast, event(stream, *seq, *name, data, *at))
		default:
			own = append(own, event(stream, *seq, *name, data, *at))
		}
	}
	if err := rows.Err(); err != nil {
		return notify.EventPage{}, mapErr("read events", err)
	}
	if pos.User < user.pruned || pos.User > user.last || pos.Broadcast < bc.pruned || pos.Broadcast > bc.last {
		return notify.EventPage{}, notify.ErrCursorGone
	}
	bySeq := func(a, b notify.Event) int { return int(a.Seq - b.Seq) }
	slices.SortFunc(own, bySeq) // UNION ALL promises no order between rows
	slices.SortFunc(bcast, bySeq)
	return notify.NewEventPage(pos, own, bcast, limit), nil
}

// streamHead is one row of streams (zero for a stream never written).
type streamHead struct {
	last, pruned int64
}
