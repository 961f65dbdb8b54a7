package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-notify/herald/internal/notify"
)

// createTicketSQL deletes the user's expired tickets and stores the new one
// unless max ($6, > 0) unexpired ones remain. The statement sees one
// snapshot, taken before its DELETE: hence the count's own expiry filter.
const createTicketSQL = `WITH expired AS (DELETE FROM tickets WHERE user_id = $2 AND expires_at <= $5)
INSERT INTO tickets(hash, user_id, token_expiry, expires_at)
SELECT $1, $2, $3, $4
WHERE $6::int <= 0 OR (SELECT count(*) FROM tickets WHERE user_id = $2 AND expires_at > $5) < $6::int
RETURNING true`

// CreateTicket stores t durably, after deleting the user's tickets expired
// at now, unless max > 0 and the user still holds max tickets: then it
// returns notify.ErrTooManyTickets. Calls racing in concurrent
// transactions may each see the count before the others commit (see
// notify.Store). A hash already stored is an error.
func (s *Store) CreateTicket(ctx context.Context, t notify.Ticket, now time.Time, max int) error {
	if s.closed.Load() {
		return errClosed
	}
	if t.Hash == "" {
		return notify.Errorf(notify.CodeInvalid, "ticket: hash required")
	}
	var stored bool
	err := s.w.do(ctx, &request{
		sql:  createTicketSQL,
		args: []any{t.Hash, t.UserID, t.TokenExpiry, t.ExpiresAt, now, max},
		scan: func(rows pgx.Rows) error {
			stored = false
			for rows.Next() {
				stored = true
			}
			return nil
		},
	})
	if err == nil && !stored {
		err = notify.ErrTooManyTickets
	}
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
