// Package sqlite is the embedded notify.Store: one database file, written by
// a single group-committing writer goroutine and read through a separate pool
// of read-only connections (WAL mode, so reads never wait for the writer).
//
// Durability: with Synchronous "FULL" (the default) every method that returns
// nil has been fsync'd, so an acknowledged publish survives kill -9 and power
// loss. Concurrent writes share one transaction and one fsync (group commit);
// a failing request never affects another (the batch is rerun with each
// request in its own savepoint). WAL checkpoints run in the background, off
// the commit path (checkpoint.go).
//
// Contexts: a write's ctx is honoured until the writer takes the request
// into a batch; a caller whose ctx ends first gets ctx.Err() and its work is
// skipped. Once its work has run, the answer is the batch's outcome whatever
// ctx does meanwhile, so a nil error always means committed and an error
// means nothing of the call was kept (except for Prune, which commits
// batch by batch). Reads are bounded by ctx throughout.
//
// Several processes may open the same file; SQLite's write lock serialises
// their transactions and stream positions stay gap-free.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-notify/herald/internal/notify"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ notify.Store = (*Store)(nil)

// Defaults of Options.
const (
	DefaultSynchronous = "FULL"
	DefaultMaxBatch    = 256
	busyTimeout        = 5 * time.Second
)

// Options tunes a Store. The zero value is valid: every field has a default.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: "FULL" (default) fsyncs
	// every commit; "NORMAL" may lose the last commits on power loss (not
	// on a process crash) in exchange for fewer fsyncs.
	Synchronous string
	// MaxBatch caps how many write requests share one transaction (default 256).
	MaxBatch int
	// Logger receives failures that no caller sees in full (default: discard).
	Logger *slog.Logger
	// Now is the clock for the times the store stamps itself: event times,
	// read times, idempotency windows, expiry (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Synchronous == "" {
		o.Synchronous = DefaultSynchronous
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Store is a notify.Store on a SQLite file. Safe for concurrent use. After
// Close every method returns an error of notify.CodeUnavailable.
type Store struct {
	read   *sql.DB // query_only pool
	write  *sql.DB // one connection, owned by w
	ckdb   *sql.DB // one connection, owned by ck
	w      *writer
	ck     *checkpointer
	epoch  string
	now    func() time.Time
	log    *slog.Logger
	closed atomic.Bool
	once   sync.Once
	rq     readQueries
}

// Open opens (creating if needed) the database file at path, applies pending
// migrations and starts the writer. path is a file name; ":memory:" is not
// supported, since readers and the writer use separate connections.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	switch strings.ToUpper(opts.Synchronous) {
	case "FULL", "NORMAL":
	default:
		return nil, fmt.Errorf("open store: synchronous must be FULL or NORMAL, not %q", opts.Synchronous)
	}
	write, err := openDB(path, opts, false)
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := migrateRetrying(ctx, write, opts.Now); err != nil {
		return nil, errors.Join(fmt.Errorf("open store: %w", err), write.Close())
	}
	read, err := openDB(path, opts, true)
	if err != nil {
		return nil, errors.Join(err, write.Close())
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	ckdb, err := openDB(path, opts, false)
	if err != nil {
		return nil, errors.Join(err, read.Close(), write.Close())
	}
	ckdb.SetMaxOpenConns(1)
	ckdb.SetMaxIdleConns(1)
	ckdb.SetConnMaxLifetime(0)
	ckdb.SetConnMaxIdleTime(0)
	s := &Store{read: read, write: write, ckdb: ckdb, now: opts.Now, log: opts.Logger}
	fail := func(err error) (*Store, error) {
		return nil, errors.Join(fmt.Errorf("open store: %w", err), read.Close(), write.Close(), ckdb.Close())
	}
	if s.epoch, err = readEpoch(ctx, read); err != nil {
		return fail(err)
	}
	if err := s.rq.prepare(ctx, read); err != nil {
		return fail(err)
	}
	ckconn, err := ckdb.Conn(ctx)
	if err != nil {
		return fail(mapErr("checkpoint connection", err))
	}
	conn, err := write.Conn(ctx)
	if err != nil {
		return fail(errors.Join(mapErr("write connection", err), ckconn.Close()))
	}
	s.ck = startCheckpointer(ckconn, checkpointInterval, restartFrames, opts.Logger)
	s.w = startWriter(conn, opts.MaxBatch, opts.Logger, s.ck)
	return s, nil
}

// openDB returns a pool on path with Herald's pragmas.
func openDB(path string, opts Options, readOnly bool) (*sql.DB, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open store: path %q must be a plain file name", path)
	}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", strings.ToUpper(opts.Synchronous))
	q.Set("_foreign_keys", "1")
	// Savepoints (one per request in a group commit) spill changed pages to
	// a sub-journal; in memory that costs no write system calls.
	q.Add("_pragma", "temp_store(MEMORY)")
	// 32 MiB of page cache per connection keeps the hot index pages of a
	// busy inbox table from being re-read on every transaction.
	q.Add("_pragma", "cache_size(-32768)")
	// No checkpoints inside commits: a checkpointer runs them in the
	// background (see checkpoint.go). journal_size_limit truncates the WAL
	// file back when it is rewound.
	q.Add("_pragma", "wal_autocheckpoint(0)")
	q.Add("_pragma", "journal_size_limit(67108864)")
	if readOnly {
		q.Set("_query_only", "1")
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return db, nil
}

// Epoch returns the epoch created with the database.
func (s *Store) Epoch() string { return s.epoch }

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return errClosed
	}
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return mapErr("ping", err)
	}
	return nil
}

// Close stops the writer after the batch it is running, fails requests not
// yet taken, and closes every connection. It is safe to call more than once.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		s.closed.Store(true)
		s.ck.stop()
		s.w.stop()
		s.rq.close()
		err = errors.Join(s.read.Close(), s.write.Close(), s.ckdb.Close())
	})
	return err
}

// errClosed is returned by every method after Close.
var errClosed = notify.Errorf(notify.CodeUnavailable, "store closed")

// mapErr wraps err with op; SQLite busy/locked conditions and a closed pool
// become notify.CodeUnavailable (the message names no SQL), domain errors
// pass through wrapped, anything else stays internal.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ne *notify.Error
	if errors.As(err, &ne) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%s: %w: %w", op, notify.Errorf(notify.CodeUnavailable, "database busy"), err)
		}
	}
	if errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "database is closed") {
		return fmt.Errorf("%s: %w: %w", op, errClosed, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// micros converts t to the stored form.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts a stored time back, in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// migrateRetrying runs migrate, trying again for a few seconds while the
// file is busy: two processes opening a new file at once race to switch it
// to WAL, and SQLite answers the loser SQLITE_BUSY at once, without its
// busy handler, to avoid a deadlock. Only start-up takes this path.
func migrateRetrying(ctx context.Context, db *sql.DB, now func() time.Time) error {
	deadline := time.Now().Add(busyTimeout)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := migrate(ctx, db, now)
		if err == nil || notify.ErrorCode(err) != notify.CodeUnavailable || errors.Is(err, errClosed) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}
