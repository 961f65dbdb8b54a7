package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

func TestNotificationReachesEveryStreamOfItsUserOnly(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	a1 := s.openStream(t, "alice", "")
	a2 := s.openStream(t, "alice", "")
	b := s.openStream(t, "bob", "")
	for _, st := range []*stream{a1, a2, b} {
		st.nextNamed(notify.EventConnected)
	}
	id := s.publish(t, "alice", "for alice")
	for _, st := range []*stream{a1, a2} {
		if got := notificationID(t, st.nextNamed(notify.EventNotification)); got != id {
			t.Fatalf("alice got %s, want %s", got, id)
		}
	}
	bobID := s.publish(t, "bob", "for bob")
	if got := notificationID(t, b.nextNamed(notify.EventNotification)); got != bobID {
		t.Fatalf("bob's first notification is %s, want his own %s", got, bobID)
	}

	// Bob cannot see or touch Alice's notification: 404 exactly like an unknown id.
	bob := token(t, "bob", time.Hour)
	code1, body1 := do(t, "POST", s.URL+"/api/notifications/"+id+"/read", bob, nil)
	code2, body2 := do(t, "POST", s.URL+"/api/notifications/01unknownid000000000000000/read", bob, nil)
	if code1 != http.StatusNotFound || code2 != http.StatusNotFound || string(body1) != string(body2) {
		t.Fatalf("foreign id: %d %s; unknown id: %d %s", code1, body1, code2, body2)
	}
	if code, _ := do(t, "DELETE", s.URL+"/api/notifications/"+id, bob, nil); code != http.StatusNotFound {
		t.Fatalf("bob deleted alice's notification: %d", code)
	}
	_, list := do(t, "GET", s.URL+"/api/notifications", bob, nil)
	if strings.Contains(string(list), id) || !strings.Contains(string(list), bobID) {
		t.Fatalf("bob's inbox %s", list)
	}
	alice := token(t, "alice", time.Hour)
	if _, c := do(t, "GET", s.URL+"/api/notifications/unread-count", alice, nil); string(c) != `{"count":1}`+"\n" && string(c) != `{"count":1}` {
		t.Fatalf("alice's unread count %s", c)
	}
}

func TestInboxChangesAreSyncedToOtherStreams(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	alice := token(t, "alice", time.Hour)
	ids := []string{s.publish(t, "alice", "one"), s.publish(t, "alice", "two"), s.publish(t, "alice", "three")}
	other := s.openStream(t, "alice", "")
	other.nextNamed(notify.EventConnected)
	if ev := other.nextNamed(notify.EventUnreadCount); ev.Data != `{"count":3}` {
		t.Fatalf("initial count %s", ev.Data)
	}

	if code, body := do(t, "POST", s.URL+"/api/notifications/"+ids[0]+"/read", alice, nil); code != http.StatusNoContent {
		t.Fatalf("mark read: %d %s", code, body)
	}
	ev := other.nextNamed(notify.EventRead)
	if ev.Data != `{"ids":["`+ids[0]+`"]}` || ev.ID == "" {
		t.Fatalf("read event %+v", ev)
	}
	if code, body := do(t, "DELETE", s.URL+"/api/notifications/"+ids[1], alice, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	if ev := other.nextNamed(notify.EventDeleted); ev.Data != `{"ids":["`+ids[1]+`"]}` {
		t.Fatalf("deleted event %+v", ev)
	}
	code, body := do(t, "POST", s.URL+"/api/notifications/read-all", alice, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"updated":1`) {
		t.Fatalf("read-all: %d %s", code, body)
	}
	if ev := other.nextNamed(notify.EventRead); ev.Data != `{"all":true}` {
		t.Fatalf("read-all event %+v", ev)
	}
	// The coalesced count catches up with the final state.
	for {
		if ev := other.nextNamed(notify.EventUnreadCount); ev.Data == `{"count":0}` {
			break
		}
	}
	_, list := do(t, "GET", s.URL+"/api/notifications?limit=10", alice, nil)
	var page struct {
		Notifications []notify.Notification
		NextCursor    *string
	}
	if err := json.Unmarshal(list, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Notifications) != 2 || page.Notifications[0].ID != ids[2] || page.Notifications[1].ID != ids[0] ||
		page.Notifications[0].ReadAt == nil || page.NextCursor != nil {
		t.Fatalf("inbox after changes: %s", list)
	}
}

func TestTicketOpensOneStreamOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	code, body := do(t, "POST", s.URL+"/api/notifications/sse/ticket", token(t, "carol", time.Hour), nil)
	if code != http.StatusOK {
		t.Fatalf("ticket: %d %s", code, body)
	}
	var tk struct{ Ticket, ExpiresAt string }
	if err := json.Unmarshal(body, &tk); err != nil || tk.Ticket == "" {
		t.Fatalf("ticket body %s", body)
	}
	resp, err := http.Get(s.URL + "/api/notifications/sse?ticket=" + tk.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream with ticket: %d", resp.StatusCode)
	}
	again, err := http.Get(s.URL + "/api/notifications/sse?ticket=" + tk.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusUnauthorized {
		t.Fatalf("second use of a ticket: %d, want 401", again.StatusCode)
	}
}
