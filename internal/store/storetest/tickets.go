package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

var ticketTests = []test{
	{"ConsumeOnce", testTicketOnce},
	{"ConsumeOnceConcurrently", testTicketOnceConcurrent},
	{"Expiry", testTicketExpiry},
	{"BoundPerUser", testTicketBound},
	{"ExpiredPrunedAndUncounted", testTicketExpiredPruned},
}

func (f *fixture) createTicket(tk notify.Ticket) {
	f.t.Helper()
	if err := f.s.CreateTicket(f.ctx, tk, now(), 0); err != nil {
		f.t.Fatalf("CreateTicket: %v", err)
	}
}

// "ConsumeTicket deletes and returns the ticket with this hash if it exists
// and has not expired at now; otherwise ErrNotFound."
func testTicketOnce(t *testing.T, f *fixture) {
	at := now()
	want := notify.Ticket{Hash: "h1", UserID: "u1", TokenExpiry: at.Add(time.Hour), ExpiresAt: at.Add(time.Minute)}
	f.createTicket(want)
	got, err := f.s.ConsumeTicket(f.ctx, "h1", at)
	if err != nil {
		t.Fatalf("ConsumeTicket: %v", err)
	}
	if got.Hash != want.Hash || got.UserID != want.UserID ||
		!got.TokenExpiry.Equal(want.TokenExpiry) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("ConsumeTicket = %+v, want %+v", got, want)
	}
	_, err = f.s.ConsumeTicket(f.ctx, "h1", at)
	wantNotFound(t, "second ConsumeTicket", err)
	_, err = f.s.ConsumeTicket(f.ctx, "unknown", at)
	wantNotFound(t, "ConsumeTicket of an unknown hash", err)
}

// "A ticket is returned at most once", also to concurrent callers.
func testTicketOnceConcurrent(t *testing.T, f *fixture) {
	at := now()
	f.createTicket(notify.Ticket{Hash: "race", UserID: "u1", TokenExpiry: at.Add(time.Hour), ExpiresAt: at.Add(time.Minute)})
	var won atomic.Int32
	err := parallel(8, func(int) error {
		_, err := f.s.ConsumeTicket(f.ctx, "race", at)
		switch {
		case err == nil:
			won.Add(1)
			return nil
		case errors.Is(err, notify.ErrNotFound):
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if won.Load() != 1 {
		t.Fatalf("%d concurrent ConsumeTicket calls succeeded, want exactly 1", won.Load())
	}
}

// A ticket is consumable strictly before ExpiresAt, judged at the given now.
func testTicketExpiry(t *testing.T, f *fixture) {
	at := now()
	exp := at.Add(time.Minute)
	f.createTicket(notify.Ticket{Hash: "late", UserID: "u1", TokenExpiry: at.Add(time.Hour), ExpiresAt: exp})
	_, err := f.s.ConsumeTicket(f.ctx, "late", exp)
	wantNotFound(t, "ConsumeTicket at ExpiresAt", err)
	_, err = f.s.ConsumeTicket(f.ctx, "late", exp.Add(time.Second))
	wantNotFound(t, "ConsumeTicket after ExpiresAt", err)
	f.createTicket(notify.Ticket{Hash: "early", UserID: "u1", TokenExpiry: at.Add(time.Hour), ExpiresAt: exp})
	if _, err := f.s.ConsumeTicket(f.ctx, "early", exp.Add(-time.Microsecond)); err != nil {
		t.Fatalf("ConsumeTicket just before ExpiresAt: %v", err)
	}
}

// "When max > 0 and the user still holds max tickets, CreateTicket stores
// nothing and returns ErrTooManyTickets": per user, freed by consuming one,
// and no bound with max 0.
func testTicketBound(t *testing.T, f *fixture) {
	at := now()
	create := func(hash, user string, max int) error {
		return f.s.CreateTicket(f.ctx, notify.Ticket{Hash: hash, UserID: user,
			TokenExpiry: at.Add(time.Hour), ExpiresAt: at.Add(time.Minute)}, at, max)
	}
	for i := range 3 {
		if err := create(fmt.Sprint("a", i), "u1", 3); err != nil {
			t.Fatalf("ticket %d of 3: %v", i+1, err)
		}
	}
	err := create("a3", "u1", 3)
	if !errors.Is(err, notify.ErrTooManyTickets) || notify.ErrorCode(err) != notify.CodeLimited {
		t.Fatalf("fourth ticket with max 3: got %v, want ErrTooManyTickets", err)
	}
	if _, err := f.s.ConsumeTicket(f.ctx, "a3", at); !errors.Is(err, notify.ErrNotFound) {
		t.Fatalf("the refused ticket was stored: ConsumeTicket = %v", err)
	}
	if err := create("b0", "u2", 3); err != nil {
		t.Fatalf("another user's ticket: %v", err)
	}
	if _, err := f.s.ConsumeTicket(f.ctx, "a0", at); err != nil {
		t.Fatalf("ConsumeTicket: %v", err)
	}
	if err := create("a4", "u1", 3); err != nil {
		t.Fatalf("ticket after one was used: %v", err)
	}
	if err := create("a5", "u1", 0); err != nil {
		t.Fatalf("ticket with max 0 (no bound): %v", err)
	}
}

// "It first deletes t.UserID's tickets expired at now": expired tickets
// neither count against the bound nor stay stored (asked for at an earlier
// time, they are gone); another user's are left alone.
func testTicketExpiredPruned(t *testing.T, f *fixture) {
	at := now()
	exp := at.Add(time.Minute)
	tk := func(hash, user string) notify.Ticket {
		return notify.Ticket{Hash: hash, UserID: user, TokenExpiry: at.Add(time.Hour), ExpiresAt: exp}
	}
	for i := range 2 {
		if err := f.s.CreateTicket(f.ctx, tk(fmt.Sprint("old", i), "u1"), at, 2); err != nil {
			t.Fatalf("CreateTicket: %v", err)
		}
	}
	if err := f.s.CreateTicket(f.ctx, tk("other", "u2"), at, 2); err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	later := exp.Add(time.Second)
	for i := range 2 {
		fresh := notify.Ticket{Hash: fmt.Sprint("new", i), UserID: "u1", TokenExpiry: later.Add(time.Hour), ExpiresAt: later.Add(time.Minute)}
		if err := f.s.CreateTicket(f.ctx, fresh, later, 2); err != nil {
			t.Fatalf("ticket %d after the old ones expired: %v", i+1, err)
		}
	}
	_, err := f.s.ConsumeTicket(f.ctx, "old0", at)
	wantNotFound(t, "an expired ticket of u1 after u1's next CreateTicket", err)
	if _, err := f.s.ConsumeTicket(f.ctx, "other", at); err != nil {
		t.Fatalf("u2's ticket was deleted by u1's CreateTicket: %v", err)
	}
}
