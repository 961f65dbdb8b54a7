package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// List page sizes: a query's Limit is clamped to [1, MaxListLimit].
const MaxListLimit = 100

// List returns a page of the user's inbox: own notifications and the
// broadcasts the user has not deleted, greatest id first.
func (s *Store) List(ctx context.Context, userID string, q notify.ListQuery) (notify.Page, error) {
	if s.closed.Load() {
		return notify.Page{}, errClosed
	}
	limit := min(max(q.Limit, 1), MaxListLimit)
	st := s.rq.list[listVariant(q.Before != "", q.UnreadOnly)]
	rows, err := st.QueryContext(ctx, userID, q.Before, limit+1)
	if err != nil {
		return notify.Page{}, mapErr("list", err)
	}
	defer rows.Close()
	var page notify.Page
	for rows.Next() {
		var (
			n       notify.Notification
			data    []byte
			created int64
			readAt  sql.NullInt64
			owner   string
		)
		if err := rows.Scan(&n.ID, &owner, &n.Type, &n.Title, &n.Message, &data, &n.Link,
			&created, &readAt); err != nil {
			return notify.Page{}, mapErr("list", err)
		}
		if data != nil {
			n.Data = json.RawMessage(data)
		}
		n.UserID = owner
		n.CreatedAt = fromMicros(created)
		if readAt.Valid {
			t := fromMicros(readAt.Int64)
			n.ReadAt = &t
		}
		page.Notifications = append(page.Notifications, n)
	}
	if err := rows.Err(); err != nil {
		return notify.Page{}, mapErr("list", err)
	}
	if len(page.Notifications) > limit {
		page.Notifications = page.Notifications[:limit]
		page.Next = page.Notifications[limit-1].ID
	}
	return page, nil
}

// UnreadCount returns the user's unread count: own unread notifications
// plus the broadcasts the user has neither read nor deleted, kept in the
// stream rows (see State).
func (s *Store) UnreadCount(ctx context.Context, userID string) (int, error) {
	st, err := s.State(ctx, userID)
	if err != nil {
		return 0, err
	}
	return st.Unread.Count(), nil
}

// inboxEntry is what the writer knows about one id in one user's inbox.
type inboxEntry struct {
	broadcast bool
	read      bool
}

// lookupInbox finds id in userID's inbox, or returns notify.ErrNotFound when
// it is unknown, another user's, or (a broadcast) deleted by this user.
func lookupInbox(tx *wtx, userID, id string) (inboxEntry, error) {
	var (
		owner  string
		readAt sql.NullInt64
		stRead sql.NullInt64
		stDel  sql.NullInt64
	)
	err := tx.queryRow(`SELECT n.user_id, n.read_at, s.read_at, s.deleted
		FROM notifications n
		LEFT JOIN broadcast_state s ON n.user_id = '' AND s.user_id = ? AND s.notification_id = n.id
		WHERE n.id = ? AND n.user_id IN (?, '')`, userID, id, userID).Scan(&owner, &readAt, &stRead, &stDel)
	if errors.Is(err, sql.ErrNoRows) {
		return inboxEntry{}, notify.ErrNotFound
	}
	if err != nil {
		return inboxEntry{}, fmt.Errorf("find notification: %w", err)
	}
	if owner != notify.BroadcastStream {
		return inboxEntry{read: readAt.Valid}, nil
	}
	if stDel.Valid && stDel.Int64 != 0 {
		return inboxEntry{}, notify.ErrNotFound
	}
	return inboxEntry{broadcast: true, read: stRead.Valid}, nil
}

