// Package storetest is the contract suite of notify.Store: every store
// implementation runs Run and must pass it unchanged. It talks to the store
// only through notify.Store, and asserts what the interface's documentation
// promises, no more: a test that fails names the sentence it checks.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// Opener returns a fresh, empty store, closed by the opener via t.Cleanup.
// Some tests close the store themselves first, so Close must tolerate a
// second call.
type Opener func(t *testing.T) notify.Store

// Run runs the contract suite against stores made by open. Subtests run in
// parallel, each on its own store.
func Run(t *testing.T, open Opener) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Publish", publishTests},
		{"Inbox", inboxTests},
		{"Events", eventTests},
		{"Tickets", ticketTests},
		{"Lifecycle", lifecycleTests},
		{"Unread", unreadTests},
		{"Import", importTests},
		{"Erase", eraseTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, newFixture(t, open(t)))
				})
			}
		})
	}
}

// test is one contract check; it gets a fresh empty store.
type test struct {
	name string
	fn   func(t *testing.T, f *fixture)
}

// fixture bundles a store under test with helpers that fail the test on
// unexpected errors.
type fixture struct {
	t   *testing.T
	s   notify.Store
	ctx context.Context
	ids notify.IDGen
}

func newFixture(t *testing.T, s notify.Store) *fixture {
	return &fixture{t: t, s: s, ctx: t.Context()}
}

// now is the current time at the precision stores keep (microseconds, UTC).
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// note returns a notification for user (notify.BroadcastStream for a
// broadcast) created at at, with a fresh id and distinctive content.
func (f *fixture) note(user string, at time.Time) notify.Notification {
	id := f.ids.New(at)
	return notify.Notification{
		ID: id, UserID: user, Type: "comment", Title: "title " + id,
		Message: "line one\nline two", Data: json.RawMessage(`{"postId":42}`),
		Link: "/posts/42", CreatedAt: at,
	}
}

// publish stores in and fails the test on error.
func (f *fixture) publish(in notify.PublishInput) notify.PublishOutput {
	f.t.Helper()
	out, err := f.s.Publish(f.ctx, in)
	if err != nil {
		f.t.Fatalf("Publish: %v", err)
	}
	return out
}

// publishTo publishes one notification to each of users (BroadcastStream for
// a broadcast) in one call and returns the notifications.
func (f *fixture) publishTo(users ...string) []notify.Notification {
	f.t.Helper()
	at := now()
	ns := make([]notify.Notification, len(users))
	for i, u := range users {
		ns[i] = f.note(u, at)
	}
	f.publish(notify.PublishInput{Notifications: ns})
	return ns
}

// publishOne publishes one notification to user and returns it.
func (f *fixture) publishOne(user string) notify.Notification {
	f.t.Helper()
	return f.publishTo(user)[0]
}

func (f *fixture) list(user string, q notify.ListQuery) notify.Page {
	f.t.Helper()
	p, err := f.s.List(f.ctx, user, q)
	if err != nil {
		f.t.Fatalf("List(%q): %v", user, err)
	}
	return p
}

// inbox returns the ids of the user's whole inbox, newest first.
func (f *fixture) inbox(user string, unreadOnly bool) []string {
	f.t.Helper()
	var ids []string
	q := notify.ListQuery{Limit: 100, UnreadOnly: unreadOnly}
	for range 1000 {
		p := f.list(user, q)
		for _, n := range p.Notifications {
			ids = append(ids, n.ID)
		}
		if p.Next == "" {
			return ids
		}
		q.Before = p.Next
	}
	f.t.Fatalf("List(%q): paging does not end", user)
	return nil
}

func (f *fixture) unread(user string) int {
	f.t.Helper()
	n, err := f.s.UnreadCount(f.ctx, user)
	if err != nil {
		f.t.Fatalf("UnreadCount(%q): %v", user, err)
	}
	return n
}

func (f *fixture) head(user string) notify.Position {
	f.t.Helper()
	p, err := f.s.Head(f.ctx, user)
	if err != nil {
		f.t.Fatalf("Head(%q): %v", user, err)
	}
	return p
}

