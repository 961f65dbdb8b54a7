package storetest

import (
	"slices"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

// ReopenOpener opens the store kept in dir (creating it if dir is empty).
// The suite closes what it opens.
type ReopenOpener func(t *testing.T, dir string) notify.Store

// RunReopen checks what must survive closing and reopening a store: the
// epoch ("fixed when the schema is created and never changes"), committed
// notifications, read state and stream positions. It suits stores whose
// state lives in a directory (embedded stores).
func RunReopen(t *testing.T, open ReopenOpener) {
	dir := t.TempDir()
	first := newFixture(t, open(t, dir))
	n := first.publishOne("u1")
	b := first.publishOne(notify.BroadcastStream)
	first.markRead("u1", b.ID)
	epoch, head := first.s.Epoch(), first.head("u1")
	if err := first.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	again := newFixture(t, open(t, dir))
	defer func() {
		if err := again.s.Close(); err != nil {
			t.Errorf("Close after reopen: %v", err)
		}
	}()
	if got := again.s.Epoch(); got != epoch {
		t.Fatalf("epoch after reopen = %q, want %q", got, epoch)
	}
	if got := again.head("u1"); got != head {
		t.Fatalf("Head after reopen = %+v, want %+v", got, head)
	}
	if got, want := again.inbox("u1", false), []string{b.ID, n.ID}; !slices.Equal(got, want) {
		t.Fatalf("inbox after reopen = %v, want %v", got, want)
	}
	if got := again.unread("u1"); got != 1 {
		t.Fatalf("unread after reopen = %d, want 1", got)
	}
	if evs := again.events("u1", notify.Position{}); len(evs) != 3 {
		t.Fatalf("events after reopen = %+v, want 3", evs)
	}
	if ev := again.publishTo("u1"); len(ev) != 1 {
		t.Fatal("publish after reopen failed")
	}
	if got := again.head("u1"); got.User != head.User+1 {
		t.Fatalf("Head after a publish on the reopened store = %+v, want user %d", got, head.User+1)
	}
}
