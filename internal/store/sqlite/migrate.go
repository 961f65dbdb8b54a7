package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrations holds the schema as numbered files, NNNN_name.sql, applied in
// order. A file, once released, is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// epochAlphabet is the character set of an epoch: notify.Cursor accepts [a-z0-9].
const epochAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// Migrate applies the pending migrations to the database at path, creating
// the file (and the epoch) if needed, and returns. It is idempotent and safe
// to run from several processes at once: each run holds the write lock
// (BEGIN IMMEDIATE) while it reads and applies versions.
func Migrate(ctx context.Context, path string) error {
	db, err := openDB(path, Options{}.withDefaults(), false)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return migrate(ctx, db, time.Now)
}

// migration is one numbered schema file.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.sql", name)
		}
		b, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", name, err)
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migration version %d used twice", out[i].version)
		}
	}
	return out, nil
}

// migrate applies pending migrations and creates the epoch, in one
// BEGIN IMMEDIATE transaction on a single connection of db.
func migrate(ctx context.Context, db *sql.DB, now func() time.Time) (err error) {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return mapErr("migrate", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return mapErr("migrate: begin", err)
	}
	defer func() {
		if err != nil {
			// The connection is discarded with the pool; a failed rollback
			// changes nothing for the caller.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return mapErr("migrate: create schema_migrations", err)
	}
	var current int
	if err := conn.QueryRowContext(ctx,
		"SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return mapErr("migrate: read version", err)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := conn.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migrate: apply %s: %w", m.name, err)
		}
		if _, err := conn.ExecContext(ctx,
			"INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
			m.version, m.name, now().UnixMicro()); err != nil {
			return mapErr("migrate: record version", err)
		}
	}
	epoch, err := newEpoch()
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx,
		"INSERT INTO meta(key, value) VALUES ('epoch', ?) ON CONFLICT(key) DO NOTHING", epoch); err != nil {
		return mapErr("migrate: create epoch", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return mapErr("migrate: commit", err)
	}
	return nil
}

// newEpoch returns 8 random characters of [a-z0-9].
func newEpoch() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("create epoch: %w", err)
	}
	for i := range b {
		// 256 % 36 != 0 makes the first 4 characters slightly likelier;
		// an epoch needs to differ between databases, not be uniform.
		b[i] = epochAlphabet[int(b[i])%len(epochAlphabet)]
	}
	return string(b[:]), nil
}

// readEpoch returns the epoch stored by migrate.
func readEpoch(ctx context.Context, db *sql.DB) (string, error) {
	var epoch string
	err := db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'epoch'").Scan(&epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errors.New("read epoch: database has no epoch")
	}
	if err != nil {
		return "", mapErr("read epoch", err)
	}
	return epoch, nil
}
