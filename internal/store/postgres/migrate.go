package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-notify/herald/internal/store/migration"
)

// migrations holds the schema as numbered files, NNNN_name.sql, applied in
// order, each in its own transaction. A file, once released, is never
// edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the session advisory lock held while
// migrating ("herald" in ASCII).
const migrationLock int64 = 0x686572616c64

// Migrate applies the pending migrations to the database at url, creating
// the epoch if needed, and returns. It is idempotent and safe to run from
// several processes at once (see migrate).
func Migrate(ctx context.Context, url string) error {
	pool, err := newPool(ctx, url, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrate(ctx, pool, time.Now); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func loadMigrations() ([]migration.Migration, error) {
	return migration.Load(migrations, "migrations")
}

// migrate applies pending migrations and creates the epoch. It holds a
// session advisory lock on one connection throughout, so concurrent
// migrators (instances starting together) take turns: the first applies,
// the others find nothing left to do.
func migrate(ctx context.Context, pool *pgxpool.Pool, now func() time.Time) error {
	return migrateUpTo(ctx, pool, now, math.MaxInt)
}

// migrateUpTo is migrate stopping after version upTo (upgrade tests build
// a database of an earlier schema with it).
func migrateUpTo(ctx context.Context, pool *pgxpool.Pool, now func() time.Time, upTo int) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return mapErr("connect", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return mapErr("take migration lock", err)
	}
	defer func() {
		// A failed unlock leaves the lock to the session's end; the pool
		// drops a connection whose last use failed.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL)`); err != nil {
		return mapErr("create schema_migrations", err)
	}
	var current int
	if err := conn.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return mapErr("read schema version", err)
	}
	for _, m := range ms {
		if m.Version <= current || m.Version > upTo {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)",
				m.Version, m.Name, now())
			return err
		})
		if err != nil {
			return mapErr("apply "+m.Name, err)
		}
	}
	epoch, err := migration.NewEpoch()
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx,
		"INSERT INTO meta(key, value) VALUES ('epoch', $1) ON CONFLICT (key) DO NOTHING", epoch); err != nil {
		return mapErr("create epoch", err)
	}
	return nil
}

// readEpoch returns the epoch stored by migrate.
func readEpoch(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var epoch string
	err := pool.QueryRow(ctx, "SELECT value FROM meta WHERE key = 'epoch'").Scan(&epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errors.New("read epoch: database has no epoch")
	}
	if err != nil {
		return "", mapErr("read epoch", err)
	}
	return epoch, nil
}
