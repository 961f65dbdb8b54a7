package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

var lifecycleTests = []test{
	{"Epoch", testEpoch},
	{"Ping", testPing},
	{"MethodsAfterClose", testAfterClose},
}

// "Epoch names this database. It is fixed …": non-empty, stable, and usable
// in a notify.Cursor.
func testEpoch(t *testing.T, f *fixture) {
	e := f.s.Epoch()
	c := notify.Cursor{Epoch: e, Position: notify.Position{User: 3, Broadcast: 4}}
	back, err := notify.ParseCursor(c.String())
	if err != nil || back != c {
		t.Fatalf("epoch %q does not round-trip through a cursor: %+v, %v", e, back, err)
	}
	f.publishOne("u1")
	if again := f.s.Epoch(); again != e {
		t.Fatalf("Epoch changed from %q to %q", e, again)
	}
}

func testPing(t *testing.T, f *fixture) {
	if err := f.s.Ping(f.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// "After Close every method returns an error."
func testAfterClose(t *testing.T, f *fixture) {
	n := f.publishOne("u1")
	if err := f.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := context.Background()
	at := time.Now()
	calls := map[string]func() error{
		"Publish": func() error {
			_, err := f.s.Publish(ctx, notify.PublishInput{Notifications: []notify.Notification{f.note("u1", now())}})
			return err
		},
		"AppendEvents": func() error {
			_, err := f.s.AppendEvents(ctx, []notify.Event{sysEvent("u1", "x", at)})
			return err
		},
		"List":        func() error { _, err := f.s.List(ctx, "u1", notify.ListQuery{Limit: 10}); return err },
		"UnreadCount": func() error { _, err := f.s.UnreadCount(ctx, "u1"); return err },
		"MarkRead":    func() error { _, err := f.s.MarkRead(ctx, "u1", n.ID); return err },
		"MarkAllRead": func() error { _, _, err := f.s.MarkAllRead(ctx, "u1"); return err },
		"Delete":      func() error { _, err := f.s.Delete(ctx, "u1", n.ID); return err },
		"Head":        func() error { _, err := f.s.Head(ctx, "u1"); return err },
		"ReadEvents":  func() error { _, err := f.s.ReadEvents(ctx, "u1", notify.Position{}, 10); return err },
		"CreateTicket": func() error {
			return f.s.CreateTicket(ctx, notify.Ticket{Hash: "h", UserID: "u1", TokenExpiry: at, ExpiresAt: at}, at, 0)
		},
		"ConsumeTicket": func() error { _, err := f.s.ConsumeTicket(ctx, "h", at); return err },
		"Prune":         func() error { _, err := f.s.Prune(ctx, at); return err },
		"Ping":          func() error { return f.s.Ping(ctx) },
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s after Close returned nil, want an error", name)
		}
	}
}
