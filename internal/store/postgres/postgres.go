package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-notify/herald/internal/notify"
)

var _ notify.Store = (*Store)(nil)

// Defaults of Options.
const (
	DefaultMaxConns       = 10
	DefaultWriters        = 2
	DefaultMaxBatch       = 256
	DefaultWriteTimeout   = 10 * time.Second
	DefaultConnectTimeout = 5 * time.Second
)

// Options tunes a Store. The zero value is valid: every field has a default.
type Options struct {
	// MaxConns caps the connection pool (default 10); the writers use
	// Writers of them at a time, reads the rest.
	MaxConns int32
	// Writers is how many group-commit transactions may be in flight at
	// once (default 2): while one waits for its commit, the next batch is
	// already running.
	Writers int
	// MaxBatch caps how many write requests share one transaction (default 256).
	MaxBatch int
	// WriteTimeout bounds one batch on the server (default 10s), so that
	// a database that stops answering fails writes instead of hanging them.
	WriteTimeout time.Duration
	// Logger receives failures that no caller sees in full (default: discard).
	Logger *slog.Logger
	// Now is the clock for the times the store stamps itself: event times,
	// read times, idempotency windows, expiry (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.Writers <= 0 {
		o.Writers = DefaultWriters
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Store is a notify.Store on a PostgreSQL database. Safe for concurrent use.
// After Close every method returns an error of notify.CodeUnavailable.
type Store struct {
	pool   *pgxpool.Pool
	w      *writer
	epoch  string
	now    func() time.Time
	closed atomic.Bool
	once   sync.Once
}

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string), applies pending migrations and starts the writers.
// It fails, naming the cause, when the database cannot be reached.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	pool, err := newPool(ctx, url, opts.MaxConns)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Store, error) {
		pool.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := migrate(ctx, pool, opts.Now); err != nil {
		return fail(err)
	}
	s := &Store{pool: pool, now: opts.Now}
	if s.epoch, err = readEpoch(ctx, pool); err != nil {
		return fail(err)
	}
	s.w = startWriter(pool, opts)
	return s, nil
}

// newPool returns a pool on url with Herald's session settings. It does not
// connect; the first use does.
func newPool(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message redacts the password.
		return nil, fmt.Errorf("open store: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	rp := cfg.ConnConfig.RuntimeParams
	if rp["application_name"] == "" {
		rp["application_name"] = "herald"
	}
	// The contract: nil means durable. Never inherit a server default of off.
	rp["synchronous_commit"] = "on"
	cfg.MaxConns = maxConns
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 15 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return pool, nil
}

// Epoch returns the epoch created with the database.
func (s *Store) Epoch() string { return s.epoch }

// Ping reports whether the database answers on a pooled connection.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return errClosed
	}
	return mapErr("ping", s.pool.Ping(ctx))
}

// Close stops the writers after the batches they are running, fails
// requests not yet taken, and closes the pool. Safe to call more than once.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		s.w.stop()
		s.pool.Close()
	})
	return nil
}

// errClosed is returned by every method after Close.
var errClosed = notify.Errorf(notify.CodeUnavailable, "store closed")

// errUnavailable is the caller-safe face of a database that cannot be
// reached or is refusing work for now.
var errUnavailable = notify.Errorf(notify.CodeUnavailable, "database unavailable")

// mapErr wraps err with op. Lost or refused connections, shutdowns,
// deadlocks, serialization failures and deadlines (the caller's, or a
// batch's WriteTimeout: the database is too slow) become
// notify.CodeUnavailable (the message names no SQL); domain errors and
// cancellation pass through wrapped; anything else stays internal.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return fmt.Errorf("%s: %w: %w", op, errUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// unavailable reports whether err means the database cannot serve now
// (rather than a bug or bad input).
func unavailable(err error) bool {
	var ne *notify.Error
	if errors.As(err, &ne) || errors.Is(err, context.Canceled) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch sqlClass(pe) {
		case "08", // connection exception
			"53", // insufficient resources (too many connections, disk full)
			"57", // operator intervention: shutdown, terminated backend, starting up
			"40": // serialization failure, deadlock (after the writer's retries)
			return true
		}
		return pe.Code == "55P03" // lock not available
	}
	var (
		ce   *pgconn.ConnectError
		nerr net.Error
	)
	return errors.As(err, &ce) || errors.As(err, &nerr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, context.DeadlineExceeded) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) || err.Error() == "closed pool"
}

// sqlClass returns the class (first two characters) of pe's SQLSTATE.
func sqlClass(pe *pgconn.PgError) string {
	if len(pe.Code) < 2 {
		return ""
	}
	return pe.Code[:2]
}
