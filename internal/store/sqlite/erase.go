package sqlite

import (
	"context"
	"fmt"

	"github.com/herald-notify/herald/internal/notify"
)

// EraseUser deletes everything stored about userID in one savepoint of a
// group-committed transaction and moves the user's stream past every
// position issued so far (see notify.Store).
func (s *Store) EraseUser(ctx context.Context, userID string) error {
	if s.closed.Load() {
		return errClosed
	}
	if userID == notify.BroadcastStream {
		return notify.Errorf(notify.CodeInvalid, "user: required")
	}
	err := s.w.do(ctx, func(tx *wtx) error {
		var inbox int64 // rows a client may hold a copy of
		for _, del := range []struct {
			what, sql string
			inbox     bool
		}{
			{"notifications", `DELETE FROM notifications WHERE user_id = ?`, true},
			{"broadcast state", `DELETE FROM broadcast_state WHERE user_id = ?`, true},
			{"events", `DELETE FROM events WHERE stream = ?`, true},
			{"tickets", `DELETE FROM tickets WHERE user_id = ?`, false},
			{"import ids", `DELETE FROM imports WHERE user_id = ?`, false},
		} {
			n, err := tx.exec(del.sql, userID)
			if err != nil {
				return fmt.Errorf("erase %s: %w", del.what, err)
			}
			if del.inbox {
				inbox += n
			}
		}
		return retireStream(tx, userID, inbox > 0)
	})
	return mapErr("erase user", err)
}

// retireStream leaves the user's stream row (if any) with no unread count,
// one position past its last and pruned up to there, so that every cursor
// issued before is refused; it does so when changed is set (inbox rows
// were deleted) or the stream holds positions not yet pruned. A row that
// never held an event is deleted.
func retireStream(tx *wtx, userID string, changed bool) error {
	if _, err := tx.exec(`UPDATE streams SET last_seq = last_seq + 1, pruned_seq = last_seq + 1, unread = 0, seen = 0
		WHERE stream = ? AND last_seq > 0 AND (? OR last_seq > pruned_seq)`, userID, changed); err != nil {
		return fmt.Errorf("retire stream: %w", err)
	}
	if _, err := tx.exec(`DELETE FROM streams WHERE stream = ? AND last_seq = 0`, userID); err != nil {
		return fmt.Errorf("retire stream: %w", err)
	}
	return nil
}
