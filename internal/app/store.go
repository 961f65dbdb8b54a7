package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/herald-notify/herald/internal/config"
	"github.com/herald-notify/herald/internal/notify"
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
	return nil, fmt.Errorf("HERALD_DB (--db): %s stores are not supported by this build", scheme(cfg.DB))
}

// Migrate applies the store's migrations and returns.
func Migrate(ctx context.Context, cfg *config.Config) error {
	if path, ok := cfg.SQLitePath(); ok {
		return sqlite.Migrate(ctx, path)
	}
	return fmt.Errorf("HERALD_DB (--db): %s stores are not supported by this build", scheme(cfg.DB))
}

func scheme(url string) string {
	s, _, _ := strings.Cut(url, "://")
	return s
}
