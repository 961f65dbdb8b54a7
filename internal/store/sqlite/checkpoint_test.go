package sqlite

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// With checkpoints off the commit path, the WAL still does not grow without
// bound: the checkpointer copies it in the background and, once it is longer
// than restartAt, the writer rewinds it between two batches.
func TestCheckpointerRewindsTheWAL(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "herald.db")
	opts := Options{}.withDefaults()
	db, err := openDB(path, opts, false)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	db.SetMaxOpenConns(3)
	if err := migrate(ctx, db, time.Now); err != nil {
		t.Fatal(err)
	}
	ckconn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wconn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const restartAt = 50
	log := slog.New(slog.DiscardHandler)
	ck := startCheckpointer(ckconn, time.Millisecond, restartAt, log)
	w := startWriter(wconn, DefaultMaxBatch, log, ck)
	defer func() {
		ck.stop()
		w.stop()
	}()
	frames := func() int64 {
		var busy, n, done int64
		if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &n, &done); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Write until the writer has rewound the WAL at least once (each write
	// adds frames, so without rewinding the WAL only grows).
	deadline, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for i := 0; ck.restarts.Load() == 0; i++ {
		if err := deadline.Err(); err != nil {
			t.Fatalf("no RESTART checkpoint after %d writes (%d passive)", i, ck.passives.Load())
		}
		if err := w.do(ctx, insertTicket("t"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if ck.passives.Load() == 0 {
		t.Fatal("restart without any passive checkpoint")
	}
	// The next transaction writes the WAL from its start.
	if err := w.do(ctx, insertTicket("after")); err != nil {
		t.Fatal(err)
	}
	if n := frames(); n >= restartAt {
		t.Fatalf("WAL has %d frames after a restart, want fewer than %d", n, restartAt)
	}
	// Nothing was lost on the way.
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM tickets").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("%d tickets stored", n)
	}
}
