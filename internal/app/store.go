package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/herald-notify/herald/internal/config"
	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/store/postgres"
	"github.com/herald-notify/herald/internal/store/sqlite"
)

// OpenStore opens the store cfg.DB names, applying migrations.
func OpenStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (notify.Store, error) {
	if path, ok := cfg.SQLitePath(); ok {
		s, err := sqlite.Open(ctx, path, sqlite.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("HERALD_DB (--db): open %s: %w", path, err)
		}
		return s, nil
	}
	if cfg.Postgres() {
		s, err := postgres.Open(ctx, cfg.DB, postgres.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("HERALD_DB (--db): open %s: %w", redacted(cfg.DB), oneLine(err))
		}
		return s, nil
	}
	return nil, fmt.Errorf("HERALD_DB (--db): %s stores are not supported by this build", scheme(cfg.DB))
}

// Migrate applies the store's migrations and returns.
func Migrate(ctx context.Context, cfg *config.Config) error {
	if path, ok := cfg.SQLitePath(); ok {
		return sqlite.Migrate(ctx, path)
	}
	if cfg.Postgres() {
		if err := postgres.Migrate(ctx, cfg.DB); err != nil {
			return fmt.Errorf("HERALD_DB (--db): %s: %w", redacted(cfg.DB), oneLine(err))
		}
		return nil
	}
	return fmt.Errorf("HERALD_DB (--db): %s stores are not supported by this build", scheme(cfg.DB))
}

func scheme(url string) string {
	s, _, _ := strings.Cut(url, "://")
	return s
}

// redacted returns a database URL without its password, for messages.
func redacted(db string) string {
	u, err := url.Parse(db)
	if err != nil {
		return scheme(db) + "://…"
	}
	return u.Redacted()
}

// oneLine keeps err on one line: the start-up failure is one line of the
// log or the terminal, and server messages may hold newlines (DETAIL, HINT).
func oneLine(err error) error {
	msg := err.Error()
	if !strings.ContainsAny(msg, "\r\n") {
		return err
	}
	return fmt.Errorf("%s", strings.Join(strings.Fields(msg), " "))
}
