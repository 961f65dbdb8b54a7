package sqlite

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// Concurrent plain publishes share batches and are stored with multi-row
// statements; every caller's events carry gap-free positions of its
// stream, in the order of its notifications, exactly as stored; a
// duplicate id fails alone.
func TestPlainPublishesInOneBatch(t *testing.T) {
	t.Parallel()
	s := openTemp(t, Options{})
	ctx := context.Background()
	var ids notify.IDGen
	note := func(user string) notify.Notification {
		now := time.Now().UTC().Truncate(time.Microsecond)
		return notify.Notification{ID: ids.New(now), UserID: user, Type: "t", Title: "x", CreatedAt: now}
	}
	dup := note("u1")
	if _, err := s.Publish(ctx, notify.PublishInput{Notifications: []notify.Notification{dup}}); err != nil {
		t.Fatal(err)
	}
	const publishers = 40
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]map[int64]string{} // stream → seq → notification id
		dups int
	)
	for p := range publishers {
		wg.Go(func() {
			for range 20 {
				in := notify.PublishInput{Notifications: []notify.Notification{note("u1")}}
				switch p % 4 {
				case 1:
					in.Notifications = append(in.Notifications, note("u2"), note("u1"))
				case 2:
					in.Notifications = append(in.Notifications, note(notify.BroadcastStream))
				case 3:
					if p == 3 {
						in.Notifications = []notify.Notification{dup}
					}
				}
				out, err := s.Publish(ctx, in)
				mu.Lock()
				if err != nil {
					if p == 3 {
						dups++
					} else {
						t.Errorf("Publish: %v", err)
					}
					mu.Unlock()
					continue
				}
				if len(out.Events) != len(in.Notifications) || len(out.Receipts) != len(in.Notifications) {
					t.Errorf("%d events, %d receipts for %d notifications", len(out.Events), len(out.Receipts), len(in.Notifications))
				}
				for i, e := range out.Events {
					if seen[e.UserID] == nil {
						seen[e.UserID] = map[int64]string{}
					}
					if prev, ok := seen[e.UserID][e.Seq]; ok {
						t.Errorf("stream %q position %d given to %s and %s", e.UserID, e.Seq, prev, in.Notifications[i].ID)
					}
					seen[e.UserID][e.Seq] = in.Notifications[i].ID
					if i > 0 && out.Events[i-1].UserID == e.UserID && out.Events[i-1].Seq >= e.Seq {
						t.Errorf("events of one publish out of order: %d then %d", out.Events[i-1].Seq, e.Seq)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if dups != 20 {
		t.Fatalf("%d duplicate publishes failed, want 20", dups)
	}
	for stream, bySeq := range seen {
		head, err := s.Head(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		last := head.User
		if stream == notify.BroadcastStream {
			last = head.Broadcast
		}
		page, err := s.ReadEvents(ctx, stream, notify.Position{}, 10000)
		if err != nil {
			t.Fatal(err)
		}
		evs := page.Events
		stored := map[int64]string{}
		for _, e := range evs {
			if e.UserID == stream {
				var n notify.Notification
				if err := json.Unmarshal(e.Data, &n); err != nil {
					t.Fatal(err)
				}
				stored[e.Seq] = n.ID
			}
		}
		for seq := int64(1); seq <= last; seq++ {
			if _, ok := stored[seq]; !ok {
				t.Fatalf("stream %q: position %d missing (head %d)", stream, seq, last)
			}
		}
		for seq, id := range bySeq {
			if stored[seq] != id {
				t.Fatalf("stream %q position %d: stored %s, answered %s", stream, seq, stored[seq], id)
			}
		}
	}
	if s.w.commits.Load() >= s.w.committed.Load() {
		t.Logf("no batch held more than one request (%d commits)", s.w.commits.Load())
	}
}
