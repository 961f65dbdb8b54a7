package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-notify/herald/internal/notify"
)

// Import stores the notifications of in whose ImportID is new, with their
// events, in one group-committed transaction (see notify.Store and
// herald_import): one statement, after the batch has locked every user's
// stream.
func (s *Store) Import(ctx context.Context, in notify.ImportInput) (notify.ImportOutput, error) {
	if s.closed.Load() {
		return notify.ImportOutput{}, errClosed
	}
	if err := in.Check(); err != nil {
		return notify.ImportOutput{}, err
	}
	ns := in.Notifications
	var (
		importIDs = make([]string, len(ns))
		users     = make([]string, len(ns))
		ids       = make([]string, len(ns))
		created   = make([]time.Time, len(ns))
		read      = make([]*time.Time, len(ns))
		types     = make([]string, len(ns))
		titles    = make([]string, len(ns))
		messages  = make([]string, len(ns))
		datas     = make([]*string, len(ns))
		links     = make([]string, len(ns))
		collapse  = make([]*string, len(ns))
		evData    = make([]string, len(ns))
	)
	for i, n := range ns {
		d, err := notify.NotificationEventData(n.Notification)
		if err != nil {
			return notify.ImportOutput{}, fmt.Errorf("import: encode event: %w", err)
		}
		importIDs[i], users[i], ids[i], evData[i] = n.ImportID, n.UserID, n.ID, string(d)
		created[i] = n.CreatedAt.UTC().Truncate(time.Microsecond)
		if n.ReadAt != nil {
			t := n.ReadAt.UTC().Truncate(time.Microsecond)
			read[i] = &t
		}
		types[i], titles[i], messages[i], datas[i], links[i] = n.Type, n.Title, n.Message, nullJSON(n.Data), n.Link
		if n.CollapseKey != "" {
			k := n.CollapseKey
			collapse[i] = &k
		}
	}
	now := s.now().UTC().Truncate(time.Microsecond)

	var out notify.ImportOutput
	err := s.w.do(ctx, &request{
		streams: users,
		sql: `SELECT o_ord, o_seq, o_share FROM herald_import(
			$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		args: []any{importIDs, users, ids, created, read, types, titles, messages, datas, links, collapse, evData, now},
		scan: func(rows pgx.Rows) error {
			out = notify.ImportOutput{}
			for rows.Next() {
				var ord, seq, share int64
				if err := rows.Scan(&ord, &seq, &share); err != nil {
					return err
				}
				if ord < 1 || ord > int64(len(ns)) {
					return fmt.Errorf("import: position for line %d of %d", ord, len(ns))
				}
				i := ord - 1
				out.Events = append(out.Events, counted(notify.Event{
					UserID: users[i], Seq: seq, Name: notify.EventNotification,
					Data: json.RawMessage(evData[i]), CreatedAt: now,
				}, share))
			}
			out.Imported = len(out.Events)
			out.Skipped = len(ns) - out.Imported
			return nil
		},
	})
	if err != nil {
		return notify.ImportOutput{}, mapErr("import", err)
	}
	return out, nil
}

// EraseUser deletes everything stored about userID and moves the user's
// stream past every position issued so far, in one group-committed
// transaction holding the stream's lock (see notify.Store and
// herald_erase_user).
func (s *Store) EraseUser(ctx context.Context, userID string) error {
	if s.closed.Load() {
		return errClosed
	}
	if userID == notify.BroadcastStream {
		return notify.Errorf(notify.CodeInvalid, "user: required")
	}
	err := s.w.do(ctx, &request{
		streams: []string{userID},
		sql:     `SELECT herald_erase_user($1)`,
		args:    []any{userID},
		scan:    func(pgx.Rows) error { return nil },
	})
	return mapErr("erase user", err)
}
