package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	msqlite "modernc.org/sqlite"
)

// writer owns the single write connection and runs every write through group
// commit: it takes one request, drains whatever else is already waiting (up
// to maxBatch), runs them all inside one BEGIN IMMEDIATE transaction, commits
// once (one fsync) and answers each caller.
//
// A batch first runs without savepoints, which is the common case paid for
// nothing. If any request fails (or panics), that attempt is rolled back and
// the batch runs again with each request in its own SAVEPOINT, so that the
// failing request is undone alone and the others commit. Request functions
// must therefore be safe to run twice: they reset their results on entry.
//
// A request is never delayed to wait for company: the batch is whatever is
// queued when the writer becomes free, which under load is everything that
// arrived during the previous commit.
type writer struct {
	conn     *sql.Conn
	maxBatch int
	log      *slog.Logger
	reqs     chan *request // unbuffered: a request is taken only by the writer
	quit     chan struct{}
	stopped  chan struct{}
	tx       *wtx
	ckpt     *checkpointer // nil: no background checkpoints (tests)
	pubSQL   publishSQL
	run1     []*plainPublish // scratch for attempt

	// hooked reports that lost is maintained by a rollback hook on conn;
	// without it every batch runs with savepoints.
	hooked bool
	// lost is set by SQLite's rollback hook whenever the transaction ends
	// in a rollback, ours or SQLite's own (or a rogue statement's).
	lost atomic.Bool

	// Counters for tests and benchmarks: committed transactions, the
	// requests they carried, and batches that had to be rerun with
	// savepoints.
	commits, committed, reruns atomic.Int64
}

// request is one caller's unit of work. fn runs on the writer goroutine
// inside the batch's transaction, possibly twice (see writer); it records its
// results in variables of the caller, which reads them only after done
// delivers nil.
type request struct {
	ctx     context.Context
	fn      func(tx *wtx) error
	err     error
	skipped bool // ctx ended before fn ran: err is ctx.Err()
	// plain, when set, lets a pass without savepoints run this request
	// together with neighbouring plain publishes (publishMany) instead of fn.
	plain *plainPublish
	done  chan error // buffered 1
}

// startWriter returns a running writer that owns conn.
func startWriter(conn *sql.Conn, maxBatch int, log *slog.Logger, ckpt *checkpointer) *writer {
	w := newWriter(conn, maxBatch, log)
	w.ckpt = ckpt
	go w.loop()
	return w
}

// newWriter returns a writer whose loop is not started (tests drive run).
func newWriter(conn *sql.Conn, maxBatch int, log *slog.Logger) *writer {
	w := &writer{
		conn:     conn,
		maxBatch: maxBatch,
		log:      log,
		reqs:     make(chan *request),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
		tx:       &wtx{conn: conn, stmts: make(map[string]*sql.Stmt)},
	}
	err := conn.Raw(func(dc any) error {
		h, ok := dc.(interface {
			RegisterRollbackHook(msqlite.RollbackHookFn)
		})
		if !ok {
			return errors.New("driver has no rollback hook")
		}
		h.RegisterRollbackHook(func() { w.lost.Store(true) })
		return nil
	})
	w.hooked = err == nil
	if err != nil {
		log.Warn("sqlite store: every write runs in a savepoint", "err", err)
	}
	return w
}

// do runs fn in a write transaction and returns when it is committed.
//
// ctx is honoured until the writer takes the request into a batch: a caller
// whose ctx ends first gets ctx.Err() and fn never runs. Once fn has run, the
// answer is the batch's outcome (fn's own error, or the commit's), whatever
// ctx does meanwhile, so that a nil error always means committed. After stop,
// do returns errClosed.
func (w *writer) do(ctx context.Context, fn func(tx *wtx) error) error {
	return w.doRequest(&request{ctx: ctx, fn: fn})
}

// doRequest is do for a request built by the caller (fn set, and plain
// when it is a plain publish).
func (w *writer) doRequest(r *request) error {
	ctx := r.ctx
	if err := ctx.Err(); err != nil {
		return err
	}
	r.done = make(chan error, 1)
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.quit:
		return errClosed
	}
	return <-r.done
}

// stop makes the writer finish its current batch and exit, then closes the
// prepared statements and the connection. Requests not yet taken fail with
// errClosed.
func (w *writer) stop() {
	close(w.quit)
	<-w.stopped
	for _, st := range w.tx.stmts {
		_ = st.Close() // the connection is closed next; nothing to recover
	}
	_ = w.conn.Close()
}

func (w *writer) loop() {
	defer close(w.stopped)
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
		if w.ckpt != nil {
			w.ckpt.restartIfDue(w.conn)
		}
	}
}

