// Package postgres is the notify.Store on PostgreSQL (pgx v5, a connection
// pool): the store for production deployments and for several Herald
// instances sharing one database. It behaves exactly as the SQLite store:
// both pass the contract suite in internal/store/storetest unchanged.
//
// # Writes: group commit in one round trip
//
// Every write (publish, system events, read/delete, tickets) is a request to
// a small set of writer goroutines (Options.Writers). A writer takes one
// request, adds whatever else is already waiting (up to Options.MaxBatch),
// and sends the whole batch as one pgx.Batch: BEGIN, one statement that
// locks every stream the batch appends to, one statement per request (a
// server-side function, see migrations/0002_functions.sql), COMMIT. That is
// one network round trip and one WAL flush for the batch, and a lone
// request is never delayed to wait for company.
//
// One bad request fails alone: the functions return expected outcomes (a
// duplicate, an id not found) as values, so a statement error means that
// request is broken. The writer answers that request with its error and
// sends the batch again without it; nothing of a failed attempt is kept.
// (Savepoints would do the same in one attempt, but each is a round trip,
// or a subtransaction per request, which past 64 per transaction makes
// every other session's snapshots slower.)
//
// # Stream positions and commit order
//
// A stream's positions come from its row in streams: "INSERT … ON CONFLICT
// (stream) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq" in the
// transaction that stores the event. The update takes the row lock, held to
// commit or abort, so a second transaction appending to the same stream
// waits: if the first commits, the second reads (READ COMMITTED re-reads the
// newest row version after the wait) N and writes N+1; if it aborts, the
// second gets N itself. Positions are therefore 1, 2, 3, … with no gap, and
// N commits before N+1 is even allocated.
//
// Commit before allocation is also visibility before allocation: at commit
// PostgreSQL marks the transaction committed in the proc array (what
// snapshots read) before it releases its locks, and a waiter on a row lock
// waits on the holder's transaction lock. So any snapshot that shows N+1
// shows N, and a reader (ReadEvents, one statement and one snapshot) can
// never see N+1 while N is missing. Every transaction first locks all the
// streams it will append to in one statement, in byte order
// (herald_lock_streams), so transactions of any number of writers and
// instances can wait for each other but never in a cycle.
//
// # Durability and errors
//
// Sessions run with synchronous_commit=on whatever the server's default, so
// a nil error means the commit is on disk (and on synchronous standbys). A
// connection lost while a batch was in flight is reported as
// notify.CodeUnavailable to every request in it; the batch may or may not
// have committed, so a caller can see a failure for a stored publish (an
// idempotency key makes the retry safe) but never success for a lost one.
// Contexts are as in the SQLite store: a write's ctx is honoured until a
// writer takes it into a batch, after which the answer is the batch's
// outcome; a batch is bounded by Options.WriteTimeout instead.
//
// # Migrations
//
// The schema is in migrations/, applied by Open and Migrate under a session
// advisory lock, so instances starting together apply each version once.
package postgres
