package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-notify/herald/internal/notify"
)

// MaxListLimit caps a page: a query's Limit is clamped to [1, MaxListLimit].
const MaxListLimit = 100

// listSQL returns the inbox query: own notifications merged with the
// broadcasts the user has not deleted, greatest id first. Parameters: $1
// user id, $2 the Before cursor (only when before), then the row limit. Each
// arm walks the primary key (user_id, id) backwards (the unread index for
// unread pages), and the planner merges the two (Merge Append) and stops at
// the limit; docs/postgres.md has the plans.
func listSQL(before, unreadOnly bool) string {
	ownCond, bcCond, limit := "", "", "$2"
	if before {
		ownCond, bcCond, limit = " AND id < $2", " AND n.id < $2", "$3"
	}
	if unreadOnly {
		ownCond += " AND read_at IS NULL"
		bcCond += " AND s.read_at IS NULL"
	}
	return fmt.Sprintf(`(SELECT id, type, title, message, data, link, created_at, read_at
		FROM notifications WHERE user_id = $1%s ORDER BY id DESC LIMIT %s)
		UNION ALL
		(SELECT n.id, n.type, n.title, n.message, n.data, n.link, n.created_at, s.read_at
		FROM notifications n
		LEFT JOIN broadcast_state s ON s.user_id = $1 AND s.notification_id = n.id
		WHERE n.user_id = ''%s AND s.deleted IS NOT TRUE ORDER BY n.id DESC LIMIT %s)
		ORDER BY id DESC LIMIT %s`, ownCond, limit, bcCond, limit, limit)
}

// List returns a page of the user's inbox: own notifications and the
// broadcasts the user has not deleted, greatest id first.
func (s *Store) List(ctx context.Context, userID string, q notify.ListQuery) (notify.Page, error) {
	if s.closed.Load() {
		return notify.Page{}, errClosed
	}
	limit := min(max(q.Limit, 1), MaxListLimit)
	args := []any{userID, limit + 1}
	if q.Before != "" {
		args = []any{userID, q.Before, limit + 1}
	}
	rows, err := s.pool.Query(ctx, listSQL(q.Before != "", q.UnreadOnly), args...)
	if err != nil {
		return notify.Page{}, mapErr("list", err)
	}
	defer rows.Close()
	var page notify.Page
	for rows.Next() {
		var (
			n    notify.Notification
			data *string
		)
		if err := rows.Scan(&n.ID, &n.Type, &n.Title, &n.Message, &data, &n.Link, &n.CreatedAt, &n.ReadAt); err != nil {
			return notify.Page{}, mapErr("list", err)
		}
		if data != nil {
			n.Data = json.RawMessage(*data)
		}
		n.CreatedAt = n.CreatedAt.UTC()
		if n.ReadAt != nil {
			t := n.ReadAt.UTC()
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

// MarkRead marks id read for userID (see notify.Store). For a broadcast the
// read state is the user's alone; the event goes to the user's stream.
func (s *Store) MarkRead(ctx context.Context, userID, id string) (*notify.Event, error) {
	return s.inboxChange(ctx, "mark read", userID, id, false, notify.EventRead)
}

// Delete removes id from the user's inbox: the row for an own notification,
// the user's view of it for a broadcast.
func (s *Store) Delete(ctx context.Context, userID, id string) (*notify.Event, error) {
	return s.inboxChange(ctx, "delete", userID, id, true, notify.EventDeleted)
}

// inboxChange runs herald_inbox_change and turns its status into the
// notify.Store answer.
func (s *Store) inboxChange(ctx context.Context, op, userID, id string, del bool, name string) (*notify.Event, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	var (
		status string
		seq    *int64
		data   *string
		share  *int64
	)
	err := s.w.do(ctx, &request{
		streams: []string{userID},
		sql:     "SELECT o_status, o_seq, o_data, o_share FROM herald_inbox_change_counted($1, $2, $3, $4)",
		args:    []any{userID, id, del, now},
		scan: func(rows pgx.Rows) error {
			status = ""
			for rows.Next() {
				if err := rows.Scan(&status, &seq, &data, &share); err != nil {
					return err
				}
			}
			return nil
		},
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	switch status {
	case "not_found":
		return nil, notify.ErrNotFound
	case "unchanged":
		return nil, nil
	case "ok":
		if seq == nil || share == nil {
			return nil, fmt.Errorf("%s: no event position", op)
		}
		ev := counted(event(userID, *seq, name, data, now), *share)
		return &ev, nil
	}
	return nil, fmt.Errorf("%s: unexpected status %q", op, status)
}

// MarkAllRead marks the user's unread own notifications and unread
// broadcasts read, appending one {"all":true} event when any changed.
func (s *Store) MarkAllRead(ctx context.Context, userID string) (int, *notify.Event, error) {
	if s.closed.Load() {
		return 0, nil, errClosed
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	var (
		updated int64
		seq     *int64
		share   *int64
	)
	err := s.w.do(ctx, &request{
		streams: []string{userID},
		sql:     "SELECT o_updated, o_seq, o_share FROM herald_mark_all_read_counted($1, $2)",
		args:    []any{userID, now},
		scan: func(rows pgx.Rows) error {
			for rows.Next() {
				if err := rows.Scan(&updated, &seq, &share); err != nil {
					return err
				}
			}
			return nil
		},
	})
	if err != nil {
		return 0, nil, mapErr("mark all read", err)
	}
	if seq == nil || share == nil {
		return int(updated), nil, nil
	}
	ev := notify.Event{UserID: userID, Seq: *seq, Name: notify.EventRead,
		Data: json.RawMessage(`{"all":true}`), CreatedAt: now, Unread: *share, Counted: true}
	return int(updated), &ev, nil
}
