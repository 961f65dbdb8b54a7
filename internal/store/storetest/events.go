package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

var eventTests = []test{
	{"AppendEvents", testAppendEvents},
	{"Head", testHead},
	{"ReadEventsMergeByTime", testReadEventsMerge},
	{"ReadEventsLimitAndResume", testReadEventsLimit},
	{"ReadEventsSkipsRefusedNames", testReadEventsSkipsRefusedNames},
	{"ReadEventsBeyondHead", testReadEventsBeyondHead},
	{"PruneKeepsNewRemovesOld", testPrune},
	{"ReadEventsAfterPrune", testReadEventsAfterPrune},
}

// sysEvent is a durable system event for stream at time at.
func sysEvent(stream, name string, at time.Time) notify.Event {
	return notify.Event{UserID: stream, Name: name, Data: json.RawMessage(`{"k":"` + name + `"}`), CreatedAt: at}
}

func (f *fixture) appendEvents(evs ...notify.Event) []notify.Event {
	f.t.Helper()
	out, err := f.s.AppendEvents(f.ctx, evs)
	if err != nil {
		f.t.Fatalf("AppendEvents: %v", err)
	}
	return out
}

// "AppendEvents stores durable system events, assigning each its Seq in its
// stream (UserID, or BroadcastStream), and returns them in order. Name, Data
// and CreatedAt are kept as given."
func testAppendEvents(t *testing.T, f *fixture) {
	f.publishOne("u1")
	at := now().Add(-time.Minute)
	in := []notify.Event{
		sysEvent("u1", "a", at), sysEvent("u1", "b", at.Add(time.Second)),
		sysEvent(notify.BroadcastStream, "c", at), sysEvent("u2", "d", at),
	}
	out := f.appendEvents(in...)
	wantSeq := []int64{2, 3, 1, 1}
	if len(out) != len(in) {
		t.Fatalf("AppendEvents returned %d events, want %d", len(out), len(in))
	}
	for i, e := range out {
		if e.UserID != in[i].UserID || e.Seq != wantSeq[i] || e.Name != in[i].Name ||
			!jsonEqual(e.Data, in[i].Data) || !e.CreatedAt.Equal(in[i].CreatedAt) {
			t.Errorf("event %d = %+v, want %+v at seq %d", i, e, in[i], wantSeq[i])
		}
	}
	// Read back as stored.
	got := f.events("u1", notify.Position{User: 1})
	if len(got) != 3 {
		t.Fatalf("ReadEvents = %+v, want u1's a, b and the broadcast c", got)
	}
	for _, e := range got {
		i := slices.IndexFunc(in, func(x notify.Event) bool { return x.Name == e.Name })
		if i < 0 || e.Seq != wantSeq[i] || e.UserID != in[i].UserID || !jsonEqual(e.Data, in[i].Data) ||
			!e.CreatedAt.Equal(in[i].CreatedAt) {
			t.Errorf("read back %+v, want it as appended", e)
		}
	}
}

// "Head returns the positions of the last events of the user's stream and of
// the broadcast stream (0 for an empty stream)."
func testHead(t *testing.T, f *fixture) {
	if got := f.head("u1"); got != (notify.Position{}) {
		t.Fatalf("Head of an empty store = %+v, want 0, 0", got)
	}
	f.publishOne("u1")
	n := f.publishOne("u1")
	f.markRead("u1", n.ID)
	f.publishOne(notify.BroadcastStream)
	f.publishOne("u2")
	if got := f.head("u1"); got != (notify.Position{User: 3, Broadcast: 1}) {
		t.Fatalf("Head(u1) = %+v, want user 3, broadcast 1", got)
	}
	if got := f.head("u3"); got != (notify.Position{Broadcast: 1}) {
		t.Fatalf("Head of a user without events = %+v, want user 0, broadcast 1", got)
	}
}

// "ReadEvents returns the user's and the broadcast stream's events after pos,
// each stream in Seq order, the two merged by CreatedAt."
func testReadEventsMerge(t *testing.T, f *fixture) {
	t0 := now().Add(-time.Hour)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	f.appendEvents(
		sysEvent("u1", "u-1", at(1)), sysEvent(notify.BroadcastStream, "b-2", at(2)),
		sysEvent("u1", "u-3", at(3)), sysEvent("u2", "other", at(3)),
		sysEvent(notify.BroadcastStream, "b-4", at(4)), sysEvent("u1", "u-6", at(6)),
		sysEvent(notify.BroadcastStream, "b-5", at(5)),
	)
	var names []string
	for _, e := range f.events("u1", notify.Position{}) {
		names = append(names, e.Name)
	}
	if want := []string{"u-1", "b-2", "u-3", "b-4", "b-5", "u-6"}; !slices.Equal(names, want) {
		t.Fatalf("merged events = %v, want %v", names, want)
	}

	// Times out of order within a stream: Seq order still rules each stream.
	f.publishOne("u9") // u9 seq 1, now
	f.appendEvents(sysEvent("u9", "older", t0))
	var seqs []int64
	for _, e := range f.events("u9", notify.Position{Broadcast: 3}) {
		if e.UserID == "u9" {
			seqs = append(seqs, e.Seq)
		}
	}
	if !slices.Equal(seqs, []int64{1, 2}) {
		t.Fatalf("u9's events in seqs %v, want [1 2]: each stream stays in Seq order", seqs)
	}
}

