package postgres

import (
	"context"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// pruneBatch is the number of rows one prune transaction deletes, so that
// no transaction holds locks or bloats WAL for long.
const pruneBatch = 1000

// Prune deletes, in transactions of at most pruneBatch rows: events created
// before before (raising each stream's pruned_seq), notifications created
// before before with their broadcast read/delete state, idempotency keys
// older than notify.IdempotencyWindow and tickets expired at the store's
// clock. It returns the number of rows deleted, also when ctx ends or an
// error stops it part way (the rows deleted so far stay deleted). Prune
// runs on the pool, not through the writers: its deletes touch only rows
// that writers no longer change, and its stream locks are taken in the
// writers' order.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	if s.closed.Load() {
		return 0, errClosed
	}
	now := s.now()
	steps := []struct {
		name string
		sql  string
		arg  time.Time
	}{
		{"events", `SELECT herald_prune_events($1, $2)`, before},
		{"notifications", `SELECT herald_prune_notifications($1, $2)`, before},
		{"idempotency keys", `WITH d AS (DELETE FROM idempotency WHERE key IN (
			SELECT key FROM idempotency WHERE created_at <= $1 LIMIT $2) RETURNING 1)
			SELECT count(*) FROM d`, now.Add(-notify.IdempotencyWindow)},
		{"tickets", `WITH d AS (DELETE FROM tickets WHERE hash IN (
			SELECT hash FROM tickets WHERE expires_at <= $1 LIMIT $2) RETURNING 1)
			SELECT count(*) FROM d`, now},
	}
	var total int64
	for _, step := range steps {
		for attempt := 1; ; {
			var n int64
			err := s.pool.QueryRow(ctx, step.sql, step.arg, pruneBatch).Scan(&n)
			if retryable(err) && attempt < maxAttempts {
				attempt++
				continue
			}
			if err != nil {
				return total, mapErr("prune "+step.name, err)
			}
			total += n
			if n < pruneBatch {
				break
			}
		}
	}
	return total, nil
}
