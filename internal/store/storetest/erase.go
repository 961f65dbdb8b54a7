package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

var eraseTests = []test{
	{"ErasesOnlyTheUser", testEraseOnlyTheUser},
	{"OldPositionsAreRefused", testEraseRefusesOldPositions},
	{"Idempotent", testEraseIdempotent},
}

func (f *fixture) erase(user string) {
	f.t.Helper()
	if err := f.s.EraseUser(f.ctx, user); err != nil {
		f.t.Fatalf("EraseUser(%q): %v", user, err)
	}
}

// "EraseUser deletes everything stored about userID: the user's
// notifications, broadcast read and delete state, events, tickets and
// import ids." Nothing of another user, and no broadcast, goes with them.
func testEraseOnlyTheUser(t *testing.T, f *fixture) {
	at := now()
	bcRead, bcDeleted, bcKept := f.publishOne(notify.BroadcastStream), f.publishOne(notify.BroadcastStream), f.publishOne(notify.BroadcastStream)
	own := f.publishTo("u1", "u1", "u2")
	f.markRead("u1", own[0].ID)
	f.markRead("u1", bcRead.ID)
	f.delete("u1", bcDeleted.ID)
	f.markRead("u2", bcRead.ID)
	f.appendEvents(sysEvent("u1", "sys", at))
	f.importAll(f.imported("u1", "imp-1", at.Add(-time.Hour), nil), f.imported("u2", "imp-2", at.Add(-time.Hour), nil))
	for _, tk := range []notify.Ticket{
		{Hash: "t1", UserID: "u1", TokenExpiry: at.Add(time.Hour), ExpiresAt: at.Add(time.Minute)},
		{Hash: "t2", UserID: "u2", TokenExpiry: at.Add(time.Hour), ExpiresAt: at.Add(time.Minute)},
	} {
		f.createTicket(tk)
	}
	u2Inbox, u2Head, u2Unread := f.inbox("u2", false), f.head("u2"), f.unread("u2")
	bcHead := f.head("u1").Broadcast

	f.erase("u1")

	// u1 sees every broadcast, unread, and nothing else.
	inbox := f.inbox("u1", false)
	if len(inbox) != 3 || inbox[0] != bcKept.ID || inbox[1] != bcDeleted.ID || inbox[2] != bcRead.ID {
		t.Fatalf("u1's inbox after erase %v, want the three broadcasts", inbox)
	}
	if got := f.unread("u1"); got != 3 {
		t.Errorf("u1 unread after erase = %d, want 3 (the broadcasts, their read state gone)", got)
	}
	f.check("after erase", f.follow("u1"), f.follow("u2"))
	head := f.head("u1")
	if got := f.events("u1", head); len(got) != 0 {
		t.Errorf("events after the erased head: %+v", got)
	}
	if _, err := f.s.ConsumeTicket(f.ctx, "t1", at); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("u1's ticket after erase: %v, want ErrNotFound", err)
	}
	// A re-import of u1's import id imports it again: the id was u1's data.
	if out := f.importAll(f.imported("u1", "imp-1", at.Add(-time.Hour), nil)); out.Imported != 1 {
		t.Errorf("re-import of an erased user's import id = %+v, want it imported", out)
	}

	// Nothing of u2, and nothing of the broadcast stream, changed.
	if f.head("u2") != u2Head || f.unread("u2") != u2Unread || len(f.inbox("u2", false)) != len(u2Inbox) {
		t.Errorf("u2 changed: head %+v, unread %d, inbox %v", f.head("u2"), f.unread("u2"), f.inbox("u2", false))
	}
	if f.head("u1").Broadcast != bcHead {
		t.Errorf("broadcast stream moved from %d to %d", bcHead, f.head("u1").Broadcast)
	}
	if out := f.importAll(f.imported("u2", "imp-2", at, nil)); out.Imported != 0 {
		t.Errorf("u2's import id was forgotten")
	}
	if _, err := f.s.ConsumeTicket(f.ctx, "t2", at); err != nil {
		t.Errorf("u2's ticket: %v", err)
	}
}

// "The user's stream row stays, advanced one position past its last event
// and pruned up to there …: every position issued before the erase is then
// too old for ReadEvents (ErrCursorGone), and no later event reuses one."
func testEraseRefusesOldPositions(t *testing.T, f *fixture) {
	f.publishOne("u1")
	mid := f.head("u1")
	f.publishOne("u1")
	f.publishOne(notify.BroadcastStream)
	last := f.head("u1")

	f.erase("u1")
	head := f.head("u1")
	if head.User != last.User+1 || head.Broadcast != last.Broadcast {
		t.Fatalf("head after erase %+v, want the user's one past %+v", head, last)
	}
	for _, pos := range []notify.Position{{}, mid, last, {User: last.User, Broadcast: 0}} {
		if _, err := f.s.ReadEvents(f.ctx, "u1", pos, 10); !errors.Is(err, notify.ErrCursorGone) {
			t.Errorf("ReadEvents from %+v (before the erase) = %v, want ErrCursorGone", pos, err)
		}
	}
	n := f.publishOne("u1")
	evs := f.events("u1", head)
	if len(evs) != 1 || evs[0].Seq != head.User+1 || eventNotification(t, evs[0]).ID != n.ID {
		t.Fatalf("after erase and a publish, from the new head: %+v", evs)
	}
	f.check("after erase and publish", f.follow("u1"))
}

// "Erasing a user with nothing stored changes nothing."
func testEraseIdempotent(t *testing.T, f *fixture) {
	f.erase("nobody")
	if got := f.head("nobody"); got != (notify.Position{}) {
		t.Errorf("head of a user erased without ever being seen = %+v, want zero", got)
	}
	f.publishTo("u1", "u1")
	f.erase("u1")
	head := f.head("u1")
	f.erase("u1")
	if got := f.head("u1"); got != head {
		t.Errorf("a second erase moved the head from %+v to %+v", head, got)
	}
	if _, err := f.s.ReadEvents(f.ctx, "u1", head, 10); err != nil {
		t.Errorf("ReadEvents from the head after a second erase: %v", err)
	}
	if err := f.s.EraseUser(f.ctx, notify.BroadcastStream); notify.ErrorCode(err) != notify.CodeInvalid {
		t.Errorf("EraseUser of the broadcast stream = %v, want CodeInvalid", err)
	}
	f.check("after erasing twice", f.follow("u1"), f.follow("nobody"))
}