// "at most limit in all", and reading on from Next returns the rest without
// gap or repeat; More is set on every page but the last.
func testReadEventsLimit(t *testing.T, f *fixture) {
	for range 5 {
		f.publishOne("u1")
		f.publishOne(notify.BroadcastStream)
	}
	var pos notify.Position
	var got []notify.Event
	for pages := 0; ; pages++ {
		if pages == 10 {
			t.Fatalf("still More after %d pages of 3 of 10 events", pages)
		}
		page, err := f.s.ReadEvents(f.ctx, "u1", pos, 3)
		if err != nil {
			t.Fatalf("ReadEvents(%+v, 3): %v", pos, err)
		}
		if len(page.Events) > 3 || page.More != (len(page.Events) == 3) {
			t.Fatalf("ReadEvents with limit 3 returned %d events, More %v", len(page.Events), page.More)
		}
		for _, e := range page.Events {
			if !pos.After(e) {
				t.Fatalf("event %q seq %d is not after %+v", e.UserID, e.Seq, pos)
			}
			pos = pos.Advance(e)
		}
		if page.Next != pos {
			t.Fatalf("Next = %+v after events ending at %+v", page.Next, pos)
		}
		got = append(got, page.Events...)
		if !page.More {
			break
		}
	}
	if len(got) != 10 || pos != (notify.Position{User: 5, Broadcast: 5}) {
		t.Fatalf("read %d events ending at %+v, want 10 ending at 5, 5", len(got), pos)
	}
}

// "An event stored under a name that may not be written to a stream … is
// left out, its position still counted in Next." A page of nothing but such
// events still moves Next, so a reader never stalls on them.
func testReadEventsSkipsRefusedNames(t *testing.T, f *fixture) {
	at := now().Add(-time.Minute)
	refused := []string{"error", "MESSAGE", "open", "connected", "Live", "reset", "unread-count",
		"notification.forged", "bad name", "a\nb", "x\u2028"}
	var evs []notify.Event
	for _, name := range refused[:4] {
		evs = append(evs, sysEvent("u1", name, at))
	}
	evs = append(evs, sysEvent("u1", "deploy.started", at)) // u1 seq 5, valid
	for _, name := range refused[4:] {
		evs = append(evs, sysEvent("u1", name, at))
	}
	evs = append(evs, sysEvent(notify.BroadcastStream, "error", at), sysEvent(notify.BroadcastStream, "Deploy", at))
	f.appendEvents(evs...)
	tail := len(refused) + 1 // u1's last position

	// A page of only refused events: nothing to deliver, Next moved past them.
	page, err := f.s.ReadEvents(f.ctx, "u1", notify.Position{}, 3)
	if err != nil {
		t.Fatalf("ReadEvents: %v", err)
	}
	if len(page.Events) != 0 || page.Skipped != 3 || !page.More || page.Next != (notify.Position{User: 3}) {
		t.Fatalf("first page = %+v, want no events, 3 skipped, More, Next at user 3", page)
	}
	page, err = f.s.ReadEvents(f.ctx, "u1", notify.Position{}, 100)
	if err != nil {
		t.Fatalf("ReadEvents: %v", err)
	}
	var names []string
	for _, e := range page.Events {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"deploy.started", "Deploy"}) && !slices.Equal(names, []string{"Deploy", "deploy.started"}) {
		t.Fatalf("delivered %q, want only deploy.started and Deploy", names)
	}
	if page.Skipped != len(refused)+1 || page.More || page.Next != (notify.Position{User: int64(tail), Broadcast: 2}) {
		t.Fatalf("page = skipped %d, More %v, Next %+v; want %d, false, {%d 2}",
			page.Skipped, page.More, page.Next, len(refused)+1, tail)
	}
}