// run executes one batch and answers every request in it. SQL runs without
// the callers' contexts: one caller's cancellation must not interrupt a
// transaction that carries other callers' work.
func (w *writer) run(batch []*request) {
	live := 0
	for _, r := range batch {
		if r.err = r.ctx.Err(); r.err != nil {
			r.skipped = true
		} else {
			live++
		}
	}
	if live == 0 {
		answer(batch, nil)
		return
	}
	savepoints := !w.hooked
	ok, err := w.attempt(batch, savepoints)
	if err == nil && !ok {
		// A request failed without savepoints: undo the attempt and run
		// the batch again, each request in its own savepoint.
		w.rollback()
		w.reruns.Add(1)
		for _, r := range batch {
			if !r.skipped {
				r.err = nil
			}
		}
		_, err = w.attempt(batch, true)
	}
	if err != nil {
		w.rollback()
		answer(batch, err)
		return
	}
	if _, err := w.tx.exec("COMMIT"); err != nil {
		w.rollback()
		w.log.Warn("sqlite store: commit failed", "requests", len(batch), "err", err)
		answer(batch, mapErr("commit", err))
		return
	}
	done := 0
	for _, r := range batch {
		if r.err == nil {
			done++
		}
	}
	w.commits.Add(1)
	w.committed.Add(int64(done))
	answer(batch, nil)
}

// attempt begins a transaction and runs the batch's requests in it, leaving
// it open for the caller to commit or roll back. With savepoints each request
// runs in its own and a failing one is undone alone (its error in r.err);
// without, attempt stops at the first failing request and reports ok false.
// A returned error is a failure of the transaction itself, which dooms the
// whole batch.
func (w *writer) attempt(batch []*request, savepoints bool) (ok bool, err error) {
	if _, err := w.tx.exec("BEGIN IMMEDIATE"); err != nil {
		return false, mapErr("begin", err)
	}
	w.lost.Store(false)
	for i := 0; i < len(batch); i++ {
		r := batch[i]
		if r.skipped {
			continue
		}
		if r.err = r.ctx.Err(); r.err != nil {
			r.skipped = true // ended while earlier requests ran: still not started
			continue
		}
		if !savepoints && r.plain != nil {
			// r and the plain publishes right after it, in one go.
			run := append(w.run1[:0], r.plain)
			for i+1 < len(batch) && batch[i+1].plain != nil {
				next := batch[i+1]
				if next.err = next.ctx.Err(); next.err != nil {
					next.skipped = true
				} else {
					run = append(run, next.plain)
				}
				i++
			}
			err := w.callMany(run)
			clear(run)
			w.run1 = run[:0]
			if err != nil {
				return false, nil
			}
		} else if savepoints {
			if err := w.runOne(r); err != nil {
				return false, err
			}
		} else if r.err = w.call(r); r.err != nil {
			return false, nil
		}
		if w.lost.Load() {
			// The transaction ended under us (a request's statement rolled
			// it back): what follows would run in autocommit mode.
			return false, mapErr("write transaction", errors.New("transaction rolled back by a request"))
		}
	}
	return true, nil
}

// runOne runs r.fn in a savepoint, setting r.err to its error (its work then
// undone). The returned error is for a failure of the savepoint machinery,
// which dooms the whole batch.
func (w *writer) runOne(r *request) error {
	if _, err := w.tx.exec("SAVEPOINT req"); err != nil {
		return mapErr("savepoint", err)
	}
	r.err = w.call(r)
	if r.err != nil {
		if _, err := w.tx.exec("ROLLBACK TO req"); err != nil {
			return mapErr("rollback to savepoint", errors.Join(r.err, err))
		}
	}
	if _, err := w.tx.exec("RELEASE req"); err != nil {
		return mapErr("release savepoint", err)
	}
	return nil
}

// call runs r.fn, turning a panic (a bug) into that request's error so that
// the writer, and every other caller, survives it.
func (w *writer) call(r *request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			w.log.Error("sqlite store: write request panicked", "panic", p)
			err = fmt.Errorf("write request panicked: %v", p)
		}
	}()
	return r.fn(w.tx)
}

// callMany runs publishMany for a run of plain publishes, turning a panic
// into an error like call.
func (w *writer) callMany(run []*plainPublish) (err error) {
	defer func() {
		if p := recover(); p != nil {
			w.log.Error("sqlite store: write request panicked", "panic", p)
			err = fmt.Errorf("write request panicked: %v", p)
		}
	}()
	return publishMany(w.tx, &w.pubSQL, run)
}

// rollback ends a failed transaction. It fails harmlessly with "no
// transaction is active" when SQLite has already rolled back.
func (w *writer) rollback() {
	if _, err := w.tx.exec("ROLLBACK"); err != nil {
		w.log.Debug("sqlite store: rollback", "err", err)
	}
}

// answer delivers each request's result: batchErr for all when set, else
// each request's own error.
func answer(batch []*request, batchErr error) {
	for _, r := range batch {
		err := r.err
		if batchErr != nil {
			err = batchErr
		}
		r.done <- err
	}
}

// wtx is the write transaction as request functions see it. It is used only
// on the writer goroutine; its prepared statements live as long as the
// connection.
type wtx struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

func (t *wtx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	st, err := t.conn.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	t.stmts[query] = st
	return st, nil
}

// exec runs a (cached) prepared statement and returns the rows it changed.
func (t *wtx) exec(query string, args ...any) (int64, error) {
	st, err := t.stmt(query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(context.Background(), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// query runs a (cached) prepared statement; the caller closes the rows.
func (t *wtx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(context.Background(), args...)
}

// queryRow runs a (cached) prepared statement returning at most one row.
func (t *wtx) queryRow(query string, args ...any) *sql.Row {
	st, err := t.stmt(query)
	if err != nil {
		// Surface the prepare error through Scan, as database/sql does.
		return t.conn.QueryRowContext(context.Background(), query, args...)
	}
	return st.QueryRowContext(context.Background(), args...)
}
