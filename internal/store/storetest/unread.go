package storetest

import (
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

var unreadTests = []test{
	{"SharesFollowEvents", testSharesFollowEvents},
	{"SharesAfterPrune", testSharesAfterPrune},
	{"SharesConcurrent", testSharesConcurrent},
}

// follower keeps a user's unread shares from the events it is shown, as a
// stream does.
type follower struct {
	t      *testing.T
	user   string
	shares notify.UnreadShares
}

func (f *fixture) follow(user string) *follower {
	f.t.Helper()
	return &follower{t: f.t, user: user, shares: f.state(user).Unread}
}

// see applies the events of a write, which must all be Counted.
func (fl *follower) see(evs ...notify.Event) {
	fl.t.Helper()
	for i := range evs {
		e := &evs[i]
		if !e.Counted {
			fl.t.Fatalf("event %s #%d of stream %q is not Counted", e.Name, e.Seq, e.UserID)
		}
		if e.Broadcast() || e.UserID == fl.user {
			fl.shares = fl.shares.Apply(e)
		}
	}
}

func (f *fixture) state(user string) notify.StreamState {
	f.t.Helper()
	st, err := f.s.State(f.ctx, user)
	if err != nil {
		f.t.Fatalf("State(%q): %v", user, err)
	}
	return st
}

// check asserts what the contract ties together: the shares followed from
// the events equal State's, their Count equals UnreadCount, and that equals
// the number of unread notifications List shows (the independent truth).
func (f *fixture) check(step string, fls ...*follower) {
	f.t.Helper()
	for _, fl := range fls {
		st := f.state(fl.user)
		if st.Unread != fl.shares {
			f.t.Fatalf("%s: %s: State shares %+v, followed from events %+v", step, fl.user, st.Unread, fl.shares)
		}
		if st.Position != f.head(fl.user) {
			f.t.Fatalf("%s: %s: State position %+v, Head %+v", step, fl.user, st.Position, f.head(fl.user))
		}
		listed := len(f.inbox(fl.user, true))
		if got := f.unread(fl.user); got != listed || st.Unread.Count() != listed {
			f.t.Fatalf("%s: %s: UnreadCount %d, State count %d, unread listed %d", step, fl.user, got, st.Unread.Count(), listed)
		}
	}
}

func evs(ev *notify.Event) []notify.Event {
	if ev == nil {
		return nil
	}
	return []notify.Event{*ev}
}

// "Every durable event a write method returns is Counted: its Unread is its
// stream's share right after it, so that State's shares updated by the
// later events' Unread always equal a later State's."
func testSharesFollowEvents(t *testing.T, f *fixture) {
	u1, u2 := f.follow("u1"), f.follow("u2")
	f.check("empty", u1, u2)
	pub := func(in notify.PublishInput) notify.PublishOutput {
		out := f.publish(in)
		u1.see(out.Events...)
		u2.see(out.Events...)
		return out
	}
	at := now()
	a, b, c := f.note("u1", at), f.note("u1", at), f.note("u2", at)
	pub(notify.PublishInput{Notifications: []notify.Notification{a, b, c}})
	f.check("three own", u1, u2)
	bc1, bc2, bc3 := f.note(notify.BroadcastStream, at), f.note(notify.BroadcastStream, at), f.note(notify.BroadcastStream, at)
	for _, n := range []notify.Notification{bc1, bc2, bc3} {
		pub(notify.PublishInput{Notifications: []notify.Notification{n}})
	}
	f.check("three broadcasts", u1, u2)

	k1 := f.note("u1", at)
	k1.CollapseKey = "k"
	pub(notify.PublishInput{Notifications: []notify.Notification{k1}, CollapseKey: "k"})
	k2 := f.note("u1", at)
	pub(notify.PublishInput{Notifications: []notify.Notification{k2}, CollapseKey: "k"})
	f.check("collapse", u1, u2)

	idem := f.note("u1", at)
	pub(notify.PublishInput{Notifications: []notify.Notification{idem}, IdempotencyKey: "idem-shares"})
	dup := f.note("u1", at)
	if out := pub(notify.PublishInput{Notifications: []notify.Notification{dup}, IdempotencyKey: "idem-shares"}); !out.Duplicate {
		t.Fatalf("second publish with the key is not a duplicate")
	}
	f.check("idempotent publish", u1, u2)

	u1.see(evs(f.markRead("u1", a.ID))...)
	f.check("mark own read", u1, u2)
	u1.see(evs(f.markRead("u1", bc1.ID))...)
	f.check("mark broadcast read", u1, u2)
	if ev := f.markRead("u1", a.ID); ev != nil {
		t.Fatalf("marking a read notification read again appended %+v", ev)
	}
	u1.see(evs(f.delete("u1", a.ID))...)
	f.check("delete a read own", u1, u2)
	u1.see(evs(f.delete("u1", b.ID))...)
	f.check("delete an unread own", u1, u2)
	u1.see(evs(f.delete("u1", bc1.ID))...)
	f.check("delete a read broadcast", u1, u2)
	u1.see(evs(f.delete("u1", bc2.ID))...)
	f.check("delete an unread broadcast", u1, u2)

	sys := f.appendEvents(sysEvent("u2", "sys", now()), sysEvent(notify.BroadcastStream, "sys", now()))
	u1.see(sys...)
	u2.see(sys...)
	f.check("system events", u1, u2)

	n, ev, err := f.s.MarkAllRead(f.ctx, "u2")
	if err != nil || n != 4 {
		t.Fatalf("MarkAllRead(u2) = %d, %v; want 4 (own c, three broadcasts)", n, err)
	}
	u2.see(evs(ev)...)
	f.check("mark all read", u1, u2)
	pub(notify.PublishInput{Notifications: []notify.Notification{f.note(notify.BroadcastStream, now())}})
	f.check("a broadcast after mark all read", u1, u2)
}

// Prune changes counts without events: State must say so at once.
func testSharesAfterPrune(t *testing.T, f *fixture) {
	old := now().Add(-48 * time.Hour)
	oldRead, oldUnread := f.note("u1", old), f.note("u1", old)
	oldBCRead, oldBCUnread := f.note(notify.BroadcastStream, old), f.note(notify.BroadcastStream, old)
	f.publish(notify.PublishInput{Notifications: []notify.Notification{oldRead, oldUnread}})
	f.publish(notify.PublishInput{Notifications: []notify.Notification{oldBCRead}})
	f.publish(notify.PublishInput{Notifications: []notify.Notification{oldBCUnread}})
	f.markRead("u1", oldRead.ID)
	f.markRead("u1", oldBCRead.ID)
	f.markRead("u2", oldBCUnread.ID)
	if _, err := f.s.Delete(f.ctx, "u2", oldBCRead.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	f.publishTo("u1", "u2", notify.BroadcastStream)
	f.check("before prune", f.follow("u1"), f.follow("u2"), f.follow("u3"))
	if _, err := f.s.Prune(f.ctx, now().Add(-24*time.Hour)); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	f.check("after prune", f.follow("u1"), f.follow("u2"), f.follow("u3"))
	if got := f.unread("u1"); got != 2 {
		t.Fatalf("u1 unread after prune = %d, want 2 (own and broadcast kept)", got)
	}
}

// Concurrent writes keep the stored shares exact.
func testSharesConcurrent(t *testing.T, f *fixture) {
	const n = 40
	notes := make([]notify.Notification, n)
	for i := range notes {
		notes[i] = f.note("u1", now())
	}
	if err := parallel(n, func(i int) error {
		_, err := f.s.Publish(f.ctx, notify.PublishInput{Notifications: []notify.Notification{notes[i]}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := parallel(n/2, func(i int) error {
		var err error
		if i%2 == 0 {
			_, err = f.s.MarkRead(f.ctx, "u1", notes[i].ID)
		} else {
			_, err = f.s.Delete(f.ctx, "u1", notes[i].ID)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	f.check("after concurrent writes", f.follow("u1"))
	if got := f.unread("u1"); got != n-n/2 {
		t.Fatalf("unread = %d, want %d", got, n-n/2)
	}
}
