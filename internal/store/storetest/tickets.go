package storetest

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

var ticketTests = []test{
	{"ConsumeOnce", testTicketOnce},
	{"ConsumeOnceConcurrently", testTicketOnceConcurrent},
	{"Expiry", testTicketExpiry},
}

func (f *fixture) createTicket(tk notify.Ticket) {
	f.t.Helper()
	if err := f.s.CreateTicket(f.ctx, tk); err != nil {
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
