package sqlite

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// plainPublish is a Publish without idempotency key or collapse, prepared by
// the caller: the writer may store the notifications of a run of such
// requests with a few multi-row statements (publishMany) instead of three
// statements per notification. The request's fn does the same work alone,
// for the savepoint pass.
type plainPublish struct {
	notes    []notify.Notification
	datas    []json.RawMessage // each notification's event data
	receipts []notify.Receipt
	out      *notify.PublishOutput // set by publishMany
}

// Column counts of the multi-row statements.
const (
	notificationCols = 9
	eventCols        = 5
)

// The cached multi-row statements insert 64, 16, 4 or 1 rows (chunk i
// inserts maxChunkRows>>(2*i)): a run is split greedily into few statements,
// and few distinct statements are prepared.
const (
	maxChunkRows = 64
	chunkSizes   = 4
)

// multiRowSQL returns head followed by rows groups of cols placeholders.
func multiRowSQL(head string, cols, rows int) string {
	group := "(" + strings.Repeat("?, ", cols-1) + "?)"
	var b strings.Builder
	b.Grow(len(head) + rows*(len(group)+2))
	b.WriteString(head)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(group)
	}
	return b.String()
}

// chunk is one multi-row statement's size: n rows, the index-th of the
// cached sizes.
type chunk struct{ index, n int }

// chunkRows returns the largest cached chunk size not above rows (> 0).
func chunkRows(rows int) chunk {
	for i := range chunkSizes {
		if n := maxChunkRows >> (2 * i); n <= rows {
			return chunk{i, n}
		}
	}
	return chunk{chunkSizes - 1, 1}
}

// execRows runs head … VALUES over args (cols values per row) in chunks.
func execRows(tx *wtx, queries *[chunkSizes]string, head string, cols int, args []any) error {
	for len(args) > 0 {
		c := chunkRows(len(args) / cols)
		if queries[c.index] == "" {
			queries[c.index] = multiRowSQL(head, cols, c.n)
		}
		if _, err := tx.exec(queries[c.index], args[:c.n*cols]...); err != nil {
			return err
		}
		args = args[c.n*cols:]
	}
	return nil
}

// publishSQL caches the text of the multi-row statements.
type publishSQL struct {
	notifications, events [chunkSizes]string
}

// The multi-row INSERTs are OR ROLLBACK: a conflict (a duplicate id) ends
// the whole transaction, which the writer then reruns with savepoints
// anyway, and in exchange SQLite keeps no statement journal (a copy of
// every page the statement changes) for undoing the statement alone.
const (
	insertNotificationsHead = `INSERT OR ROLLBACK INTO notifications
		(id, user_id, type, title, message, data, link, collapse_key, created_at) VALUES `
	insertEventsHead = `INSERT OR ROLLBACK INTO events(stream, seq, name, data, created_at) VALUES `
)

// publishMany stores the notifications of ps in order, as the ps would one
// after the other, and sets each one's output. On error the transaction
// holds part of the work and must be rolled back.
func publishMany(tx *wtx, q *publishSQL, ps []*plainPublish) error {
	total := 0
	for _, p := range ps {
		total += len(p.notes)
	}
	args := make([]any, 0, total*notificationCols)
	counts := make(map[string]int64, total)
	var order []string // streams in order of first appearance
	for _, p := range ps {
		for _, n := range p.notes {
			var data any
			if n.Data != nil {
				data = []byte(n.Data)
			}
			args = append(args, n.ID, n.UserID, n.Type, n.Title, n.Message, data, n.Link, nil, micros(n.CreatedAt))
			if counts[n.UserID] == 0 {
				order = append(order, n.UserID)
			}
			counts[n.UserID]++
		}
	}
	if err := execRows(tx, &q.notifications, insertNotificationsHead, notificationCols, args); err != nil {
		return fmt.Errorf("insert notifications: %w", err)
	}
	// Advance each stream once by its count (each notification is one more
	// unread, own or broadcast); the run's events take the positions from
	// the old head on, in order, and the shares from the old share on.
	type head struct{ seq, share int64 }
	next := make(map[string]head, len(order))
	for _, stream := range order {
		var last, share int64
		n := counts[stream]
		if err := tx.queryRow(`INSERT INTO streams(stream, last_seq, pruned_seq, unread, seen) VALUES (?, ?, 0, ?, 0)
			ON CONFLICT(stream) DO UPDATE SET last_seq = last_seq + excluded.last_seq,
				unread = unread + excluded.unread
			RETURNING last_seq, unread - seen`, stream, n, n).Scan(&last, &share); err != nil {
			return fmt.Errorf("advance stream: %w", err)
		}
		next[stream] = head{seq: last - n + 1, share: share - n + 1}
	}
	args = args[:0]
	for _, p := range ps {
		evs := make([]notify.Event, len(p.notes))
		for i, n := range p.notes {
			h := next[n.UserID]
			next[n.UserID] = head{seq: h.seq + 1, share: h.share + 1}
			evs[i] = notify.Event{
				UserID: n.UserID, Seq: h.seq, Name: notify.EventNotification, Data: p.datas[i],
				CreatedAt: n.CreatedAt.UTC().Truncate(time.Microsecond),
				Unread:    h.share, Counted: true,
			}
			args = append(args, n.UserID, h.seq, notify.EventNotification, []byte(p.datas[i]), micros(evs[i].CreatedAt))
		}
		*p.out = notify.PublishOutput{Receipts: p.receipts, Events: evs}
	}
	if err := execRows(tx, &q.events, insertEventsHead, eventCols, args); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}
