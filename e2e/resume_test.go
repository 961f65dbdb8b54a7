package e2e

import (
	"fmt"
	"sync"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

// TestResumeWhilePublishingHasNoGapAndNoDuplicate reconnects a client again
// and again with its last event id while publishers keep going: the client
// must see every acknowledged notification exactly once, in stream order.
func TestResumeWhilePublishingHasNoGapAndNoDuplicate(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	const publishers, each = 4, 75
	total := publishers * each

	first := s.openStream(t, "racer", "")
	lastID := first.nextNamed(notify.EventConnected).ID
	first.close()

	acked := make(chan string, total)
	var wg sync.WaitGroup
	for p := 0; p < publishers; p++ {
		wg.Go(func() {
			for i := 0; i < each; i++ {
				id, err := s.tryPublish("racer", fmt.Sprintf("p%d-%d", p, i))
				if err != nil {
					t.Error(err)
					return
				}
				acked <- id
			}
		})
	}

	seen := map[string]int{}
	var lastSeq int64
	reconnects := 0
	for len(seen) < total {
		st := s.openStream(t, "racer", lastID)
		reconnects++
		// Read a few events, then drop the connection mid-stream.
		for n := 0; n < 17 && len(seen) < total; n++ {
			ev := st.next()
			if ev.Name != notify.EventNotification {
				continue
			}
			cur, err := notify.ParseCursor(ev.ID)
			if err != nil {
				t.Fatalf("event id %q: %v", ev.ID, err)
			}
			if cur.User != lastSeq+1 {
				t.Fatalf("stream position %d after %d: gap or duplicate", cur.User, lastSeq)
			}
			lastSeq, lastID = cur.User, ev.ID
			seen[notificationID(t, ev)]++
		}
		st.close()
	}
	wg.Wait()
	close(acked)
	for id := range acked {
		if seen[id] != 1 {
			t.Errorf("acknowledged notification %s seen %d times", id, seen[id])
		}
	}
	if len(seen) != total {
		t.Errorf("saw %d distinct notifications, want %d", len(seen), total)
	}
	t.Logf("%d notifications over %d connections", total, reconnects)
}

// TestBroadcastSharesTheResume checks that one id resumes both streams.
func TestBroadcastSharesTheResume(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	st := s.openStream(t, "dana", "")
	lastID := st.nextNamed(notify.EventConnected).ID
	st.close()

	code, body := do(t, "POST", s.URL+"/api/publish/notifications", testKey,
		map[string]any{"broadcast": true, "type": "news", "title": "to all"})
	if code != 202 {
		t.Fatalf("broadcast: %d %s", code, body)
	}
	own := s.publish(t, "dana", "own")

	st = s.openStream(t, "dana", lastID)
	var titles []string
	for len(titles) < 2 {
		ev := st.nextNamed(notify.EventNotification)
		var n notify.Notification
		mustUnmarshal(t, ev.Data, &n)
		titles = append(titles, n.Title)
		lastID = ev.ID
		if n.Title == "own" && n.ID != own {
			t.Fatalf("own notification id %s, want %s", n.ID, own)
		}
	}
	if titles[0] != "to all" || titles[1] != "own" {
		t.Fatalf("replayed %v", titles)
	}
	st.close()
	// Resuming from the last id replays nothing more.
	st = s.openStream(t, "dana", lastID)
	st.nextNamed(notify.EventConnected)
	for _, want := range []string{notify.EventUnreadCount, notify.EventLive} {
		if ev := st.next(); ev.Name != want {
			t.Fatalf("after a full resume got %+v, want only %s then %s", ev, notify.EventUnreadCount, notify.EventLive)
		}
	}
}
