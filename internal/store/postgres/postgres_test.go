package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/store/storetest"
	"github.com/herald-notify/herald/internal/testenv"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// openFresh opens a store on a new database and closes it at cleanup.
func openFresh(t testing.TB, opts Options) *Store {
	t.Helper()
	return openURL(t, testenv.Postgres(t), opts)
}

func openURL(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	if opts.MaxConns == 0 {
		opts.MaxConns = 4 // many tests run at once on one server
	}
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) notify.Store { return openFresh(t, Options{}) })
}

// One writer and batches of two exercise the retry-without-the-bad-request
// path and batch boundaries under the same suite.
func TestContractOneWriterSmallBatches(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) notify.Store {
		return openFresh(t, Options{Writers: 1, MaxBatch: 2})
	})
}

func TestReopenKeepsEpochAndData(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	storetest.RunReopen(t, func(t *testing.T, dir string) notify.Store {
		s, err := Open(t.Context(), url, Options{MaxConns: 4})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	ctx := t.Context()
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = Migrate(ctx, url) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Migrate: %v", err)
	}
	if err := Migrate(ctx, url); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	s := openURL(t, url, Options{})
	var versions int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if versions != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", versions, len(ms))
	}
}

// Two stores on one database (two instances, in effect) open concurrently,
// share the epoch, and keep each stream gap-free between them.
func TestTwoStoresShareOneDatabase(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	ctx := t.Context()
	var (
		stores [2]*Store
		errs   [2]error
		wg     sync.WaitGroup
	)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, url, Options{MaxConns: 4}) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		defer func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close %d: %v", i, err)
			}
		}()
	}
	if stores[0].Epoch() != stores[1].Epoch() {
		t.Fatalf("epochs differ: %q and %q", stores[0].Epoch(), stores[1].Epoch())
	}
	var ids notify.IDGen
	const each = 100
	for i := range stores {
		for range 4 {
			wg.Go(func() {
				for range each / 4 {
					at := time.Now().UTC().Truncate(time.Microsecond)
					// Alternate two users in one request so that batches
					// of both stores lock overlapping streams.
					ns := []notify.Notification{
						{ID: ids.New(at), UserID: "u1", Type: "t", Title: "x", CreatedAt: at},
						{ID: ids.New(at), UserID: "u2", Type: "t", Title: "x", CreatedAt: at},
					}
					if i == 1 {
						ns[0].UserID, ns[1].UserID = "u2", "u1"
					}
					if _, err := stores[i].Publish(ctx, notify.PublishInput{Notifications: ns}); err != nil {
						errs[i] = err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"u1", "u2"} {
		page, err := stores[1].ReadEvents(ctx, u, notify.Position{}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		evs := page.Events
		for i, e := range evs {
			if e.Seq != int64(i+1) {
				t.Fatalf("%s: event %d has seq %d", u, i, e.Seq)
			}
		}
		if len(evs) != 2*each {
			t.Fatalf("%s: %d events, want %d", u, len(evs), 2*each)
		}
	}
}

func TestOpenUnreachableFailsFast(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := Open(t.Context(), "postgres://postgres@127.0.0.1:1/x?sslmode=disable", Options{})
	if err == nil {
		t.Fatal("Open on a closed port succeeded")
	}
	if notify.ErrorCode(err) != notify.CodeUnavailable {
		t.Fatalf("Open on a closed port: %v, want CodeUnavailable", err)
	}
	t.Logf("failed after %v: %v", time.Since(start), err)
}
