package storetest

import (
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

// Legacy is what a database written under an earlier schema held, as an
// upgrade test wrote it: its epoch and, per user, the head of the user's
// streams (the cursor a browser saved) and the unread count the earlier
// code answered.
type Legacy struct {
	Epoch string
	Users map[string]LegacyUser
}

// LegacyUser is one user of a Legacy database.
type LegacyUser struct {
	Head   notify.Position
	Unread int
}

// CheckUpgraded asserts that s, opened (and so migrated) on a database
// written under an earlier schema, keeps every stored cursor valid (same
// epoch, same positions: a client resumes without a reset) and counts
// unread as before, then keeps counting right as new writes arrive.
func CheckUpgraded(t *testing.T, s notify.Store, want Legacy) {
	t.Helper()
	f := newFixture(t, s)
	if got := s.Epoch(); got != want.Epoch {
		t.Fatalf("epoch after upgrade = %q, want %q: every saved cursor would reset", got, want.Epoch)
	}
	var fls []*follower
	for user, w := range want.Users {
		if got := f.head(user); got != w.Head {
			t.Fatalf("%s: Head after upgrade = %+v, want %+v", user, got, w.Head)
		}
		if _, err := s.ReadEvents(f.ctx, user, w.Head, 10); err != nil {
			t.Fatalf("%s: resume from the saved cursor %+v after upgrade: %v", user, w.Head, err)
		}
		if got := f.unread(user); got != w.Unread {
			t.Fatalf("%s: unread after upgrade = %d, the earlier schema said %d", user, got, w.Unread)
		}
		fls = append(fls, f.follow(user))
	}
	f.check("after upgrade", fls...)
	for _, fl := range fls {
		out := f.publish(notify.PublishInput{Notifications: []notify.Notification{f.note(fl.user, now())}})
		for _, other := range fls {
			other.see(out.Events...)
		}
	}
	out := f.publish(notify.PublishInput{Notifications: []notify.Notification{f.note(notify.BroadcastStream, now())}})
	for _, fl := range fls {
		fl.see(out.Events...)
	}
	f.check("new writes after upgrade", fls...)
}
