package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/testenv"
)

func ticketRequest(ctx context.Context, hash string) *request {
	return &request{
		ctx:  ctx,
		sql:  `INSERT INTO tickets(hash, user_id, token_expiry, expires_at) VALUES ($1, 'u', now(), now())`,
		args: []any{hash},
		scan: func(pgx.Rows) error { return nil },
		done: make(chan error, 1),
	}
}

func ticketExists(t *testing.T, s *Store, hash string) bool {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(t.Context(), "SELECT count(*) FROM tickets WHERE hash = $1", hash).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// A request whose statement fails is answered with its own error and the
// others of its batch commit; a request whose ctx ended before its batch
// ran is answered with ctx.Err() and not run.
func TestBatchAnswersEachCallerWithItsOwnError(t *testing.T) {
	t.Parallel()
	s := openFresh(t, Options{})
	ctx := t.Context()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	bad := &request{ctx: ctx, sql: "SELECT 1/0", scan: func(pgx.Rows) error { return nil }, done: make(chan error, 1)}
	badScan := ticketRequest(ctx, "scan-fails")
	badScan.scan = func(pgx.Rows) error { return errors.New("cannot decode") }
	batch := []*request{
		ticketRequest(ctx, "a"), bad, ticketRequest(ctx, "b"), badScan,
		ticketRequest(cancelled, "skipped"), ticketRequest(ctx, "a"), // duplicate key: fails alone
		ticketRequest(ctx, "c"),
	}
	s.w.run(batch)
	want := map[int]bool{0: true, 2: true, 6: true}
	for i, r := range batch {
		err := <-r.done
		if want[i] != (err == nil) {
			t.Errorf("request %d: err = %v, want success %v", i, err, want[i])
		}
	}
	for _, h := range []string{"a", "b", "c"} {
		if !ticketExists(t, s, h) {
			t.Errorf("ticket %q not committed", h)
		}
	}
	for _, h := range []string{"scan-fails", "skipped"} {
		if ticketExists(t, s, h) {
			t.Errorf("ticket %q committed, want its request undone", h)
		}
	}
}

// Concurrent publishes share transactions: more requests than commits.
func TestConcurrentPublishesShareCommits(t *testing.T) {
	t.Parallel()
	s := openFresh(t, Options{Writers: 1})
	var ids notify.IDGen
	errs := make(chan error, 64)
	for range 64 {
		go func() {
			at := time.Now().UTC().Truncate(time.Microsecond)
			_, err := s.Publish(t.Context(), notify.PublishInput{Notifications: []notify.Notification{
				{ID: ids.New(at), UserID: "u", Type: "t", Title: "x", CreatedAt: at}}})
			errs <- err
		}()
	}
	for range 64 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if c, n := s.w.commits.Load(), s.w.committed.Load(); n != 64 || c >= n {
		t.Fatalf("%d requests in %d commits, want 64 in fewer", n, c)
	}
}

// Losing the database makes every method fail with CodeUnavailable (never a
// false success) and Ping fail; when it comes back the same store works.
func TestLostDatabaseIsUnavailableThenRecovers(t *testing.T) {
	t.Parallel()
	proxy, url := testenv.PostgresProxy(t, testenv.Postgres(t))
	s := openURL(t, url, Options{WriteTimeout: 3 * time.Second})
	ctx := t.Context()
	var ids notify.IDGen
	publish := func() error {
		at := time.Now().UTC().Truncate(time.Microsecond)
		_, err := s.Publish(ctx, notify.PublishInput{Notifications: []notify.Notification{
			{ID: ids.New(at), UserID: "u", Type: "t", Title: "x", CreatedAt: at}}})
		return err
	}
	if err := publish(); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	checks := map[string]func() error{
		"Publish":     publish,
		"Ping":        func() error { return s.Ping(ctx) },
		"UnreadCount": func() error { _, err := s.UnreadCount(ctx, "u"); return err },
		"ReadEvents":  func() error { _, err := s.ReadEvents(ctx, "u", notify.Position{}, 10); return err },
		"MarkAllRead": func() error { _, _, err := s.MarkAllRead(ctx, "u"); return err },
	}
	for name, call := range checks {
		err := call()
		if notify.ErrorCode(err) != notify.CodeUnavailable {
			t.Errorf("%s with the database cut: %v, want CodeUnavailable", name, err)
		}
	}
	proxy.Restore()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after restore: %v", err)
	}
	if err := publish(); err != nil {
		t.Fatalf("Publish after restore: %v", err)
	}
	page, err := s.ReadEvents(ctx, "u", notify.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	evs := page.Events
	if len(evs) != 2 || evs[1].Seq != 2 {
		t.Fatalf("events after restore = %s, want seq 1 and 2", fmt.Sprint(evs))
	}
}

// A backend terminated by an operator (pg_terminate_backend) fails only the
// calls in flight on it; the pool reconnects.
func TestTerminatedBackendsRecover(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	s := openURL(t, url, Options{})
	ctx := t.Context()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	admin := openURL(t, url, Options{MaxConns: 1})
	if _, err := admin.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	// The idle connection the pool holds is dead: the first call may fail,
	// as unavailable, and a later one succeeds.
	var err error
	for range 3 {
		if err = s.Ping(ctx); err == nil {
			break
		}
		if notify.ErrorCode(err) != notify.CodeUnavailable {
			t.Fatalf("Ping on a terminated backend: %v, want CodeUnavailable", err)
		}
	}
	if err != nil {
		t.Fatalf("Ping did not recover: %v", err)
	}
}
