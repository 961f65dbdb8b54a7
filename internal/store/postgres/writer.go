package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxAttempts bounds how often a batch is sent again after a deadlock or
// serialization failure (which cannot happen between Herald writers, whose
// lock order is fixed, but can with other sessions or an operator).
const maxAttempts = 3

// writer runs every write through group commit (see the package doc). Its
// loops share one request channel: a loop takes one request, drains what
// else is waiting, and sends the batch; under load, the other loops build
// the next batches meanwhile.
type writer struct {
	pool     *pgxpool.Pool
	maxBatch int
	timeout  time.Duration
	log      *slog.Logger
	reqs     chan *request // unbuffered: a request is taken only by a loop
	quit     chan struct{}
	wg       sync.WaitGroup

	// Counters for tests and benchmarks: committed transactions and the
	// requests they carried.
	commits, committed atomic.Int64
}

// request is one caller's unit of work: one statement, run after the batch
// has locked streams. scan reads the statement's rows into variables of the
// caller, which reads them only after done delivers nil; scan's error (a
// decoding failure) fails the request like a statement error.
type request struct {
	ctx     context.Context
	streams []string
	sql     string
	args    []any
	scan    func(pgx.Rows) error
	done    chan error // buffered 1
}

// startWriter starts opts.Writers loops on pool.
func startWriter(pool *pgxpool.Pool, opts Options) *writer {
	w := &writer{
		pool:     pool,
		maxBatch: opts.MaxBatch,
		timeout:  opts.WriteTimeout,
		log:      opts.Logger,
		reqs:     make(chan *request),
		quit:     make(chan struct{}),
	}
	for range opts.Writers {
		w.wg.Go(w.loop)
	}
	return w
}

// do runs the request's statement in a group-committed transaction and
// returns when it is committed.
//
// ctx is honoured until a loop takes the request: a caller whose ctx ends
// first gets ctx.Err() and nothing runs. Once taken, the answer is the
// batch's outcome whatever ctx does meanwhile, so that a nil error always
// means committed. After stop, do returns errClosed.
func (w *writer) do(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.ctx, r.done = ctx, make(chan error, 1)
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.quit:
		return errClosed
	}
	return <-r.done
}

// stop makes the loops finish their current batch and exit. Requests not
// yet taken fail with errClosed.
func (w *writer) stop() {
	close(w.quit)
	w.wg.Wait()
}

func (w *writer) loop() {
	batch := make([]*request, 0, w.maxBatch)
	for {
		select {
		case <-w.quit:
			return
		case r := <-w.reqs:
			batch = append(batch[:0], r)
		}
	drain:
		for len(batch) < w.maxBatch {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		w.run(batch)
		clear(batch) // drop references to finished requests
	}
}

// run commits batch and answers every request in it. A request whose
// statement fails is answered with its error and the rest are sent again;
// a deadlock or serialization failure sends the batch again as it was; any
// other failure (a lost connection, a failed commit) is every request's.
// SQL runs without the callers' contexts: one caller's cancellation must
// not abort a transaction that carries other callers' work.
func (w *writer) run(batch []*request) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	for attempt := 1; len(live) > 0; {
		bad, err := w.send(live)
		switch {
		case err == nil:
			w.commits.Add(1)
			w.committed.Add(int64(len(live)))
			for _, r := range live {
				r.done <- nil
			}
			return
		case bad >= 0:
			live[bad].done <- mapErr("write", err)
			live = slices.Delete(live, bad, bad+1)
		case retryable(err) && attempt < maxAttempts:
			attempt++
			w.log.Debug("postgres store: batch retried", "requests", len(live), "err", err)
		default:
			w.log.Warn("postgres store: batch failed", "requests", len(live), "err", err)
			for _, r := range live {
				r.done <- mapErr("write", err)
			}
			return
		}
	}
}

// send runs batch in one transaction and one round trip. On failure it
// returns the index of the request whose statement failed (-1 when the
// failure is the transaction's) and the error; nothing was committed unless
// the error is a lost connection during COMMIT, which callers cannot tell
// from a failure (see the package doc).
func (w *writer) send(batch []*request) (bad int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return -1, err
	}
	defer conn.Release()

	var streams []string
	for _, r := range batch {
		streams = append(streams, r.streams...)
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	if len(streams) > 0 {
		b.Queue("SELECT herald_lock_streams($1)", streams)
	}
	for _, r := range batch {
		b.Queue(r.sql, r.args...)
	}
	b.Queue("COMMIT")

	bad, err = readBatch(conn.SendBatch(ctx, b), batch, len(streams) > 0)
	if err != nil && conn.Conn().PgConn().TxStatus() != 'I' {
		// Leave the connection idle for the next user, or let the pool
		// drop it if even that fails.
		if _, rerr := conn.Exec(ctx, "ROLLBACK"); rerr != nil {
			_ = conn.Conn().Close(ctx) // broken: the pool discards it on release
		}
	}
	return bad, err
}

// readBatch reads the results of a batch queued by send, in order, and
// closes br.
func readBatch(br pgx.BatchResults, batch []*request, locked bool) (bad int, err error) {
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			bad, err = -1, cerr
		}
	}()
	if _, err := br.Exec(); err != nil {
		return -1, fmt.Errorf("begin: %w", err)
	}
	if locked {
		if _, err := br.Exec(); err != nil {
			return -1, fmt.Errorf("lock streams: %w", err)
		}
	}
	for i, r := range batch {
		rows, err := br.Query()
		if err == nil {
			err = r.scan(rows)
			rows.Close()
			if rerr := rows.Err(); rerr != nil {
				err = rerr
			}
		}
		if err != nil {
			if lost(err) || retryable(err) {
				return -1, err
			}
			return i, err
		}
	}
	tag, err := br.Exec()
	if err != nil {
		return -1, fmt.Errorf("commit: %w", err)
	}
	if tag.String() != "COMMIT" {
		return -1, fmt.Errorf("commit: server answered %q", tag.String())
	}
	return -1, nil
}

// retryable reports a deadlock or serialization failure: the transaction
// was rolled back and may simply be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// lost reports an error that is the connection's or the server's, not the
// statement's: it fails the whole batch.
func lost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		c := sqlClass(pe)
		return c == "08" || c == "57" || c == "53"
	}
	return unavailable(err)
}
