package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// Publish stores in.Notifications and their events in one savepoint of a
// group-committed transaction (see notify.Store). The notification event of
// each notification carries the notification's CreatedAt; a collapse's
// notification.deleted event carries the store's clock.
func (s *Store) Publish(ctx context.Context, in notify.PublishInput) (notify.PublishOutput, error) {
	if s.closed.Load() {
		return notify.PublishOutput{}, errClosed
	}
	if len(in.Notifications) == 0 {
		return notify.PublishOutput{}, notify.Errorf(notify.CodeInvalid, "notifications: at least one is required")
	}
	// Everything that does not need the transaction is prepared here, on
	// the caller's goroutine, to keep the writer's critical section short.
	receipts := make([]notify.Receipt, len(in.Notifications))
	datas := make([]json.RawMessage, len(in.Notifications))
	for i, n := range in.Notifications {
		if n.ID == "" {
			return notify.PublishOutput{}, notify.Errorf(notify.CodeInvalid, "notifications[%d]: id required", i)
		}
		n.ReadAt = nil
		d, err := notify.NotificationEventData(n)
		if err != nil {
			return notify.PublishOutput{}, fmt.Errorf("publish: encode event: %w", err)
		}
		datas[i] = d
		if n.UserID == notify.BroadcastStream {
			receipts[i] = notify.Receipt{ID: n.ID, Broadcast: true}
		} else {
			receipts[i] = notify.Receipt{ID: n.ID, UserID: n.UserID}
		}
	}
	var receiptsJSON []byte
	if in.IdempotencyKey != "" {
		b, err := json.Marshal(receipts)
		if err != nil {
			return notify.PublishOutput{}, fmt.Errorf("publish: encode receipts: %w", err)
		}
		receiptsJSON = b
	}

	var out notify.PublishOutput
	fn := func(tx *wtx) error {
		out = notify.PublishOutput{}
		now := s.now().UTC().Truncate(time.Microsecond)
		if in.IdempotencyKey != "" {
			prior, dup, err := lookupIdempotency(tx, in.IdempotencyKey, now)
			if err != nil {
				return err
			}
			if dup {
				out = notify.PublishOutput{Receipts: prior, Duplicate: true}
				return nil
			}
		}
		for i, n := range in.Notifications {
			key := n.CollapseKey
			if key == "" {
				key = in.CollapseKey
			}
			if key != "" && n.UserID != notify.BroadcastStream {
				ev, err := collapse(tx, n.UserID, key, now)
				if err != nil {
					return err
				}
				if ev != nil {
					out.Events = append(out.Events, *ev)
				}
			} else {
				key = "" // collapse is per user; a broadcast has no unread state of its own
			}
			if err := insertNotification(tx, n, key); err != nil {
				return err
			}
			ev, err := appendEvent(tx, notify.Event{
				UserID: n.UserID, Name: notify.EventNotification, Data: datas[i],
				CreatedAt: n.CreatedAt.UTC().Truncate(time.Microsecond),
			}, unreadDelta{unread: 1})
			if err != nil {
				return err
			}
			out.Events = append(out.Events, ev)
		}
		if in.IdempotencyKey != "" {
			if _, err := tx.exec(`INSERT INTO idempotency(key, receipts, created_at) VALUES (?, ?, ?)
				ON CONFLICT(key) DO UPDATE SET receipts = excluded.receipts, created_at = excluded.created_at`,
				in.IdempotencyKey, receiptsJSON, micros(now)); err != nil {
				return fmt.Errorf("store idempotency key: %w", err)
			}
		}
		out.Receipts = receipts
		return nil
	}
	r := &request{ctx: ctx, fn: fn}
	if isPlain(in) {
		r.plain = &plainPublish{notes: in.Notifications, datas: datas, receipts: receipts, out: &out}
	}
	if err := s.w.doRequest(r); err != nil {
		return notify.PublishOutput{}, mapErr("publish", err)
	}
	return out, nil
}

// isPlain reports whether in can be stored by publishMany: no idempotency
// key and nothing to collapse.
func isPlain(in notify.PublishInput) bool {
	if in.IdempotencyKey != "" {
		return false
	}
	for _, n := range in.Notifications {
		if n.UserID == notify.BroadcastStream {
			continue // a broadcast is never collapsed
		}
		if n.CollapseKey != "" || in.CollapseKey != "" {
			return false
		}
	}
	return true
}

