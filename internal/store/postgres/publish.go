package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-notify/herald/internal/notify"
)

const publishSQL = `SELECT o_stream, o_seq, o_name, o_data, o_created_at, o_share FROM herald_publish_counted(
	$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

// Publish stores in.Notifications and their events in one group-committed
// transaction (see notify.Store and herald_publish). The notification event
// of each notification carries the notification's CreatedAt; a collapse's
// notification.deleted event carries the store's clock.
func (s *Store) Publish(ctx context.Context, in notify.PublishInput) (notify.PublishOutput, error) {
	if s.closed.Load() {
		return notify.PublishOutput{}, errClosed
	}
	ns := in.Notifications
	if len(ns) == 0 {
		return notify.PublishOutput{}, notify.Errorf(notify.CodeInvalid, "notifications: at least one is required")
	}
	// Everything that does not need the transaction is prepared here, on
	// the caller's goroutine.
	var (
		receipts = make([]notify.Receipt, len(ns))
		ids      = make([]string, len(ns))
		users    = make([]string, len(ns))
		collapse = make([]*string, len(ns))
		created  = make([]time.Time, len(ns))
		evData   = make([]string, len(ns))
		types    = make([]string, len(ns))
		titles   = make([]string, len(ns))
		messages = make([]string, len(ns))
		datas    = make([]*string, len(ns))
		links    = make([]string, len(ns))
		streams  = make([]string, 0, len(ns))
	)
	for i, n := range ns {
		if n.ID == "" {
			return notify.PublishOutput{}, notify.Errorf(notify.CodeInvalid, "notifications[%d]: id required", i)
		}
		n.ReadAt = nil
		d, err := notify.NotificationEventData(n)
		if err != nil {
			return notify.PublishOutput{}, fmt.Errorf("publish: encode event: %w", err)
		}
		ids[i], users[i], evData[i] = n.ID, n.UserID, string(d)
		types[i], titles[i], messages[i], datas[i], links[i] = n.Type, n.Title, n.Message, nullJSON(n.Data), n.Link
		created[i] = n.CreatedAt.UTC().Truncate(time.Microsecond)
		if key := firstNonEmpty(n.CollapseKey, in.CollapseKey); key != "" {
			collapse[i] = &key
		}
		streams = append(streams, n.UserID)
		if n.UserID == notify.BroadcastStream {
			receipts[i] = notify.Receipt{ID: n.ID, Broadcast: true}
		} else {
			receipts[i] = notify.Receipt{ID: n.ID, UserID: n.UserID}
		}
	}
	var idemKey, receiptsJSON *string
	if in.IdempotencyKey != "" {
		b, err := json.Marshal(receipts)
		if err != nil {
			return notify.PublishOutput{}, fmt.Errorf("publish: encode receipts: %w", err)
		}
		k, r := in.IdempotencyKey, string(b)
		idemKey, receiptsJSON = &k, &r
	}
	now := s.now().UTC().Truncate(time.Microsecond)

	var out notify.PublishOutput
	err := s.w.do(ctx, &request{
		streams: streams,
		sql:     publishSQL,
		args: []any{ids, users, collapse, created, evData,
			types, titles, messages, datas, links,
			idemKey, receiptsJSON, now, now.Add(-notify.IdempotencyWindow)},
		scan: func(rows pgx.Rows) error {
			out = notify.PublishOutput{}
			for rows.Next() {
				var (
					stream *string
					seq    *int64
					name   string
					data   *string
					at     *time.Time
					share  *int64
				)
				if err := rows.Scan(&stream, &seq, &name, &data, &at, &share); err != nil {
					return err
				}
				if stream == nil { // 'duplicate': the receipts stored with the key
					if data == nil {
						return fmt.Errorf("duplicate without receipts")
					}
					if err := json.Unmarshal([]byte(*data), &out.Receipts); err != nil {
						return fmt.Errorf("decode idempotency receipts: %w", err)
					}
					out.Duplicate = true
					continue
				}
				if seq == nil || at == nil || share == nil {
					return fmt.Errorf("publish: event without position")
				}
				out.Events = append(out.Events, counted(event(*stream, *seq, name, data, *at), *share))
			}
			return nil
		},
	})
	if err != nil {
		return notify.PublishOutput{}, mapErr("publish", err)
	}
	if !out.Duplicate {
		out.Receipts = receipts
	}
	return out, nil
}

// AppendEvents stores durable system events, each at the next position of
// its stream, keeping Name, Data and CreatedAt (truncated to microseconds,
// the stored precision) as given.
func (s *Store) AppendEvents(ctx context.Context, evs []notify.Event) ([]notify.Event, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	if len(evs) == 0 {
		return nil, nil
	}
	var (
		out     = make([]notify.Event, len(evs))
		streams = make([]string, len(evs))
		names   = make([]string, len(evs))
		datas   = make([]*string, len(evs))
		ats     = make([]time.Time, len(evs))
	)
	for i, e := range evs {
		if e.Name == "" {
			return nil, notify.Errorf(notify.CodeInvalid, "events[%d]: name required", i)
		}
		e.CreatedAt = e.CreatedAt.UTC().Truncate(time.Microsecond)
		out[i] = e
		streams[i], names[i], ats[i] = e.UserID, e.Name, e.CreatedAt
		if e.Data != nil {
			d := string(e.Data)
			datas[i] = &d
		}
	}
	err := s.w.do(ctx, &request{
		streams: streams,
		sql:     "SELECT o_seq, o_share FROM herald_append_counted_events($1, $2, $3, $4)",
		args:    []any{streams, names, datas, ats},
		scan: func(rows pgx.Rows) error {
			i := 0
			for rows.Next() {
				if i == len(out) {
					return fmt.Errorf("append events: more positions than events")
				}
				if err := rows.Scan(&out[i].Seq, &out[i].Unread); err != nil {
					return err
				}
				out[i].Counted = true
				i++
			}
			if rows.Err() == nil && i != len(out) {
				return fmt.Errorf("append events: %d positions for %d events", i, len(out))
			}
			return nil
		},
	})
	if err != nil {
		return nil, mapErr("append events", err)
	}
	return out, nil
}

// event builds a stored event from its columns.
func event(stream string, seq int64, name string, data *string, at time.Time) notify.Event {
	e := notify.Event{UserID: stream, Seq: seq, Name: name, CreatedAt: at.UTC()}
	if data != nil {
		e.Data = json.RawMessage(*data)
	}
	return e
}

// counted returns e carrying share as its stream's unread share.
func counted(e notify.Event, share int64) notify.Event {
	e.Unread, e.Counted = share, true
	return e
}

// nullJSON is raw as a text parameter, NULL when absent.
func nullJSON(raw json.RawMessage) *string {
	if raw == nil {
		return nil
	}
	s := string(raw)
	return &s
}

// firstNonEmpty returns the first of a and b that is not empty.
func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
