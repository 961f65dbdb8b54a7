package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/herald-notify/herald/internal/store/migration"
)

// migrations holds the schema as numbered files, NNNN_name.sql, applied in
// order. A file, once released, is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the pending migrations to the database at path, creating
// the file (and the epoch) if needed, and returns. It is idempotent and safe
// to run from several processes at once: each run holds the write lock
// (BEGIN IMMEDIATE) while it reads and applies versions.
func Migrate(ctx context.Context, path string) (err error) {
	db, err := openDB(path, Options{}.withDefaults(), false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	db.SetMaxOpenConns(1)
	return migrate(ctx, db, time.Now)
}

func loadMigrations() ([]migration.Migration, error) {
	return migration.Load(migrations, "migrations")
}

// migrate applies pending migrations and creates the epoch, in one
// BEGIN IMMEDIATE transaction on a single connection of db.
func migrate(ctx context.Context, db *sql.DB, now func() time.Time) error {
	return migrateUpTo(ctx, db, now, math.MaxInt)
}

// migrateUpTo is migrate stopping after version upTo (upgrade tests build
// a database of an earlier schema with it).
func migrateUpTo(ctx context.Context, db *sql.DB, now func() time.Time, upTo int) (err error) {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return mapErr("migrate", err)
	}
	defer func() { err = errors.Join(err, conn.Close()) }()
	// Foreign keys are off while migrating, so that a migration may rebuild
	// a table (SQLite's documented way: create, copy, drop, rename) without
	// the drop cascading; they are checked before the commit instead. The
	// pragma is a no-op inside a transaction, so it comes first.
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return mapErr("migrate: foreign keys off", err)
	}
	defer func() {
		if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); ferr != nil {
			err = errors.Join(err, mapErr("migrate: foreign keys on", ferr))
		}
	}()
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
		if m.Version <= current || m.Version > upTo {
			continue
		}
		if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate: apply %s: %w", m.Name, err)
		}
		if _, err := conn.ExecContext(ctx,
			"INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, now().UnixMicro()); err != nil {
			return mapErr("migrate: record version", err)
		}
	}
	if err := foreignKeyCheck(ctx, conn); err != nil {
		return err
	}
	epoch, err := migration.NewEpoch()
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

// foreignKeyCheck fails when a row breaks a foreign key.
func foreignKeyCheck(ctx context.Context, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return mapErr("migrate: foreign key check", err)
	}
	bad := rows.Next()
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return mapErr("migrate: foreign key check", err)
	}
	if bad {
		return errors.New("migrate: a migration left rows that break a foreign key")
	}
	return nil
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