// MarkRead marks id read for userID (see notify.Store). For a broadcast the
// read state is the user's alone; the event goes to the user's stream.
func (s *Store) MarkRead(ctx context.Context, userID, id string) (*notify.Event, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	var out *notify.Event
	err := s.w.do(ctx, func(tx *wtx) error {
		out = nil
		e, err := lookupInbox(tx, userID, id)
		if err != nil || e.read {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		if e.broadcast {
			_, err = tx.exec(`INSERT INTO broadcast_state(user_id, notification_id, read_at, deleted)
				VALUES (?, ?, ?, 0)
				ON CONFLICT(user_id, notification_id) DO UPDATE SET read_at = excluded.read_at`,
				userID, id, micros(now))
		} else {
			_, err = tx.exec(`UPDATE notifications SET read_at = ? WHERE user_id = ? AND id = ?`, micros(now), userID, id)
		}
		if err != nil {
			return fmt.Errorf("mark read: %w", err)
		}
		// An unread broadcast gains its first state row: one more seen.
		d := unreadDelta{unread: -1}
		if e.broadcast {
			d = unreadDelta{seen: 1}
		}
		ev, err := appendIDsEvent(tx, userID, notify.EventRead, []string{id}, now, d)
		if err != nil {
			return err
		}
		out = &ev
		return nil
	})
	if err != nil {
		return nil, mapErr("mark read", err)
	}
	return out, nil
}

// MarkAllRead marks the user's unread own notifications and unread
// broadcasts read, appending one {"all":true} event when any changed.
func (s *Store) MarkAllRead(ctx context.Context, userID string) (int, *notify.Event, error) {
	if s.closed.Load() {
		return 0, nil, errClosed
	}
	var (
		updated int
		out     *notify.Event
	)
	err := s.w.do(ctx, func(tx *wtx) error {
		updated, out = 0, nil
		now := micros(s.now().UTC().Truncate(time.Microsecond))
		own, err := tx.exec(`UPDATE notifications SET read_at = ?
			WHERE user_id = ? AND read_at IS NULL`, now, userID)
		if err != nil {
			return fmt.Errorf("mark own read: %w", err)
		}
		// "WHERE true" resolves the INSERT … SELECT … ON CONFLICT parsing
		// ambiguity. Rows the DO UPDATE's WHERE skips are not counted.
		bc, err := tx.exec(`INSERT INTO broadcast_state(user_id, notification_id, read_at, deleted)
			SELECT ?, id, ?, 0 FROM notifications WHERE user_id = '' AND true
			ON CONFLICT(user_id, notification_id) DO UPDATE SET read_at = excluded.read_at
			WHERE broadcast_state.read_at IS NULL AND broadcast_state.deleted = 0`, userID, now)
		if err != nil {
			return fmt.Errorf("mark broadcasts read: %w", err)
		}
		updated = int(own + bc)
		if updated == 0 {
			return nil
		}
		ev, err := appendEvent(tx, notify.Event{
			UserID: userID, Name: notify.EventRead, Data: json.RawMessage(`{"all":true}`),
			CreatedAt: fromMicros(now),
		}, unreadDelta{unread: -own, seen: bc})
		if err != nil {
			return err
		}
		out = &ev
		return nil
	})
	if err != nil {
		return 0, nil, mapErr("mark all read", err)
	}
	return updated, out, nil
}

// Delete removes id from the user's inbox: the row for an own notification,
// the user's view of it for a broadcast.
func (s *Store) Delete(ctx context.Context, userID, id string) (*notify.Event, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	var out *notify.Event
	err := s.w.do(ctx, func(tx *wtx) error {
		out = nil
		e, err := lookupInbox(tx, userID, id)
		if err != nil {
			return err
		}
		if e.broadcast {
			_, err = tx.exec(`INSERT INTO broadcast_state(user_id, notification_id, read_at, deleted)
				VALUES (?, ?, NULL, 1)
				ON CONFLICT(user_id, notification_id) DO UPDATE SET deleted = 1`, userID, id)
		} else {
			_, err = tx.exec(`DELETE FROM notifications WHERE user_id = ? AND id = ?`, userID, id)
		}
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		// Deleting an unread notification lowers the count: an own one
		// leaves the unread ones, a broadcast gains its first state row.
		var d unreadDelta
		switch {
		case e.read:
		case e.broadcast:
			d.seen = 1
		default:
			d.unread = -1
		}
		ev, err := appendIDsEvent(tx, userID, notify.EventDeleted, []string{id}, s.now().UTC().Truncate(time.Microsecond), d)
		if err != nil {
			return err
		}
		out = &ev
		return nil
	})
	if err != nil {
		return nil, mapErr("delete", err)
	}
	return out, nil
}
