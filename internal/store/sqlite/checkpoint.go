package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Background checkpoints. SQLite's automatic checkpoint runs inside the
// COMMIT that crosses its threshold, on the writer's goroutine, where every
// waiting publisher pays for copying the WAL into the database file. Herald
// turns it off (wal_autocheckpoint(0)) and instead:
//
//   - a checkpointer goroutine, on a connection of its own, runs a PASSIVE
//     checkpoint every checkpointInterval. PASSIVE never waits for the writer
//     or readers, so the copying (and the database file's fsync) runs in
//     parallel with commits;
//   - a PASSIVE checkpoint cannot rewind the WAL while the writer keeps
//     appending to it, so when the WAL has grown past restartFrames the
//     checkpointer asks the writer, which between two batches runs a RESTART
//     checkpoint on its own connection: it only has to copy what was appended
//     since the last PASSIVE, after which the next transaction writes the WAL
//     from its start again (journal_size_limit then bounds the file).
//
// Durability is unchanged: every commit is still fsync'd to the WAL before
// it is acknowledged; checkpoints only move committed pages into the
// database file.
const (
	checkpointInterval = 200 * time.Millisecond
	// restartFrames is the WAL length (in pages) past which the WAL is
	// rewound: about 40 MiB, the interval measured best for checkpoints run
	// inside commits, when inbox index pages are rewritten by nearly every
	// commit.
	restartFrames = 10000
	// restartBusyTimeout bounds how long a RESTART waits for readers still
	// on an old snapshot (reads take milliseconds): the writer waits
	// meanwhile, so it gives up early and tries again once the next PASSIVE
	// checkpoint asks again.
	restartBusyTimeout = 20 * time.Millisecond
)

// checkpointer runs PASSIVE checkpoints on its own connection until stop.
// restartIfDue is for the writer goroutine; the rest is internal.
type checkpointer struct {
	conn     *sql.Conn
	log      *slog.Logger
	interval time.Duration
	// restartAt is the WAL length in frames past which the writer is asked
	// to rewind the WAL (restartFrames outside tests).
	restartAt int64
	quit      chan struct{}
	stopped   chan struct{}

	// mu is held by whoever checkpoints, so that the writer never waits on
	// SQLite's checkpoint lock (with its sleeping busy handler) behind a
	// PASSIVE run.
	mu sync.Mutex
	// restart is set when the WAL has grown past restartFrames.
	restart atomic.Bool

	// Counters for tests: checkpoints run by each side.
	passives, restarts atomic.Int64
}

// startCheckpointer returns a running checkpointer that owns conn.
func startCheckpointer(conn *sql.Conn, interval time.Duration, restartAt int64, log *slog.Logger) *checkpointer {
	c := &checkpointer{
		conn:      conn,
		log:       log,
		interval:  interval,
		restartAt: restartAt,
		quit:      make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer close(c.stopped)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
			c.passive()
		}
	}
}

// passive runs one PASSIVE checkpoint and flags a restart when the WAL is
// long.
func (c *checkpointer) passive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	var busy, log, done int64
	err := c.conn.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
	if err != nil {
		c.log.Warn("sqlite store: checkpoint", "err", err)
		return
	}
	c.passives.Add(1)
	if log >= c.restartAt {
		c.restart.Store(true)
	}
}

// restartIfDue runs a RESTART checkpoint on conn (the writer's, outside any
// transaction) when one was asked for and no PASSIVE is running. It must be
// called only from the goroutine that owns conn.
func (c *checkpointer) restartIfDue(conn *sql.Conn) {
	if !c.restart.Load() || !c.mu.TryLock() {
		return
	}
	defer c.mu.Unlock()
	c.restart.Store(false) // at most one attempt per PASSIVE run
	ctx := context.Background()
	// A short busy timeout: RESTART waits for readers on an old snapshot.
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.FormatInt(restartBusyTimeout.Milliseconds(), 10)); err != nil {
		c.log.Warn("sqlite store: checkpoint", "err", err)
		return
	}
	defer func() {
		if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.FormatInt(busyTimeout.Milliseconds(), 10)); err != nil {
			c.log.Error("sqlite store: restore busy timeout", "err", err)
		}
	}()
	var busy, log, done int64
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &log, &done); err != nil {
		c.log.Warn("sqlite store: checkpoint", "err", err)
		return
	}
	if busy == 0 {
		c.restarts.Add(1)
	}
}

// stop ends the loop after the checkpoint it is running and closes the
// connection.
func (c *checkpointer) stop() {
	close(c.quit)
	<-c.stopped
	_ = c.conn.Close()
}
