package storetest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

var inboxTests = []test{
	{"MarkRead", testMarkRead},
	{"Delete", testDelete},
	{"Isolation", testIsolation},
	{"BroadcastStateIsPerUser", testBroadcastState},
	{"PagingNewestFirst", testPaging},
	{"UnreadOnlyAndCount", testUnreadOnly},
	{"LimitClamp", testLimitClamp},
	{"MarkAllRead", testMarkAllRead},
}

// "MarkRead marks one notification of the user's inbox read and, if it was
// unread, appends and returns a notification.read event; if it was already
// read it returns (nil, nil)."
func testMarkRead(t *testing.T, f *fixture) {
	n := f.publishOne("u1")
	ev := f.markRead("u1", n.ID)
	wantIDsEvent(t, ev, "u1", notify.EventRead, n.ID)
	if ev.Seq != 2 {
		t.Fatalf("read event seq = %d, want 2 (after the notification)", ev.Seq)
	}
	if evs := f.events("u1", notify.Position{User: 1}); len(evs) != 1 || evs[0].Seq != 2 || evs[0].Name != notify.EventRead {
		t.Fatalf("stream after MarkRead = %+v, want the read event at seq 2", evs)
	}
	page := f.list("u1", notify.ListQuery{Limit: 10})
	if len(page.Notifications) != 1 || page.Notifications[0].ReadAt == nil {
		t.Fatalf("List after MarkRead = %+v, want one read notification", page.Notifications)
	}
	if got := f.unread("u1"); got != 0 {
		t.Fatalf("UnreadCount after MarkRead = %d, want 0", got)
	}
	if again := f.markRead("u1", n.ID); again != nil {
		t.Fatalf("MarkRead of a read notification returned event %+v, want nil", again)
	}
	if got := f.head("u1"); got.User != 2 {
		t.Fatalf("Head after a repeated MarkRead = %+v, want user 2 (no new event)", got)
	}
	_, err := f.s.MarkRead(f.ctx, "u1", "no-such-id")
	wantNotFound(t, "MarkRead of an unknown id", err)
}

// "Delete removes a notification from the user's inbox and appends a
// notification.deleted event. Errors as MarkRead."
func testDelete(t *testing.T, f *fixture) {
	keep := f.publishOne("u1")
	n := f.publishOne("u1")
	ev := f.delete("u1", n.ID)
	wantIDsEvent(t, ev, "u1", notify.EventDeleted, n.ID)
	if got := f.inbox("u1", false); !slices.Equal(got, []string{keep.ID}) {
		t.Fatalf("inbox after Delete = %v, want [%s]", got, keep.ID)
	}
	if got := f.unread("u1"); got != 1 {
		t.Fatalf("UnreadCount after Delete = %d, want 1", got)
	}
	_, err := f.s.Delete(f.ctx, "u1", n.ID)
	wantNotFound(t, "Delete of a deleted id", err)
	_, err = f.s.MarkRead(f.ctx, "u1", n.ID)
	wantNotFound(t, "MarkRead of a deleted id", err)
	_, err = f.s.Delete(f.ctx, "u1", "no-such-id")
	wantNotFound(t, "Delete of an unknown id", err)
}

// "An id that is not in this user's inbox (unknown, deleted, or another
// user's) returns ErrNotFound", and a user never sees another's inbox or
// stream.
func testIsolation(t *testing.T, f *fixture) {
	a := f.publishOne("alice")
	_, err := f.s.MarkRead(f.ctx, "bob", a.ID)
	wantNotFound(t, "MarkRead of another user's id", err)
	_, err = f.s.Delete(f.ctx, "bob", a.ID)
	wantNotFound(t, "Delete of another user's id", err)
	if got := f.inbox("bob", false); len(got) != 0 {
		t.Fatalf("bob's inbox = %v, want empty", got)
	}
	if got := f.unread("bob"); got != 0 {
		t.Fatalf("bob's unread count = %d, want 0", got)
	}
	if evs := f.events("bob", notify.Position{}); len(evs) != 0 {
		t.Fatalf("bob's streams = %+v, want empty", evs)
	}
	if got := f.head("bob"); got != (notify.Position{}) {
		t.Fatalf("bob's head = %+v, want empty", got)
	}
	// bob's attempts changed nothing for alice.
	if got := f.inbox("alice", true); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("alice's unread inbox = %v, want [%s]", got, a.ID)
	}
	if got := f.head("alice"); got.User != 1 {
		t.Fatalf("alice's head = %+v, want user 1", got)
	}
}