// "It returns ErrCursorGone when … pos lies beyond the head of either stream."
func testReadEventsBeyondHead(t *testing.T, f *fixture) {
	f.publishOne("u1")
	f.publishOne(notify.BroadcastStream)
	for _, pos := range []notify.Position{{User: 2, Broadcast: 1}, {User: 1, Broadcast: 2}, {User: 7}} {
		if _, err := f.s.ReadEvents(f.ctx, "u1", pos, 10); !errors.Is(err, notify.ErrCursorGone) {
			t.Errorf("ReadEvents(%+v) beyond head {1 1}: %v, want ErrCursorGone", pos, err)
		}
	}
	if _, err := f.s.ReadEvents(f.ctx, "u2", notify.Position{User: 1, Broadcast: 1}, 10); !errors.Is(err, notify.ErrCursorGone) {
		t.Errorf("ReadEvents of an empty user stream from 1: %v, want ErrCursorGone", err)
	}
	if evs := f.events("u1", notify.Position{User: 1, Broadcast: 1}); len(evs) != 0 {
		t.Errorf("ReadEvents at the head = %+v, want none", evs)
	}
}

// "Prune deletes notifications and events created before before, with their
// read state, and expired idempotency keys and tickets."
func testPrune(t *testing.T, f *fixture) {
	old := now().Add(-48 * time.Hour)
	oldOwn := f.note("u1", old)
	oldBC := f.note(notify.BroadcastStream, old)
	f.publish(notify.PublishInput{Notifications: []notify.Notification{oldOwn}})
	f.publish(notify.PublishInput{Notifications: []notify.Notification{oldBC}})
	f.markRead("u1", oldBC.ID)
	newOwn := f.publishOne("u1")
	newBC := f.publishOne(notify.BroadcastStream)
	if err := f.s.CreateTicket(f.ctx, notify.Ticket{
		Hash: "expired", UserID: "u1", TokenExpiry: old, ExpiresAt: old.Add(time.Minute),
	}, old, 0); err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}

	deleted, err := f.s.Prune(f.ctx, now().Add(-24*time.Hour))
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	// at least: 2 notifications, their 2 events, the ticket
	if deleted < 5 {
		t.Fatalf("Prune deleted %d rows, want at least 5", deleted)
	}
	if got, want := f.inbox("u1", false), []string{newBC.ID, newOwn.ID}; !slices.Equal(got, want) {
		t.Fatalf("inbox after Prune = %v, want %v", got, want)
	}
	if got := f.unread("u1"); got != 2 {
		t.Fatalf("unread after Prune = %d, want 2", got)
	}
	_, err = f.s.MarkRead(f.ctx, "u1", oldOwn.ID)
	wantNotFound(t, "MarkRead of a pruned notification", err)
	_, err = f.s.MarkRead(f.ctx, "u2", oldBC.ID)
	wantNotFound(t, "MarkRead of a pruned broadcast", err)
	_, err = f.s.ConsumeTicket(f.ctx, "expired", old)
	wantNotFound(t, "ConsumeTicket of a pruned ticket", err)
	// New events are kept: u1's stream holds seq 2 (read event) and 3.
	evs := f.events("u1", notify.Position{User: 1, Broadcast: 1})
	if len(evs) != 3 {
		t.Fatalf("events after the pruned ones = %+v, want 3", evs)
	}
	if got := f.head("u1"); got != (notify.Position{User: 3, Broadcast: 2}) {
		t.Fatalf("Head after Prune = %+v, want unchanged 3, 2", got)
	}
	if n, err := f.s.Prune(f.ctx, now().Add(-24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("second Prune = (%d, %v), want (0, nil)", n, err)
	}
}

// "It returns ErrCursorGone when events after pos have been pruned."
func testReadEventsAfterPrune(t *testing.T, f *fixture) {
	old := now().Add(-48 * time.Hour)
	f.appendEvents(sysEvent("u1", "a", old), sysEvent("u1", "b", old), sysEvent(notify.BroadcastStream, "c", old))
	f.appendEvents(sysEvent("u1", "d", now()), sysEvent(notify.BroadcastStream, "e", now()))
	if _, err := f.s.Prune(f.ctx, now().Add(-24*time.Hour)); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	for _, pos := range []notify.Position{{}, {User: 1, Broadcast: 1}, {User: 2, Broadcast: 0}} {
		if _, err := f.s.ReadEvents(f.ctx, "u1", pos, 10); !errors.Is(err, notify.ErrCursorGone) {
			t.Errorf("ReadEvents(%+v) after pruning u1 1..2, broadcast 1: %v, want ErrCursorGone", pos, err)
		}
	}
	evs := f.events("u1", notify.Position{User: 2, Broadcast: 1})
	names := []string{}
	for _, e := range evs {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"d", "e"}) {
		t.Fatalf("events after the pruned range = %+v, want d and e", evs)
	}
	// A user whose own stream was never pruned can still read from 0 in it.
	if _, err := f.s.ReadEvents(f.ctx, "u2", notify.Position{Broadcast: 1}, 10); err != nil {
		t.Fatalf("ReadEvents of an unpruned user stream: %v", err)
	}
}