// lookupIdempotency returns the receipts stored under key if it was stored
// less than notify.IdempotencyWindow before now.
func lookupIdempotency(tx *wtx, key string, now time.Time) ([]notify.Receipt, bool, error) {
	var (
		raw     []byte
		created int64
	)
	err := tx.queryRow("SELECT receipts, created_at FROM idempotency WHERE key = ?", key).Scan(&raw, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read idempotency key: %w", err)
	}
	if now.Sub(fromMicros(created)) >= notify.IdempotencyWindow {
		return nil, false, nil // expired: this publish replaces it
	}
	var rs []notify.Receipt
	if err := json.Unmarshal(raw, &rs); err != nil {
		return nil, false, fmt.Errorf("decode idempotency receipts: %w", err)
	}
	return rs, true, nil
}

// collapse deletes the user's unread notifications with key and appends one
// notification.deleted event naming them (nil when there were none).
func collapse(tx *wtx, userID, key string, now time.Time) (*notify.Event, error) {
	rows, err := tx.query(`DELETE FROM notifications
		WHERE user_id = ? AND collapse_key = ? AND read_at IS NULL RETURNING id`, userID, key)
	if err != nil {
		return nil, fmt.Errorf("collapse: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("collapse: %w", err)
		}
		ids = append(ids, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("collapse: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	// Only unread notifications are collapsed.
	ev, err := appendIDsEvent(tx, userID, notify.EventDeleted, ids, now, unreadDelta{unread: -int64(len(ids))})
	if err != nil {
		return nil, err
	}
	return &ev, nil
}

func insertNotification(tx *wtx, n notify.Notification, collapseKey string) error {
	var key any
	if collapseKey != "" {
		key = collapseKey
	}
	var data any
	if n.Data != nil {
		data = []byte(n.Data)
	}
	if _, err := tx.exec(`INSERT INTO notifications
		(id, user_id, type, title, message, data, link, collapse_key, created_at, read_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
		n.ID, n.UserID, n.Type, n.Title, n.Message, data, n.Link, key, micros(n.CreatedAt)); err != nil {
		return fmt.Errorf("insert notification: %w", err)
	}
	return nil
}

// AppendEvents stores durable system events, each at the next position of its
// stream, keeping Name, Data and CreatedAt (truncated to microseconds, the
// stored precision) as given.
func (s *Store) AppendEvents(ctx context.Context, evs []notify.Event) ([]notify.Event, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	if len(evs) == 0 {
		return nil, nil
	}
	for i, e := range evs {
		if e.Name == "" {
			return nil, notify.Errorf(notify.CodeInvalid, "events[%d]: name required", i)
		}
	}
	var out []notify.Event
	err := s.w.do(ctx, func(tx *wtx) error {
		out = make([]notify.Event, 0, len(evs))
		for _, e := range evs {
			e.CreatedAt = e.CreatedAt.UTC().Truncate(time.Microsecond)
			stored, err := appendEvent(tx, e, unreadDelta{})
			if err != nil {
				return err
			}
			out = append(out, stored)
		}
		return nil
	})
	if err != nil {
		return nil, mapErr("append events", err)
	}
	return out, nil
}

// unreadDelta is how a write changes the unread shares of the stream it
// appends to (see the streams table and notify.UnreadShares).
type unreadDelta struct {
	unread, seen int64
}

// appendEvent gives e the next position of its stream, applies d to the
// stream's unread bookkeeping, and stores e, Counted with the stream's share
// after it.
func appendEvent(tx *wtx, e notify.Event, d unreadDelta) (notify.Event, error) {
	err := tx.queryRow(`INSERT INTO streams(stream, last_seq, pruned_seq, unread, seen) VALUES (?, 1, 0, ?, ?)
		ON CONFLICT(stream) DO UPDATE SET last_seq = last_seq + 1,
			unread = unread + excluded.unread, seen = seen + excluded.seen
		RETURNING last_seq, unread - seen`, e.UserID, d.unread, d.seen).Scan(&e.Seq, &e.Unread)
	if err != nil {
		return notify.Event{}, fmt.Errorf("advance stream: %w", err)
	}
	e.Counted = true
	var data any
	if e.Data != nil {
		data = []byte(e.Data)
	}
	if _, err := tx.exec(`INSERT INTO events(stream, seq, name, data, created_at) VALUES (?, ?, ?, ?, ?)`,
		e.UserID, e.Seq, e.Name, data, micros(e.CreatedAt)); err != nil {
		return notify.Event{}, fmt.Errorf("insert event: %w", err)
	}
	return e, nil
}

// appendIDsEvent appends a notification.read/deleted event {"ids":[…]} to
// the user's stream, applying d.
func appendIDsEvent(tx *wtx, userID, name string, ids []string, now time.Time, d unreadDelta) (notify.Event, error) {
	data, err := json.Marshal(struct {
		IDs []string `json:"ids"`
	}{ids})
	if err != nil {
		return notify.Event{}, fmt.Errorf("encode event: %w", err)
	}
	return appendEvent(tx, notify.Event{UserID: userID, Name: name, Data: data, CreatedAt: now}, d)
}