// A broadcast notification is in every inbox; read and delete state are per
// user, and their events go to that user's stream, not the broadcast stream.
func testBroadcastState(t *testing.T, f *fixture) {
	b := f.publishOne(notify.BroadcastStream)
	ev := f.markRead("u1", b.ID)
	wantIDsEvent(t, ev, "u1", notify.EventRead, b.ID)
	if ev.Seq != 1 {
		t.Fatalf("u1's read event seq = %d, want 1 in u1's own stream", ev.Seq)
	}
	if again := f.markRead("u1", b.ID); again != nil {
		t.Fatalf("second MarkRead of a broadcast returned %+v, want nil", again)
	}
	if got := f.unread("u1"); got != 0 {
		t.Fatalf("u1 unread = %d after reading the broadcast, want 0", got)
	}
	if got := f.unread("u2"); got != 1 {
		t.Fatalf("u2 unread = %d after u1 read the broadcast, want 1", got)
	}
	for user, wantRead := range map[string]bool{"u1": true, "u2": false} {
		p := f.list(user, notify.ListQuery{Limit: 10})
		if len(p.Notifications) != 1 || p.Notifications[0].ID != b.ID || (p.Notifications[0].ReadAt != nil) != wantRead {
			t.Fatalf("%s's inbox = %+v, want the broadcast with read=%v", user, p.Notifications, wantRead)
		}
	}
	if got := f.head("u2"); got != (notify.Position{Broadcast: 1}) {
		t.Fatalf("u2's head = %+v: u1's read leaked into a shared stream", got)
	}

	ev = f.delete("u1", b.ID)
	wantIDsEvent(t, ev, "u1", notify.EventDeleted, b.ID)
	if got := f.inbox("u1", false); len(got) != 0 {
		t.Fatalf("u1's inbox after deleting the broadcast = %v, want empty", got)
	}
	_, err := f.s.MarkRead(f.ctx, "u1", b.ID)
	wantNotFound(t, "MarkRead of a broadcast the user deleted", err)
	_, err = f.s.Delete(f.ctx, "u1", b.ID)
	wantNotFound(t, "Delete of a broadcast the user deleted", err)
	if got := f.inbox("u2", true); !slices.Equal(got, []string{b.ID}) {
		t.Fatalf("u2's unread inbox = %v after u1 deleted the broadcast, want [%s]", got, b.ID)
	}
	// Deleting an unread broadcast takes it out of the unread count.
	b2 := f.publishOne(notify.BroadcastStream)
	f.delete("u2", b2.ID)
	if got := f.unread("u2"); got != 1 {
		t.Fatalf("u2 unread = %d after deleting an unread broadcast, want 1", got)
	}
}

// "newest first: at most q.Limit entries strictly older than q.Before … Next
// is the id to pass as Before for the following page, "" at the end", across
// own and broadcast notifications.
func testPaging(t *testing.T, f *fixture) {
	var want []string
	for i := range 7 {
		user := "u1"
		if i%3 == 1 {
			user = notify.BroadcastStream
		}
		want = append(want, f.publishOne(user).ID)
		f.publishOne("u2") // never in u1's inbox
	}
	slices.Reverse(want)

	var got []string
	q := notify.ListQuery{Limit: 3}
	for pages := 1; ; pages++ {
		p := f.list("u1", q)
		if len(p.Notifications) > 3 {
			t.Fatalf("page %d has %d entries, limit 3", pages, len(p.Notifications))
		}
		for _, n := range p.Notifications {
			got = append(got, n.ID)
		}
		if p.Next == "" {
			if pages != 3 {
				t.Fatalf("paging ended after %d pages, want 3", pages)
			}
			break
		}
		if last := p.Notifications[len(p.Notifications)-1].ID; p.Next != last {
			t.Fatalf("Next = %q, want the page's last id %q", p.Next, last)
		}
		q.Before = p.Next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged inbox = %v, want newest first %v", got, want)
	}
	// Before is strict.
	p := f.list("u1", notify.ListQuery{Limit: 10, Before: want[2]})
	if len(p.Notifications) != 4 || p.Notifications[0].ID != want[3] || p.Next != "" {
		t.Fatalf("List before %s = %d entries from %v (next %q), want 4 from %s",
			want[2], len(p.Notifications), p.Notifications, p.Next, want[3])
	}
	// An exact last page has no Next.
	if p := f.list("u1", notify.ListQuery{Limit: 7}); len(p.Notifications) != 7 || p.Next != "" {
		t.Fatalf("List with Limit 7 of 7 = %d entries, next %q; want 7 and no next", len(p.Notifications), p.Next)
	}
}

