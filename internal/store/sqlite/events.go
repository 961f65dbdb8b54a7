package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/herald-notify/herald/internal/notify"
)

// streamHead is one row of streams (zero for a stream never written):
// its positions and its share of the unread count (unread - seen).
type streamHead struct {
	last, pruned, share int64
}

// heads reads the user's and the broadcast stream's rows, within tx if it is
// not nil.
func (s *Store) heads(ctx context.Context, tx *sql.Tx, userID string) (user, bc streamHead, err error) {
	st := s.rq.head
	if tx != nil {
		st = tx.StmtContext(ctx, st)
	}
	rows, err := st.QueryContext(ctx, userID)
	if err != nil {
		return user, bc, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			stream string
			h      streamHead
		)
		if err := rows.Scan(&stream, &h.last, &h.pruned, &h.share); err != nil {
			return user, bc, err
		}
		if stream == notify.BroadcastStream {
			bc = h
		} else {
			user = h
		}
	}
	return user, bc, rows.Err()
}

// Head returns the last positions of the user's and the broadcast stream.
func (s *Store) Head(ctx context.Context, userID string) (notify.Position, error) {
	if s.closed.Load() {
		return notify.Position{}, errClosed
	}
	u, b, err := s.heads(ctx, nil, userID)
	if err != nil {
		return notify.Position{}, mapErr("head", err)
	}
	return notify.Position{User: u.last, Broadcast: b.last}, nil
}

// State returns the heads and the unread shares of the user's and the
// broadcast stream, read from their stream rows in one snapshot.
func (s *Store) State(ctx context.Context, userID string) (notify.StreamState, error) {
	if s.closed.Load() {
		return notify.StreamState{}, errClosed
	}
	u, b, err := s.heads(ctx, nil, userID)
	if err != nil {
		return notify.StreamState{}, mapErr("stream state", err)
	}
	return notify.StreamState{
		Position: notify.Position{User: u.last, Broadcast: b.last},
		Unread:   notify.UnreadShares{User: u.share, Broadcast: b.share},
	}, nil
}

// ReadEvents returns the page after pos (see notify.Store): up to limit
// events of each stream, merged by CreatedAt into at most limit. The
// stream heads and the events are read in one snapshot.
func (s *Store) ReadEvents(ctx context.Context, userID string, pos notify.Position, limit int) (notify.EventPage, error) {
	if s.closed.Load() {
		return notify.EventPage{}, errClosed
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return notify.EventPage{}, mapErr("read events", err)
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to keep
	u, b, err := s.heads(ctx, tx, userID)
	if err != nil {
		return notify.EventPage{}, mapErr("read events", err)
	}
	if pos.User < u.pruned || pos.User > u.last || pos.Broadcast < b.pruned || pos.Broadcast > b.last {
		return notify.EventPage{}, notify.ErrCursorGone
	}
	st := tx.StmtContext(ctx, s.rq.events)
	var own, bc []notify.Event
	if limit > 0 && pos.User < u.last {
		if own, err = readStream(ctx, st, userID, pos.User, limit); err != nil {
			return notify.EventPage{}, mapErr("read events", err)
		}
	}
	if limit > 0 && pos.Broadcast < b.last {
		if bc, err = readStream(ctx, st, notify.BroadcastStream, pos.Broadcast, limit); err != nil {
			return notify.EventPage{}, mapErr("read events", err)
		}
	}
	return notify.NewEventPage(pos, own, bc, limit), nil
}

func readStream(ctx context.Context, st *sql.Stmt, stream string, after int64, limit int) ([]notify.Event, error) {
	rows, err := st.QueryContext(ctx, stream, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notify.Event
	for rows.Next() {
		e := notify.Event{UserID: stream}
		var (
			data    []byte
			created int64
		)
		if err := rows.Scan(&e.Seq, &e.Name, &data, &created); err != nil {
			return nil, err
		}
		if data != nil {
			e.Data = json.RawMessage(data)
		}
		e.CreatedAt = fromMicros(created)
		out = append(out, e)
	}
	return out, rows.Err()
}
