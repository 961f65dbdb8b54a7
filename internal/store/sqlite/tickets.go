package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// CreateTicket stores t durably, after deleting the user's tickets expired
// at now, unless max > 0 and the user still holds max tickets: then it
// returns notify.ErrTooManyTickets (see notify.Store; the single writer
// makes the count exact here). A hash already stored is an error.
func (s *Store) CreateTicket(ctx context.Context, t notify.Ticket, now time.Time, max int) error {
	if s.closed.Load() {
		return errClosed
	}
	if t.Hash == "" {
		return notify.Errorf(notify.CodeInvalid, "ticket: hash required")
	}
	insert := `INSERT INTO tickets(hash, user_id, token_expiry, expires_at) VALUES (?, ?, ?, ?)`
	args := []any{t.Hash, t.UserID, micros(t.TokenExpiry), micros(t.ExpiresAt)}
	if max > 0 {
		insert = `INSERT INTO tickets(hash, user_id, token_expiry, expires_at) SELECT ?, ?, ?, ?
			WHERE (SELECT count(*) FROM tickets WHERE user_id = ?) < ?`
		args = append(args, t.UserID, max)
	}
	var stored bool
	err := s.w.do(ctx, func(tx *wtx) error {
		stored = false
		if _, err := tx.exec(`DELETE FROM tickets WHERE user_id = ? AND expires_at <= ?`, t.UserID, micros(now)); err != nil {
			return fmt.Errorf("delete expired tickets: %w", err)
		}
		n, err := tx.exec(insert, args...)
		if err != nil {
			return fmt.Errorf("insert ticket: %w", err)
		}
		stored = n == 1
		return nil
	})
	if err == nil && !stored {
		err = notify.ErrTooManyTickets
	}
	return mapErr("create ticket", err)
}

// ConsumeTicket deletes and returns the ticket with hash if it expires after
// now, else notify.ErrNotFound. The delete is committed before the ticket is
// returned, so a ticket is returned at most once across processes.
func (s *Store) ConsumeTicket(ctx context.Context, hash string, now time.Time) (notify.Ticket, error) {
	if s.closed.Load() {
		return notify.Ticket{}, errClosed
	}
	var out notify.Ticket
	err := s.w.do(ctx, func(tx *wtx) error {
		out = notify.Ticket{Hash: hash}
		var tokenExp, exp int64
		err := tx.queryRow(`DELETE FROM tickets WHERE hash = ? AND expires_at > ?
			RETURNING user_id, token_expiry, expires_at`, hash, micros(now)).Scan(&out.UserID, &tokenExp, &exp)
		if errors.Is(err, sql.ErrNoRows) {
			return notify.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("delete ticket: %w", err)
		}
		out.TokenExpiry, out.ExpiresAt = fromMicros(tokenExp), fromMicros(exp)
		return nil
	})
	if err != nil {
		return notify.Ticket{}, mapErr("consume ticket", err)
	}
	return out, nil
}