// UnreadOnly lists exactly the unread notifications, and UnreadCount agrees.
func testUnreadOnly(t *testing.T, f *fixture) {
	var own, bc []string
	for range 3 {
		own = append(own, f.publishOne("u1").ID)
		bc = append(bc, f.publishOne(notify.BroadcastStream).ID)
	}
	f.markRead("u1", own[1])
	f.markRead("u1", bc[0])
	f.delete("u1", bc[2])
	want := []string{own[2], own[0], bc[1]}
	slices.Sort(want)
	slices.Reverse(want)
	got := f.inbox("u1", true)
	if !slices.Equal(got, want) {
		t.Fatalf("unread inbox = %v, want %v", got, want)
	}
	for _, n := range f.list("u1", notify.ListQuery{Limit: 100, UnreadOnly: true}).Notifications {
		if n.ReadAt != nil {
			t.Fatalf("UnreadOnly listed %s with readAt %v", n.ID, n.ReadAt)
		}
	}
	if n := f.unread("u1"); n != len(want) {
		t.Fatalf("UnreadCount = %d, want %d (as List(UnreadOnly))", n, len(want))
	}
	// Unread paging is strict too.
	p := f.list("u1", notify.ListQuery{Limit: 1, UnreadOnly: true, Before: want[0]})
	if len(p.Notifications) != 1 || p.Notifications[0].ID != want[1] || p.Next != want[1] {
		t.Fatalf("unread page after %s = %+v next %q, want [%s] next %s", want[0], p.Notifications, p.Next, want[1], want[1])
	}
}

// A page holds at most 100 entries whatever the Limit asked.
func testLimitClamp(t *testing.T, f *fixture) {
	const total = 105
	err := parallel(total, func(i int) error {
		_, err := f.s.Publish(f.ctx, notify.PublishInput{Notifications: []notify.Notification{f.note("u1", now())}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p := f.list("u1", notify.ListQuery{Limit: 1000})
	if len(p.Notifications) != 100 || p.Next == "" {
		t.Fatalf("List(Limit 1000) = %d entries, next %q; want 100 and a next page", len(p.Notifications), p.Next)
	}
	if got := f.inbox("u1", false); len(got) != total {
		t.Fatalf("paged inbox has %d entries, want %d", len(got), total)
	}
}

// "MarkAllRead marks every unread notification of the inbox read, and when
// there were any appends a notification.read {"all":true} event."
func testMarkAllRead(t *testing.T, f *fixture) {
	var own, bc []string
	for range 3 {
		own = append(own, f.publishOne("u1").ID)
		bc = append(bc, f.publishOne(notify.BroadcastStream).ID)
	}
	f.publishOne("u2")
	f.markRead("u1", own[2])
	f.markRead("u1", bc[1])
	f.delete("u1", bc[2])
	head := f.head("u1")

	n, ev, err := f.s.MarkAllRead(f.ctx, "u1")
	if err != nil {
		t.Fatalf("MarkAllRead: %v", err)
	}
	if n != 3 { // own[0], own[1], bc[0]
		t.Fatalf("MarkAllRead updated %d, want 3", n)
	}
	if ev == nil || ev.Name != notify.EventRead || ev.UserID != "u1" || ev.Seq != head.User+1 {
		t.Fatalf("MarkAllRead event = %+v, want notification.read at u1 seq %d", ev, head.User+1)
	}
	var d struct {
		All bool `json:"all"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil || !d.All {
		t.Fatalf("MarkAllRead event data = %s, want {\"all\":true}", ev.Data)
	}
	if got := f.unread("u1"); got != 0 {
		t.Fatalf("u1 unread after MarkAllRead = %d, want 0", got)
	}
	if got := f.inbox("u1", true); len(got) != 0 {
		t.Fatalf("u1 unread inbox after MarkAllRead = %v, want empty", got)
	}
	if got := f.inbox("u1", false); slices.Contains(got, bc[2]) {
		t.Fatalf("MarkAllRead brought back the deleted broadcast %s", bc[2])
	}
	if got := f.unread("u2"); got != 4 { // own 1 + 3 broadcasts
		t.Fatalf("u2 unread = %d, want 4: u1's MarkAllRead must not touch u2", got)
	}
	n, ev, err = f.s.MarkAllRead(f.ctx, "u1")
	if err != nil || n != 0 || ev != nil {
		t.Fatalf("MarkAllRead with nothing unread = (%d, %+v, %v), want (0, nil, nil)", n, ev, err)
	}
	if got := f.head("u1"); got.User != head.User+1 {
		t.Fatalf("head = %+v, want user %d: an empty MarkAllRead appends nothing", got, head.User+1)
	}
}
