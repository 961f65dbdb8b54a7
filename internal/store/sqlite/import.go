package sqlite

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
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
		fresh, err := claimImports(tx, ns, now)
		if err != nil {
			return err
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

// claimImports inserts the import ids of ns, in key order (B-tree
// friendly), skipping those already stored, and returns the indexes in ns
// of the new ones, in ns's order.
func claimImports(tx *wtx, ns []notify.ImportedNotification, now time.Time) ([]int, error) {
	order := make([]int, len(ns))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(ns[a].ImportID, ns[b].ImportID) })
	claimed := make(map[string]bool, len(ns))
	var q [chunkSizes]string
	for len(order) > 0 {
		rows := chunkRows(len(order))
		if q[rows.index] == "" {
			q[rows.index] = multiRowSQL(`INSERT INTO imports(import_id, user_id, imported_at) VALUES `, 3, rows.n) +
				` ON CONFLICT(import_id) DO NOTHING RETURNING import_id`
		}
		args := make([]any, 0, 3*rows.n)
		for _, i := range order[:rows.n] {
			args = append(args, ns[i].ImportID, ns[i].UserID, micros(now))
		}
		if err := queryStrings(tx, q[rows.index], args, func(id string) { claimed[id] = true }); err != nil {
			return nil, fmt.Errorf("claim import ids: %w", err)
		}
		order = order[rows.n:]
	}
	fresh := make([]int, 0, len(claimed))
	for i, n := range ns {
		if claimed[n.ImportID] {
			fresh = append(fresh, i)
		}
	}
	return fresh, nil
}

// queryStrings runs a query returning one text column and calls fn for
// each row.
func queryStrings(tx *wtx, query string, args []any, fn func(string)) error {
	rows, err := tx.query(query, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		fn(v)
	}
	return errors.Join(rows.Err(), rows.Close())
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

// insertImported inserts the notifications ns[i] for i in fresh, in the
// table's key order, (user, id): B-tree friendly.
func insertImported(tx *wtx, ns []notify.ImportedNotification, fresh []int) error {
	byID := slices.Clone(fresh)
	slices.SortFunc(byID, func(a, b int) int {
		return cmp.Or(strings.Compare(ns[a].UserID, ns[b].UserID), strings.Compare(ns[a].ID, ns[b].ID))
	})
	args := make([]any, 0, len(fresh)*importNotificationCols)
	for _, i := range byID {
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
	}
	// Inserted by stream and position (the primary key's order).
	sorted := slices.Clone(evs)
	slices.SortStableFunc(sorted, func(a, b notify.Event) int { return strings.Compare(a.UserID, b.UserID) })
	args := make([]any, 0, len(fresh)*eventCols)
	for _, e := range sorted {
		args = append(args, e.UserID, e.Seq, e.Name, []byte(e.Data), micros(now))
	}
	var q [chunkSizes]string
	if err := execRows(tx, &q, importEventsHead, eventCols, args); err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	return evs, nil
}
