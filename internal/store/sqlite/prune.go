package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// pruneBatch is the number of rows one prune transaction deletes, so that the
// writer is never held for long and other writes interleave.
const pruneBatch = 1000

// Prune deletes, in batches of pruneBatch rows per transaction: events
// created before before (raising each stream's pruned_seq), notifications
// created before before with their broadcast read/delete state, idempotency
// keys older than notify.IdempotencyWindow and tickets expired at the store's
// clock. It returns the number of rows deleted, also when ctx ends or an
// error stops it part way (the rows deleted so far stay deleted).
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	if s.closed.Load() {
		return 0, errClosed
	}
	now := s.now()
	cutoff := micros(before)
	steps := []struct {
		name string
		fn   func(tx *wtx) (int64, error)
	}{
		{"events", func(tx *wtx) (int64, error) { return pruneEvents(tx, cutoff) }},
		{"broadcast state", func(tx *wtx) (int64, error) {
			// Each state row was one broadcast seen by its user.
			return deleteCounted(tx, `UPDATE streams SET seen = seen - ? WHERE stream = ?`, `DELETE FROM broadcast_state WHERE rowid IN (
				SELECT s.rowid FROM broadcast_state s JOIN notifications n ON n.id = s.notification_id
				WHERE n.user_id = '' AND n.created_at < ? LIMIT ?)
				RETURNING user_id, read_at IS NOT NULL OR deleted <> 0`, cutoff, pruneBatch)
		}},
		{"notifications", func(tx *wtx) (int64, error) {
			// Each unread notification, and each broadcast, was one unread.
			return deleteCounted(tx, `UPDATE streams SET unread = unread - ? WHERE stream = ?`, `DELETE FROM notifications WHERE id IN (
				SELECT id FROM notifications WHERE created_at < ? LIMIT ?)
				RETURNING user_id, read_at IS NULL`, cutoff, pruneBatch)
		}},
		{"idempotency keys", func(tx *wtx) (int64, error) {
			return tx.exec(`DELETE FROM idempotency WHERE key IN (
				SELECT key FROM idempotency WHERE created_at <= ? LIMIT ?)`,
				micros(now.Add(-notify.IdempotencyWindow)), pruneBatch)
		}},
		{"tickets", func(tx *wtx) (int64, error) {
			return tx.exec(`DELETE FROM tickets WHERE hash IN (
				SELECT hash FROM tickets WHERE expires_at <= ? LIMIT ?)`, micros(now), pruneBatch)
		}},
	}
	var total int64
	for _, step := range steps {
		for {
			var n int64
			err := s.w.do(ctx, func(tx *wtx) error {
				var err error
				n, err = step.fn(tx)
				return err
			})
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

// pruneEvents deletes up to pruneBatch events created before cutoff and
// raises pruned_seq of their streams to the highest position deleted.
func pruneEvents(tx *wtx, cutoff int64) (int64, error) {
	rows, err := tx.query(`DELETE FROM events WHERE (stream, seq) IN (
		SELECT stream, seq FROM events WHERE created_at < ? LIMIT ?)
		RETURNING stream, seq`, cutoff, pruneBatch)
	if err != nil {
		return 0, err
	}
	high := make(map[string]int64)
	var n int64
	for rows.Next() {
		var (
			stream string
			seq    int64
		)
		if err := rows.Scan(&stream, &seq); err != nil {
			rows.Close()
			return 0, err
		}
		n++
		high[stream] = max(high[stream], seq)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return 0, err
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	for stream, seq := range high {
		if _, err := tx.exec(`UPDATE streams SET pruned_seq = max(pruned_seq, ?) WHERE stream = ?`,
			seq, stream); err != nil {
			return 0, fmt.Errorf("raise pruned_seq: %w", err)
		}
	}
	return n, nil
}

// deleteCounted runs a DELETE … RETURNING stream, counted, then lower (an
// UPDATE of streams taking the number and the stream) for each stream with
// counted rows, in the same transaction. It returns the rows deleted.
func deleteCounted(tx *wtx, lower, query string, args ...any) (int64, error) {
	rows, err := tx.query(query, args...)
	if err != nil {
		return 0, err
	}
	by := make(map[string]int64)
	var n int64
	for rows.Next() {
		var (
			stream  string
			counted bool
		)
		if err := rows.Scan(&stream, &counted); err != nil {
			rows.Close()
			return 0, err
		}
		n++
		if counted {
			by[stream]++
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	for stream, k := range by {
		if _, err := tx.exec(lower, k, stream); err != nil {
			return 0, fmt.Errorf("lower unread share: %w", err)
		}
	}
	return n, nil
}
