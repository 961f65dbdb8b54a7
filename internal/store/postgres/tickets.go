package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

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
	err := s.w.do(ctx, &request{
		sql:  `INSERT INTO tickets(hash, user_id, token_expiry, expires_at) VALUES ($1, $2, $3, $4)`,
		args: []any{t.Hash, t.UserID, t.TokenExpiry, t.ExpiresAt},
		scan: func(rows pgx.Rows) error { return nil },
	})
	return mapErr("create ticket", err)
}

// ConsumeTicket deletes and returns the ticket with hash if it expires after
// now, else notify.ErrNotFound. The delete is committed before the ticket is
// returned, and a row is deleted once, so a ticket is returned at most once
// across instances.
func (s *Store) ConsumeTicket(ctx context.Context, hash string, now time.Time) (notify.Ticket, error) {
	if s.closed.Load() {
		return notify.Ticket{}, errClosed
	}
	var (
		out   notify.Ticket
		found bool
	)
	err := s.w.do(ctx, &request{
		sql: `DELETE FROM tickets WHERE hash = $1 AND expires_at > $2
			RETURNING user_id, token_expiry, expires_at`,
		args: []any{hash, now},
		scan: func(rows pgx.Rows) error {
			out, found = notify.Ticket{Hash: hash}, false
			for rows.Next() {
				if err := rows.Scan(&out.UserID, &out.TokenExpiry, &out.ExpiresAt); err != nil {
					return err
				}
				found = true
			}
			return nil
		},
	})
	if err != nil {
		return notify.Ticket{}, mapErr("consume ticket", err)
	}
	if !found {
		return notify.Ticket{}, notify.ErrNotFound
	}
	out.TokenExpiry, out.ExpiresAt = out.TokenExpiry.UTC(), out.ExpiresAt.UTC()
	return out, nil
}
