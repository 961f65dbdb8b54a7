package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// The multi-row statements of Import. Plain INSERTs (not OR ROLLBACK, as in
// publishMany): Import runs in savepoints too, where a conflict must undo
// its own statement only.
const (
	importNotificationsHead = `INSERT INTO notifications
		(id, user_id, type, title, message, data, link, collapse_key, created_at, read_at) VALUES `
	importNotificationCols = 10
	importEventsHead       = `INSERT INTO events(stream, seq, name, data, created_at) VALUES `
)

// Import stores the notifications of in whose ImportID is new, with their
// events, in one savepoint of a group-committed transaction (see
// notify.Store). Each ImportID is claimed first, row by row, so that one
// already imported is skipped; the rest is written with multi-row
// statements.
func (s *Store) Import(ctx context.Context, in notify.ImportInput) (notify.ImportOutput, error) {
	if s.closed.Load() {
		return notify.ImportOutput{}, errClosed
	}
	ns := in.Notifications
	datas, err := importEventData(in)
	if err != nil {
		return notify.ImportOutput{}, err
	}
	var out notify.ImportOutput
	err = s.w.do(ctx, func(tx *wtx) error {
		out = notify.ImportOutput{}
		now := s.now().UTC().Truncate(time.Microsecond)
		fresh := make([]int, 0, len(ns))
		for i, n := range ns {
			k, err := tx.exec(`INSERT INTO imports(import_id, user_id, imported_at) VALUES (?, ?, ?)
				ON CONFLICT(import_id) DO NOTHING`, n.ImportID, n.UserID, micros(now))
			if err != nil {
				return fmt.Errorf("claim import id: %w", err)
			}
			if k == 1 {
				fresh = append(fresh, i)
			}
		}
		out.Skipped = len(ns) - len(fresh)
		if len(fresh) == 0 {
			return nil
		}
		if err := insertImported(tx, ns, fresh); err != nil {
			return err
		}
		evs, err := appendImported(tx, ns, fresh, datas, now)
		if err != nil {
			return err
		}
		out.Imported, out.Events = len(fresh), evs
		return nil
	})
	if err != nil {
		return notify.ImportOutput{}, mapErr("import", err)
	}
	return out, nil
}

// importEventData checks in and returns the data of each one's
// notification event: the notification as clients see it, read state
// included.
func importEventData(in notify.ImportInput) ([][]byte, error) {
	if err := in.Check(); err != nil {
		return nil, err
	}
	datas := make([][]byte, len(in.Notifications))
	for i, n := range in.Notifications {
		d, err := notify.NotificationEventData(n.Notification)
		if err != nil {
			return nil, fmt.Errorf("import: encode event: %w", err)
		}
		datas[i] = d
	}
	return datas, nil
}

// insertImported inserts the notifications ns[i] for i in fresh.
func insertImported(tx *wtx, ns []notify.ImportedNotification, fresh []int) error {
	args := make([]any, 0, len(fresh)*importNotificationCols)
	for _, i := range fresh {
		n := ns[i]
		var data, key, read any
		if n.Data != nil {
			data = []byte(n.Data)
		}
		if n.CollapseKey != "" {
			key = n.CollapseKey
		}
		if n.ReadAt != nil {
			read = micros(*n.ReadAt)
		}
		args = append(args, n.ID, n.UserID, n.Type, n.Title, n.Message, data, n.Link, key, micros(n.CreatedAt), read)
	}
	var q [chunkSizes]string
	if err := execRows(tx, &q, importNotificationsHead, importNotificationCols, args); err != nil {
		return fmt.Errorf("insert notifications: %w", err)
	}
	return nil
}

// appendImported advances each user's stream once by the number of its
// imported notifications (and its unread count by the unread ones), then
// stores their events at the positions taken, in order, and returns them
// Counted.
func appendImported(tx *wtx, ns []notify.ImportedNotification, fresh []int, datas [][]byte, now time.Time) ([]notify.Event, error) {
	type head struct{ seq, share, n, unread int64 }
	heads := make(map[string]*head)
	var order []string
	for _, i := range fresh {
		h := heads[ns[i].UserID]
		if h == nil {
			h = &head{}
			heads[ns[i].UserID] = h
			order = append(order, ns[i].UserID)
		}
		h.n++
		if ns[i].ReadAt == nil {
			h.unread++
		}
	}
	for _, user := range order {
		h := heads[user]
		var last, share int64
		if err := tx.queryRow(`INSERT INTO streams(stream, last_seq, pruned_seq, unread, seen) VALUES (?, ?, 0, ?, 0)
			ON CONFLICT(stream) DO UPDATE SET last_seq = last_seq + excluded.last_seq,
				unread = unread + excluded.unread
			RETURNING last_seq, unread - seen`, user, h.n, h.unread).Scan(&last, &share); err != nil {
			return nil, fmt.Errorf("advance stream: %w", err)
		}
		h.seq, h.share = last-h.n, share-h.unread // the head before the import
	}
	evs := make([]notify.Event, 0, len(fresh))
	args := make([]any, 0, len(fresh)*eventCols)
	for _, i := range fresh {
		n := ns[i]
		h := heads[n.UserID]
		h.seq++
		if n.ReadAt == nil {
			h.share++
		}
		evs = append(evs, notify.Event{
			UserID: n.UserID, Seq: h.seq, Name: notify.EventNotification, Data: json.RawMessage(datas[i]),
			CreatedAt: now, Unread: h.share, Counted: true,
		})
		args = append(args, n.UserID, h.seq, notify.EventNotification, datas[i], micros(now))
	}
	var q [chunkSizes]string
	if err := execRows(tx, &q, importEventsHead, eventCols, args); err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	return evs, nil
}
