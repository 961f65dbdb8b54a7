package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// openTemp opens a store on a new file and closes it at cleanup.
func openTemp(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"), opts)
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
	storetest.Run(t, func(t *testing.T) notify.Store { return openTemp(t, Options{}) })
}

func TestContractNormalSmallBatches(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) notify.Store {
		return openTemp(t, Options{Synchronous: "NORMAL", MaxBatch: 2})
	})
}

func TestReopenKeepsEpochAndData(t *testing.T) {
	t.Parallel()
	storetest.RunReopen(t, func(t *testing.T, dir string) notify.Store {
		s, err := Open(t.Context(), filepath.Join(dir, "herald.db"), Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "herald.db")
	ctx := t.Context()
	for range 3 {
		if err := Migrate(ctx, path); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open after Migrate: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	var versions int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&versions); err != nil {
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

// Two stores on one file (two processes, in effect) migrate concurrently,
// share the epoch, and keep each stream gap-free between them.
func TestTwoOpensShareOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "herald.db")
	ctx := t.Context()
	var (
		stores [2]*Store
		errs   [2]error
		wg     sync.WaitGroup
	)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, path, Options{}) })
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
	const each = 40
	for i := range stores {
		wg.Go(func() {
			for range each {
				n := notify.Notification{ID: ids.New(time.Now()), UserID: "u1", Type: "t", Title: "x", CreatedAt: time.Now()}
				if _, err := stores[i].Publish(ctx, notify.PublishInput{Notifications: []notify.Notification{n}}); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	page, err := stores[1].ReadEvents(ctx, "u1", notify.Position{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	evs := page.Events
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
	if len(evs) != 2*each {
		t.Fatalf("%d events, want %d", len(evs), 2*each)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		path string
		opts Options
	}{
		{filepath.Join(dir, "a.db"), Options{Synchronous: "OFF"}},
		{":memory:", Options{}},
		{filepath.Join(dir, "b.db?_pragma=x"), Options{}},
	} {
		if s, err := Open(t.Context(), tc.path, tc.opts); err == nil {
			t.Errorf("Open(%q, %+v) succeeded, want an error", tc.path, tc.opts)
			_ = s.Close() // the test has failed already; only the resources matter
		}
	}
}
