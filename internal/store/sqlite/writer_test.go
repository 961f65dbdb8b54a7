package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// batchRig is a writer whose loop is not running, so a test can hand it an
// exact batch.
type batchRig struct {
	w    *writer
	db   *sql.DB
	read func(hash string) bool
}

func newBatchRig(t *testing.T) *batchRig {
	t.Helper()
	ctx := t.Context()
	db, err := openDB(filepath.Join(t.TempDir(), "herald.db"), Options{}.withDefaults(), false)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(2)
	if err := migrate(ctx, db, time.Now); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(conn, DefaultMaxBatch, slog.New(slog.DiscardHandler))
	close(w.stopped) // the loop never runs; stop only closes statements
	t.Cleanup(func() {
		w.stop()
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &batchRig{w: w, db: db, read: func(hash string) bool {
		var n int
		if err := db.QueryRowContext(context.Background(),
			"SELECT count(*) FROM tickets WHERE hash = ?", hash).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}}
}

func insertTicket(hash string) func(tx *wtx) error {
	return func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO tickets(hash, user_id, token_expiry, expires_at) VALUES (?, 'u', 0, 0)`, hash)
		return err
	}
}

func newRequest(ctx context.Context, fn func(tx *wtx) error) *request {
	return &request{ctx: ctx, fn: fn, done: make(chan error, 1)}
}

// A failing (or panicking) request is rolled back to its savepoint and
// answered with its own error; the others in its batch commit; a request
// whose ctx ended before it ran is skipped with ctx.Err().
func TestBatchAnswersEachCallerWithItsOwnError(t *testing.T) {
	t.Parallel()
	rig := newBatchRig(t)
	ctx := t.Context()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	dupErr := errors.New("not reached")
	batch := []*request{
		newRequest(ctx, insertTicket("a")),
		newRequest(ctx, func(tx *wtx) error {
			if err := insertTicket("partial")(tx); err != nil {
				return err
			}
			if err := insertTicket("a")(tx); err != nil { // primary key conflict
				return err
			}
			return dupErr
		}),
		newRequest(cancelled, insertTicket("skipped")),
		newRequest(ctx, func(tx *wtx) error {
			if err := insertTicket("before-panic")(tx); err != nil {
				return err
			}
			panic("bug")
		}),
		newRequest(ctx, insertTicket("b")),
	}
	rig.w.run(batch)
	answers := make([]error, len(batch))
	for i, r := range batch {
		answers[i] = <-r.done
	}
	if answers[0] != nil || answers[4] != nil {
		t.Fatalf("healthy requests answered %v and %v, want nil", answers[0], answers[4])
	}
	if answers[3] == nil {
		t.Fatal("panicking request answered nil")
	}
	if answers[1] == nil || errors.Is(answers[1], dupErr) {
		t.Fatalf("conflicting request answered %v, want its constraint error", answers[1])
	}
	if !errors.Is(answers[2], context.Canceled) {
		t.Fatalf("cancelled request answered %v, want context.Canceled", answers[2])
	}
	for hash, want := range map[string]bool{"a": true, "b": true, "partial": false, "skipped": false, "before-panic": false} {
		if got := rig.read(hash); got != want {
			t.Errorf("ticket %q stored = %v, want %v", hash, got, want)
		}
	}
	if n := rig.w.reruns.Load(); n != 1 {
		t.Errorf("batch with failing requests ran with savepoints %d times, want 1", n)
	}
}

// A batch in which nothing fails runs once, without savepoints, and commits
// every request.
func TestHealthyBatchRunsOnce(t *testing.T) {
	t.Parallel()
	rig := newBatchRig(t)
	if !rig.w.hooked {
		t.Fatal("no rollback hook on the write connection")
	}
	ctx := t.Context()
	batch := []*request{newRequest(ctx, insertTicket("a")), newRequest(ctx, insertTicket("b"))}
	rig.w.run(batch)
	for i, r := range batch {
		if err := <-r.done; err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if !rig.read("a") || !rig.read("b") {
		t.Fatal("healthy batch not stored")
	}
	if n := rig.w.reruns.Load(); n != 0 {
		t.Fatalf("healthy batch rerun %d times", n)
	}
}

// When the transaction itself is lost, no request of the batch may report
// success, and nothing of the batch is kept.
func TestBatchFailsWholeWhenTransactionIsLost(t *testing.T) {
	t.Parallel()
	rig := newBatchRig(t)
	ctx := t.Context()
	batch := []*request{
		newRequest(ctx, insertTicket("a")),
		newRequest(ctx, func(tx *wtx) error {
			_, err := tx.conn.ExecContext(context.Background(), "ROLLBACK") // rogue: ends the transaction
			return err
		}),
		newRequest(ctx, insertTicket("b")),
	}
	rig.w.run(batch)
	for i, r := range batch {
		if err := <-r.done; err == nil {
			t.Errorf("request %d answered nil after its transaction was lost", i)
		}
	}
	if rig.read("a") || rig.read("b") {
		t.Fatal("work of a failed batch was kept")
	}
	// The writer is usable afterwards.
	r := newRequest(ctx, insertTicket("c"))
	rig.w.run([]*request{r})
	if err := <-r.done; err != nil || !rig.read("c") {
		t.Fatalf("next batch: %v", err)
	}
}

// Close with many callers in flight: every call returns, with success or
// CodeUnavailable, and no goroutine is left behind (goleak in TestMain).
func TestCloseWithCallersInFlight(t *testing.T) {
	t.Parallel()
	s := openTemp(t, Options{})
	var (
		wg       sync.WaitGroup
		ids      notify.IDGen
		ok, fail atomic.Int64
		start    = make(chan struct{})
	)
	for range 32 {
		wg.Go(func() {
			<-start
			for range 20 {
				n := notify.Notification{ID: ids.New(time.Now()), UserID: "u1", Type: "t", Title: "x", CreatedAt: time.Now()}
				_, err := s.Publish(context.Background(), notify.PublishInput{Notifications: []notify.Notification{n}})
				switch {
				case err == nil:
					ok.Add(1)
				case notify.ErrorCode(err) == notify.CodeUnavailable:
					fail.Add(1)
				default:
					t.Errorf("Publish during Close: %v, want success or unavailable", err)
				}
			}
		})
	}
	close(start)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if ok.Load()+fail.Load() != 32*20 {
		t.Fatalf("%d answered, want %d", ok.Load()+fail.Load(), 32*20)
	}
}

// fakeClock is a settable Options.Now.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

// An idempotency key is honoured for IdempotencyWindow, then replaced; Prune
// forgets keys older than the window.
func TestIdempotencyWindow(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openTemp(t, Options{Now: clock.now})
	ctx := t.Context()
	var ids notify.IDGen
	pub := func() notify.PublishOutput {
		t.Helper()
		n := notify.Notification{ID: ids.New(clock.now()), UserID: "u1", Type: "t", Title: "x", CreatedAt: clock.now()}
		out, err := s.Publish(ctx, notify.PublishInput{Notifications: []notify.Notification{n}, IdempotencyKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := pub()
	clock.advance(notify.IdempotencyWindow - time.Second)
	if out := pub(); !out.Duplicate || out.Receipts[0] != first.Receipts[0] {
		t.Fatalf("within the window: %+v, want a duplicate of %+v", out, first.Receipts)
	}
	clock.advance(time.Second)
	second := pub()
	if second.Duplicate {
		t.Fatal("at the end of the window the key still deduplicates")
	}
	if out := pub(); !out.Duplicate || out.Receipts[0] != second.Receipts[0] {
		t.Fatalf("after replacement: %+v, want a duplicate of %+v", out, second.Receipts)
	}
	clock.advance(notify.IdempotencyWindow)
	n, err := s.Prune(ctx, clock.now().Add(-1000*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Prune = (%d, %v), want the one expired key", n, err)
	}
}

// Events the store stamps itself carry Options.Now at microsecond precision.
func TestEventTimesUseTheClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	clock.advance(1234567 * time.Nanosecond)
	s := openTemp(t, Options{Now: clock.now})
	ctx := t.Context()
	n := notify.Notification{ID: "01jz0000000000000000000000", UserID: "u1", Type: "t", Title: "x", CreatedAt: clock.now()}
	if _, err := s.Publish(ctx, notify.PublishInput{Notifications: []notify.Notification{n}}); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Minute)
	ev, err := s.MarkRead(ctx, "u1", n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.now().UTC().Truncate(time.Microsecond); !ev.CreatedAt.Equal(want) {
		t.Fatalf("read event at %v, want %v", ev.CreatedAt, want)
	}
	page, err := s.List(ctx, "u1", notify.ListQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := page.Notifications[0].ReadAt; got == nil || !got.Equal(ev.CreatedAt) {
		t.Fatalf("readAt = %v, want %v", got, ev.CreatedAt)
	}
}