// events returns every event of the user's and the broadcast stream after pos.
func (f *fixture) events(user string, pos notify.Position) []notify.Event {
	f.t.Helper()
	page, err := f.s.ReadEvents(f.ctx, user, pos, 100000)
	if err != nil {
		f.t.Fatalf("ReadEvents(%q, %+v): %v", user, pos, err)
	}
	if page.More {
		f.t.Fatalf("ReadEvents(%q, %+v) has more than 100000 events", user, pos)
	}
	return page.Events
}

func (f *fixture) markRead(user, id string) *notify.Event {
	f.t.Helper()
	ev, err := f.s.MarkRead(f.ctx, user, id)
	if err != nil {
		f.t.Fatalf("MarkRead(%q, %q): %v", user, id, err)
	}
	return ev
}

func (f *fixture) delete(user, id string) *notify.Event {
	f.t.Helper()
	ev, err := f.s.Delete(f.ctx, user, id)
	if err != nil {
		f.t.Fatalf("Delete(%q, %q): %v", user, id, err)
	}
	return ev
}

// parallel runs fn(i) for i in [0, n) on n goroutines and reports the first
// error.
func parallel(n int, fn func(i int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i := range n {
		wg.Go(func() {
			if err := fn(i); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("goroutine %d: %w", i, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// wantNotFound fails unless err is notify.ErrNotFound (by errors.Is, code
// and caller-visible message).
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, notify.ErrNotFound) || notify.ErrorCode(err) != notify.CodeNotFound ||
		notify.ErrorMessage(err) != notify.ErrNotFound.Message {
		t.Fatalf("%s: got %v, want notify.ErrNotFound", what, err)
	}
}

// idsData is the data of notification.read and notification.deleted events.
type idsData struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

// wantIDsEvent fails unless ev is a durable event name of user's stream whose
// data is {"ids":ids}.
func wantIDsEvent(t *testing.T, ev *notify.Event, user, name string, ids ...string) {
	t.Helper()
	if ev == nil {
		t.Fatalf("want a %s event, got none", name)
	}
	if ev.Name != name || ev.UserID != user || !ev.Durable() {
		t.Fatalf("event = %s for %q seq %d, want a durable %s for %q", ev.Name, ev.UserID, ev.Seq, name, user)
	}
	var d idsData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatalf("%s data %s: %v", name, ev.Data, err)
	}
	if fmt.Sprint(d.IDs) != fmt.Sprint(ids) || d.All {
		t.Fatalf("%s data = %s, want ids %v", name, ev.Data, ids)
	}
}

// eventNotification decodes the data of a notification event.
func eventNotification(t *testing.T, ev notify.Event) notify.Notification {
	t.Helper()
	if ev.Name != notify.EventNotification {
		t.Fatalf("event %s seq %d: want %s", ev.Name, ev.Seq, notify.EventNotification)
	}
	var n notify.Notification
	if err := json.Unmarshal(ev.Data, &n); err != nil {
		t.Fatalf("notification event data %s: %v", ev.Data, err)
	}
	return n
}

// sameContent reports how got differs from want in what clients see, "" if
// it does not (ReadAt is compared by the caller).
func sameContent(got, want notify.Notification) string {
	switch {
	case got.ID != want.ID:
		return fmt.Sprintf("id %q, want %q", got.ID, want.ID)
	case got.Type != want.Type || got.Title != want.Title || got.Message != want.Message || got.Link != want.Link:
		return fmt.Sprintf("content %q/%q/%q/%q, want %q/%q/%q/%q", got.Type, got.Title, got.Message, got.Link,
			want.Type, want.Title, want.Message, want.Link)
	case !jsonEqual(got.Data, want.Data):
		return fmt.Sprintf("data %s, want %s", got.Data, want.Data)
	case !got.CreatedAt.Equal(want.CreatedAt):
		return fmt.Sprintf("createdAt %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	return ""
}

// jsonEqual compares two JSON values; absent and null are equal.
func jsonEqual(a, b json.RawMessage) bool {
	if string(a) == "null" {
		a = nil
	}
	if string(b) == "null" {
		b = nil
	}
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}
