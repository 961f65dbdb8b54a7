package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/herald-notify/herald/internal/app"
	"github.com/herald-notify/herald/internal/auth"
	"github.com/herald-notify/herald/internal/config"
)

// runServe runs the HTTP server until ctx is cancelled (SIGINT/SIGTERM),
// then drains and returns nil.
func runServe(ctx context.Context, cfg *config.Config, env *Env) error {
	log := env.Logger(cfg)
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() { _ = a.Close() }()
	if err := a.Listen(); err != nil {
		return err
	}
	if cfg.Dev {
		if err := printDevQuickstart(env, cfg, a.Addr()); err != nil {
			return err
		}
	}
	return a.Run(ctx)
}

// printDevQuickstart prints, in dev mode, a subscriber token for user u1 and
// the commands to try the server with.
func printDevQuickstart(env *Env, cfg *config.Config, addr string) error {
	token, err := auth.SignHS256([]byte(cfg.JWTSecret), "u1", 24*time.Hour, env.Now())
	if err != nil {
		return fmt.Errorf("mint dev token: %w", err)
	}
	base := "http://" + localAddr(addr)
	if _, err := fmt.Fprintf(env.Stdout, `Herald is running (developer mode) on %[1]s
  demo inbox page:   %[1]s/
  publisher key:     %[2]s
  token for "u1":    %[3]s (24h)
Try it:
  curl -N -H "Authorization: Bearer %[3]s" %[1]s/api/notifications/sse
  HERALD_PUBLISHER_KEY=%[2]s herald send --url %[1]s --user u1 --title hi
`, base, string(cfg.PublisherKey), token); err != nil {
		return fmt.Errorf("print dev quickstart: %w", err)
	}
	if !loopbackAddr(addr) {
		if _, err := fmt.Fprintf(env.Stdout, `Warning: developer mode is listening on %s, beyond this machine (HERALD_ADDR).
  Anyone who can reach it can publish with the key above; the demo page's
  /dev/session still answers only to this machine.
`, addr); err != nil {
			return fmt.Errorf("print dev quickstart: %w", err)
		}
	}
	return nil
}

// loopbackAddr reports whether a bound listen address is on loopback only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// localAddr turns a listen address such as [::]:8080 into one a browser on
// this machine can open.
func localAddr(addr string) string {
	for _, p := range []string{"[::]:", "0.0.0.0:"} {
		if len(addr) > len(p) && addr[:len(p)] == p {
			return "127.0.0.1:" + addr[len(p):]
		}
	}
	return addr
}

// runWorker runs the queue consumer alone, with /healthz, /readyz and
// /metrics on HERALD_ADDR, until ctx is cancelled; it then stops polling,
// finishes and deletes the messages in flight, and returns nil.
func runWorker(ctx context.Context, cfg *config.Config, env *Env) error {
	if cfg.Queue == "" {
		return fmt.Errorf("HERALD_QUEUE (--queue): required by herald worker")
	}
	a, err := app.New(ctx, cfg, env.Logger(cfg))
	if err != nil {
		return err
	}
	defer func() { _ = a.Close() }()
	if err := a.WorkerOnly(); err != nil {
		return err
	}
	return a.Run(ctx)
}

// runMigrate applies the store's migrations and exits.
func runMigrate(ctx context.Context, cfg *config.Config, env *Env) error {
	if err := app.Migrate(ctx, cfg); err != nil {
		return err
	}
	_, err := fmt.Fprintln(env.Stdout, "migrations applied")
	return err
}
