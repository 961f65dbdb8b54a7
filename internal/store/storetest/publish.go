package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

var publishTests = []test{
	{"PositionsGapFreeUnderConcurrency", testGapFree},
	{"MultiRecipient", testMultiRecipient},
	{"Broadcast", testPublishBroadcast},
	{"ContentRoundTrip", testContentRoundTrip},
	{"Idempotency", testIdempotency},
	{"Collapse", testCollapse},
	{"CancelledContextStoresNothing", testCancelledPublish},
}

// "positions are 1, 2, 3, … with no gap and no repeat per stream, in commit
// order, whatever the number of concurrent writers"; the stored event of each
// publish carries its notification.
func testGapFree(t *testing.T, f *fixture) {
	const workers, each = 16, 50
	const user = "u1"
	type pub struct {
		n  notify.Notification
		ev notify.Event
	}
	var results [workers][]pub
	err := parallel(workers, func(w int) error {
		for i := range each {
			recipient := user
			if i%2 == 1 {
				recipient = notify.BroadcastStream
			}
			n := f.note(recipient, now())
			out, err := f.s.Publish(f.ctx, notify.PublishInput{Notifications: []notify.Notification{n}})
			if err != nil {
				return err
			}
			if len(out.Events) != 1 || len(out.Receipts) != 1 || out.Receipts[0].ID != n.ID {
				return fmt.Errorf("publish %s: receipts %+v, %d events", n.ID, out.Receipts, len(out.Events))
			}
			results[w] = append(results[w], pub{n, out.Events[0]})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Every returned event has a distinct position of its stream.
	published := make(map[string]notify.Notification) // by id
	bySeq := map[string]map[int64]string{user: {}, notify.BroadcastStream: {}}
	for _, rs := range results {
		for _, r := range rs {
			published[r.n.ID] = r.n
			if r.ev.UserID != r.n.UserID {
				t.Fatalf("event of %s is in stream %q, want %q", r.n.ID, r.ev.UserID, r.n.UserID)
			}
			if prev, dup := bySeq[r.ev.UserID][r.ev.Seq]; dup {
				t.Fatalf("stream %q seq %d returned for %s and %s", r.ev.UserID, r.ev.Seq, prev, r.n.ID)
			}
			bySeq[r.ev.UserID][r.ev.Seq] = r.n.ID
		}
	}
	const perStream = workers * each / 2
	if got := f.head(user); got != (notify.Position{User: perStream, Broadcast: perStream}) {
		t.Fatalf("Head = %+v, want %d in each stream", got, perStream)
	}

	// Reading the streams back gives exactly 1..N with matching data.
	next := map[string]int64{user: 1, notify.BroadcastStream: 1}
	for _, ev := range f.events(user, notify.Position{}) {
		if ev.Seq != next[ev.UserID] {
			t.Fatalf("stream %q: seq %d, want %d", ev.UserID, ev.Seq, next[ev.UserID])
		}
		next[ev.UserID]++
		n := eventNotification(t, ev)
		want, ok := published[n.ID]
		if !ok || bySeq[ev.UserID][ev.Seq] != n.ID {
			t.Fatalf("stream %q seq %d holds %s, Publish returned %s", ev.UserID, ev.Seq, n.ID, bySeq[ev.UserID][ev.Seq])
		}
		if diff := sameContent(n, want); diff != "" || n.ReadAt != nil {
			t.Fatalf("event data of %s: %s (readAt %v)", n.ID, diff, n.ReadAt)
		}
	}
	if next[user]-1 != perStream || next[notify.BroadcastStream]-1 != perStream {
		t.Fatalf("read back %d user and %d broadcast events, want %d each",
			next[user]-1, next[notify.BroadcastStream]-1, perStream)
	}
}

// "a Receipt per notification and the stored events in stream order", one
// notification per recipient, each in its own user's stream.
func testMultiRecipient(t *testing.T, f *fixture) {
	f.publishOne("u2") // u2's stream starts ahead of the others
	users := []string{"u1", "u2", "u3"}
	ns := make([]notify.Notification, len(users))
	at := now()
	for i, u := range users {
		ns[i] = f.note(u, at)
	}
	out := f.publish(notify.PublishInput{Notifications: ns})
	if out.Duplicate {
		t.Fatal("Duplicate set on a first publish")
	}
	if len(out.Receipts) != len(users) || len(out.Events) != len(users) {
		t.Fatalf("%d receipts, %d events, want %d each", len(out.Receipts), len(out.Events), len(users))
	}
	for i, u := range users {
		if want := (notify.Receipt{ID: ns[i].ID, UserID: u}); out.Receipts[i] != want {
			t.Errorf("receipt %d = %+v, want %+v", i, out.Receipts[i], want)
		}
		ev := out.Events[i]
		wantSeq := int64(1)
		if u == "u2" {
			wantSeq = 2
		}
		if ev.UserID != u || ev.Seq != wantSeq || eventNotification(t, ev).ID != ns[i].ID {
			t.Errorf("event %d: stream %q seq %d, want %q seq %d for %s", i, ev.UserID, ev.Seq, u, wantSeq, ns[i].ID)
		}
		if got := f.inbox(u, false); !slices.Contains(got, ns[i].ID) {
			t.Errorf("inbox of %s = %v, want it to hold %s", u, got, ns[i].ID)
		}
		for j, other := range ns {
			if j != i && slices.Contains(f.inbox(u, false), other.ID) {
				t.Errorf("inbox of %s holds %s, addressed to %s", u, other.ID, other.UserID)
			}
		}
	}
}

// A broadcast is stored once, answered with a broadcast receipt, its event is
// in the broadcast stream, and it is in every user's inbox.
func testPublishBroadcast(t *testing.T, f *fixture) {
	n := f.note(notify.BroadcastStream, now())
	out := f.publish(notify.PublishInput{Notifications: []notify.Notification{n}})
	if len(out.Receipts) != 1 || out.Receipts[0] != (notify.Receipt{ID: n.ID, Broadcast: true}) {
		t.Fatalf("receipts = %+v, want one broadcast receipt for %s", out.Receipts, n.ID)
	}
	if len(out.Events) != 1 || !out.Events[0].Broadcast() || out.Events[0].Seq != 1 {
		t.Fatalf("events = %+v, want one at broadcast seq 1", out.Events)
	}
	for _, u := range []string{"u1", "someone-else"} {
		if got := f.inbox(u, true); !slices.Equal(got, []string{n.ID}) {
			t.Errorf("unread inbox of %s = %v, want [%s]", u, got, n.ID)
		}
		if got := f.unread(u); got != 1 {
			t.Errorf("UnreadCount(%s) = %d, want 1", u, got)
		}
		if got := f.head(u); got != (notify.Position{Broadcast: 1}) {
			t.Errorf("Head(%s) = %+v, want broadcast 1", u, got)
		}
	}
}

// Stored notifications come back as published: text with newlines, data,
// link, creation time (at microsecond precision), unread.
func testContentRoundTrip(t *testing.T, f *fixture) {
	n := f.note("u1", now())
	bare := f.note("u1", now())
	bare.Data, bare.Message, bare.Link = nil, "", ""
	f.publish(notify.PublishInput{Notifications: []notify.Notification{n}})
	f.publish(notify.PublishInput{Notifications: []notify.Notification{bare}})
	page := f.list("u1", notify.ListQuery{Limit: 10})
	if len(page.Notifications) != 2 {
		t.Fatalf("List = %d notifications, want 2", len(page.Notifications))
	}
	for i, want := range []notify.Notification{bare, n} {
		got := page.Notifications[i]
		if diff := sameContent(got, want); diff != "" {
			t.Errorf("List[%d]: %s", i, diff)
		}
		if got.ReadAt != nil {
			t.Errorf("List[%d]: readAt %v, want unread", i, got.ReadAt)
		}
	}
}

// "With in.IdempotencyKey set and the same key stored less than
// IdempotencyWindow ago, nothing is stored: the original receipts are
// returned with Duplicate set and no events."
func testIdempotency(t *testing.T, f *fixture) {
	first := f.publish(notify.PublishInput{
		Notifications:  []notify.Notification{f.note("u1", now()), f.note("u2", now())},
		IdempotencyKey: "evt-1",
	})
	head := f.head("u1")
	again := f.publish(notify.PublishInput{
		Notifications:  []notify.Notification{f.note("u1", now()), f.note("u2", now())},
		IdempotencyKey: "evt-1",
	})
	if !again.Duplicate || len(again.Events) != 0 {
		t.Fatalf("repeat: Duplicate=%v with %d events, want a duplicate without events", again.Duplicate, len(again.Events))
	}
	if !slices.Equal(again.Receipts, first.Receipts) {
		t.Fatalf("repeat receipts = %+v, want the original %+v", again.Receipts, first.Receipts)
	}
	if got := f.head("u1"); got != head {
		t.Fatalf("Head after a duplicate = %+v, want unchanged %+v", got, head)
	}
	for _, u := range []string{"u1", "u2"} {
		if got := f.inbox(u, false); len(got) != 1 {
			t.Fatalf("inbox of %s after a duplicate = %v, want one notification", u, got)
		}
	}
	other := f.publish(notify.PublishInput{
		Notifications:  []notify.Notification{f.note("u1", now())},
		IdempotencyKey: "evt-2",
	})
	if other.Duplicate || len(other.Events) != 1 {
		t.Fatalf("another key: Duplicate=%v with %d events, want stored", other.Duplicate, len(other.Events))
	}
	if got := f.inbox("u1", false); len(got) != 2 {
		t.Fatalf("inbox after another key = %v, want two notifications", got)
	}
}

// "With in.CollapseKey set, each recipient's unread notifications with that
// key are deleted in the same transaction and a notification.deleted event
// precedes the new notification event in that user's stream."
func testCollapse(t *testing.T, f *fixture) {
	collapsed := func(n notify.Notification) notify.PublishInput {
		n.CollapseKey = "post-42"
		return notify.PublishInput{Notifications: []notify.Notification{n}, CollapseKey: "post-42"}
	}
	old := f.note("u1", now())
	f.publish(collapsed(old))
	otherUser := f.note("u2", now())
	f.publish(collapsed(otherUser))
	plain := f.publishOne("u1") // no key: never collapsed

	n := f.note("u1", now())
	out := f.publish(collapsed(n))
	if len(out.Events) != 2 {
		t.Fatalf("collapse: %d events, want deleted + notification", len(out.Events))
	}
	wantIDsEvent(t, &out.Events[0], "u1", notify.EventDeleted, old.ID)
	if ev := out.Events[1]; ev.Seq != out.Events[0].Seq+1 || eventNotification(t, ev).ID != n.ID {
		t.Fatalf("collapse: second event seq %d for %s, want seq %d for %s",
			ev.Seq, eventNotification(t, ev).ID, out.Events[0].Seq+1, n.ID)
	}
	if got, want := f.inbox("u1", false), []string{n.ID, plain.ID}; !slices.Equal(got, want) {
		t.Fatalf("inbox after collapse = %v, want %v", got, want)
	}
	if got := f.inbox("u2", false); !slices.Equal(got, []string{otherUser.ID}) {
		t.Fatalf("u2's inbox = %v: another user's collapse touched it", got)
	}
	// The stream as read back agrees with what Publish returned.
	evs := f.events("u1", notify.Position{User: out.Events[0].Seq - 1})
	if len(evs) != 2 || evs[0].Name != notify.EventDeleted || evs[1].Name != notify.EventNotification {
		t.Fatalf("stream after collapse = %+v, want deleted then notification", evs)
	}

	// A read notification with the same key is kept.
	f.markRead("u1", n.ID)
	newer := f.note("u1", now())
	out = f.publish(collapsed(newer))
	if len(out.Events) != 1 || out.Events[0].Name != notify.EventNotification {
		t.Fatalf("collapse over a read notification: events %+v, want only the notification", out.Events)
	}
	if got, want := f.inbox("u1", false), []string{newer.ID, n.ID, plain.ID}; !slices.Equal(got, want) {
		t.Fatalf("inbox = %v, want %v (the read one kept)", got, want)
	}
}

// "ctx bounds the call": a publish whose ctx has ended fails and stores nothing.
func testCancelledPublish(t *testing.T, f *fixture) {
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	_, err := f.s.Publish(ctx, notify.PublishInput{Notifications: []notify.Notification{f.note("u1", now())}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Publish with a cancelled ctx: %v, want context.Canceled", err)
	}
	if got := f.head("u1"); got != (notify.Position{}) {
		t.Fatalf("Head = %+v after a cancelled publish, want empty", got)
	}
	if got := f.inbox("u1", false); len(got) != 0 {
		t.Fatalf("inbox = %v after a cancelled publish, want empty", got)
	}
}
