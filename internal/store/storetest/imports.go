package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

var importTests = []test{
	{"StoresTimesReadStateAndEvents", testImportStores},
	{"ImportIDIsPermanent", testImportIdempotent},
	{"AllOrNothing", testImportAllOrNothing},
	{"Concurrent", testImportConcurrent},
}

// imported returns a notification to import for user, created at at,
// read at read (nil: unread), under importID.
func (f *fixture) imported(user, importID string, at time.Time, read *time.Time) notify.ImportedNotification {
	n := f.note(user, at)
	n.ID = notify.IDAt(at)
	n.Title = "imported " + importID
	n.ReadAt = read
	return notify.ImportedNotification{Notification: n, ImportID: importID}
}

func (f *fixture) importAll(ns ...notify.ImportedNotification) notify.ImportOutput {
	f.t.Helper()
	out, err := f.s.Import(f.ctx, notify.ImportInput{Notifications: ns})
	if err != nil {
		f.t.Fatalf("Import: %v", err)
	}
	return out
}

// "Import stores, in one transaction, each notification of in whose
// ImportID was never imported into this database, with its CreatedAt and
// ReadAt … Each stored notification gets a notification event (the
// notification as clients see it, ReadAt included; the store's clock as its
// CreatedAt) at the next position of its user's stream; the events are
// returned in stream order, Counted."
func testImportStores(t *testing.T, f *fixture) {
	first := f.publishOne("u1")
	bc := f.publishOne(notify.BroadcastStream)
	u1, u2 := f.follow("u1"), f.follow("u2")
	before := f.head("u1")

	old := now().Add(-30 * 24 * time.Hour)
	readAt := old.Add(time.Hour)
	ns := []notify.ImportedNotification{
		f.imported("u1", "a", old, nil),
		f.imported("u2", "b", old.Add(time.Minute), nil),
		f.imported("u1", "c", old.Add(2*time.Minute), &readAt),
		f.imported("u1", "d", old.Add(3*time.Minute), nil),
	}
	start := now()
	out := f.importAll(ns...)
	if out.Imported != 4 || out.Skipped != 0 || len(out.Events) != 4 {
		t.Fatalf("Import = %d imported, %d skipped, %d events; want 4, 0, 4", out.Imported, out.Skipped, len(out.Events))
	}
	u1.see(out.Events...)
	u2.see(out.Events...)
	f.check("after import", u1, u2)

	// Positions after the user's current ones, in the order given.
	var u1Seqs []int64
	for _, e := range out.Events {
		if e.UserID == "u1" {
			u1Seqs = append(u1Seqs, e.Seq)
		}
		if e.Name != notify.EventNotification || e.CreatedAt.Before(start) {
			t.Errorf("event %+v: want a notification event stamped with the store's clock", e)
		}
	}
	if fmt.Sprint(u1Seqs) != fmt.Sprint([]int64{before.User + 1, before.User + 2, before.User + 3}) {
		t.Errorf("u1's positions %v, want the three after %d", u1Seqs, before.User)
	}
	if got := f.head("u2"); got.User != 1 {
		t.Errorf("u2's head %+v, want 1", got)
	}

	// The inbox shows them with their own times and read state, in time
	// order among the rest.
	want := []string{first.ID, ns[3].ID, ns[2].ID, ns[0].ID}
	var got []string
	for _, id := range f.inbox("u1", false) {
		if id != bc.ID {
			got = append(got, id)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("u1's inbox %v, want %v (newest first)", got, want)
	}
	page := f.list("u1", notify.ListQuery{Limit: 100})
	for _, n := range page.Notifications {
		for _, in := range ns {
			if n.ID != in.ID {
				continue
			}
			if d := sameContent(n, in.Notification); d != "" {
				t.Errorf("imported %s: %s", in.ImportID, d)
			}
			if (n.ReadAt == nil) != (in.ReadAt == nil) || (n.ReadAt != nil && !n.ReadAt.Equal(*in.ReadAt)) {
				t.Errorf("imported %s: readAt %v, want %v", in.ImportID, n.ReadAt, in.ReadAt)
			}
		}
	}
	if got := f.unread("u1"); got != 4 { // first, bc, a, d
		t.Errorf("u1 unread = %d, want 4", got)
	}

	// Replayed from before the import, as clients will see them.
	var replayed []notify.Notification
	for _, e := range f.events("u1", before) {
		if e.UserID == "u1" {
			replayed = append(replayed, eventNotification(t, e))
		}
	}
	if len(replayed) != 3 || replayed[0].ID != ns[0].ID || replayed[1].ID != ns[2].ID || replayed[2].ID != ns[3].ID {
		t.Fatalf("replay after the import: %+v", replayed)
	}
	if replayed[1].ReadAt == nil || !replayed[1].ReadAt.Equal(readAt) || replayed[0].ReadAt != nil {
		t.Errorf("replayed read state: %v, %v; want nil, %v", replayed[0].ReadAt, replayed[1].ReadAt, readAt)
	}

	// The imported notifications behave like any other afterwards.
	u1.see(evs(f.markRead("u1", ns[0].ID))...)
	u1.see(evs(f.delete("u1", ns[2].ID))...)
	f.check("after reading and deleting imported ones", u1, u2)
}

// "Notifications whose ImportID was imported before are skipped and
// counted." The ImportID is remembered for good: not only for a day.
func testImportIdempotent(t *testing.T, f *fixture) {
	at := now().Add(-time.Hour)
	f.importAll(f.imported("u1", "x", at, nil), f.imported("u1", "y", at, nil))
	u1 := f.follow("u1")
	head, inbox := f.head("u1"), f.inbox("u1", false)

	again := f.importAll(f.imported("u1", "x", at, nil), f.imported("u2", "y", at, nil))
	if again.Imported != 0 || again.Skipped != 2 || len(again.Events) != 0 {
		t.Fatalf("re-import = %+v, want everything skipped", again)
	}
	if f.head("u1") != head || fmt.Sprint(f.inbox("u1", false)) != fmt.Sprint(inbox) || len(f.inbox("u2", false)) != 0 {
		t.Fatalf("a re-import changed something")
	}
	mixed := f.importAll(f.imported("u1", "x", at, nil), f.imported("u1", "z", at, nil))
	if mixed.Imported != 1 || mixed.Skipped != 1 {
		t.Fatalf("import of one old and one new id = %+v, want 1 imported, 1 skipped", mixed)
	}
	u1.see(mixed.Events...)
	f.check("after a partial re-import", u1)
	// Long after the idempotency window of publishes, the ids still count.
	if _, err := f.s.Prune(f.ctx, now().Add(-notify.IdempotencyWindow)); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if out := f.importAll(f.imported("u1", "z", at, nil)); out.Imported != 0 {
		t.Fatalf("an import id was forgotten by Prune: %+v", out)
	}
}

// "… in one transaction": a failure stores none of the request, and claims
// none of its ImportIDs.
func testImportAllOrNothing(t *testing.T, f *fixture) {
	taken := f.publishOne("u1")
	head := f.head("u1")
	at := now().Add(-time.Hour)
	good := f.imported("u1", "good", at, nil)
	clash := f.imported("u1", "clash", at, nil)
	clash.ID = taken.ID // a notification id already stored
	if _, err := f.s.Import(f.ctx, notify.ImportInput{Notifications: []notify.ImportedNotification{good, clash}}); err == nil {
		t.Fatalf("Import with an id already stored succeeded")
	}
	if f.head("u1") != head || len(f.inbox("u1", false)) != 1 {
		t.Fatalf("a failed import left something behind: head %+v, inbox %v", f.head("u1"), f.inbox("u1", false))
	}
	clash.ID = notify.IDAt(at)
	if out := f.importAll(good, clash); out.Imported != 2 {
		t.Fatalf("retry after the failure = %+v, want both imported", out)
	}
	f.check("after the retry", f.follow("u1"))

	for _, in := range []notify.ImportInput{
		{},
		{Notifications: []notify.ImportedNotification{f.imported(notify.BroadcastStream, "bc", at, nil)}},
		{Notifications: []notify.ImportedNotification{f.imported("u1", "", at, nil)}},
	} {
		if _, err := f.s.Import(f.ctx, in); notify.ErrorCode(err) != notify.CodeInvalid {
			t.Errorf("Import(%+v) = %v, want CodeInvalid", in, err)
		}
	}
}

// Concurrent imports of overlapping ImportIDs, and publishes, keep every
// id imported once and the positions and counts exact.
func testImportConcurrent(t *testing.T, f *fixture) {
	const workers, ids = 8, 40
	at := now().Add(-time.Hour)
	results := make([]notify.ImportOutput, workers)
	if err := parallel(workers, func(w int) error {
		var ns []notify.ImportedNotification
		for i := range ids {
			if (i+w)%2 == 0 {
				ns = append(ns, f.imported(fmt.Sprintf("u%d", i%3), fmt.Sprintf("id-%d", i), at, nil))
			}
		}
		out, err := f.s.Import(f.ctx, notify.ImportInput{Notifications: ns})
		results[w] = out
		if err != nil {
			return err
		}
		_, err = f.s.Publish(f.ctx, notify.PublishInput{Notifications: []notify.Notification{f.note("u0", now())}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	imported := 0
	for _, r := range results {
		imported += r.Imported
		if r.Imported+r.Skipped != ids/2 {
			t.Errorf("an import counted %d + %d of %d", r.Imported, r.Skipped, ids/2)
		}
	}
	if imported != ids {
		t.Fatalf("%d notifications imported in all, want %d (each id once)", imported, ids)
	}
	total := 0
	for u := range 3 {
		user := fmt.Sprintf("u%d", u)
		f.check("after concurrent imports", f.follow(user))
		n := len(f.inbox(user, false))
		total += n
		evs := f.events(user, notify.Position{})
		seqs := 0
		for _, e := range evs {
			if e.UserID == user {
				seqs++
				if e.Seq != int64(seqs) {
					t.Fatalf("%s's positions are not 1, 2, 3, …: %d at %d", user, e.Seq, seqs)
				}
			}
		}
		if int64(seqs) != f.head(user).User || seqs != n {
			t.Errorf("%s: %d events, head %d, %d notifications", user, seqs, f.head(user).User, n)
		}
	}
	if total != ids+workers {
		t.Errorf("%d notifications in all inboxes, want %d", total, ids+workers)
	}
}
