package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// CreateTicket stores t durably. A hash already stored is an error.
func (s *Store) CreateTicket(ctx context.Context, t notify.Ticket) error {
	if s.closed.Load() {
		return errClosed
	}
	if t.Hash == "" {
		return notify.Errorf(notify.CodeInvalid, "ticket: hash required")
	}
	err := s.w.do(ctx, func(tx *wtx) error {
		if _, err := tx.exec(`INSERT INTO tickets(hash, user_id, token_expiry, expires_at) VALUES (?, ?, ?, ?)`,
			t.Hash, t.UserID, micros(t.TokenExpiry), micros(t.ExpiresAt)); err != nil {
			return fmt.Errorf("insert ticket: %w", err)
		}
		return nil
	})
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
