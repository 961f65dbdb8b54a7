package main

import (
	"context"

	"github.com/herald-notify/herald/internal/config"
)

// cmdServe loads and validates the settings for `herald serve`, generating
// the secrets of dev mode, and hands over to runServe.
func cmdServe(ctx context.Context, e *Env, args []string) error {
	cfg, err := e.loadConfig("serve", args, nil)
	if err != nil {
		return err
	}
	generated, err := cfg.ApplyDev(e.Rand)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Dev {
		printDevBanner(e, cfg, generated)
	}
	return runServe(ctx, cfg, e)
}

// cmdWorker: the worker authenticates no one, so it needs no secrets, but
// it needs a queue.
func cmdWorker(ctx context.Context, e *Env, args []string) error {
	cfg, err := e.loadConfig("worker", args, nil)
	if err != nil {
		return err
	}
	if err := cfg.ValidateValues(); err != nil {
		return err
	}
	if err := cfg.Require("HERALD_QUEUE"); err != nil {
		return err
	}
	return runWorker(ctx, cfg, e)
}

// cmdMigrate needs only a valid store.
func cmdMigrate(ctx context.Context, e *Env, args []string) error {
	cfg, err := e.loadConfig("migrate", args, nil)
	if err != nil {
		return err
	}
	if err := cfg.ValidateValues(); err != nil {
		return err
	}
	return runMigrate(ctx, cfg, e)
}

// printDevBanner tells the developer that this is dev mode and gives the
// secrets generated for this run, as lines to paste into another shell
// (herald send and herald token need them).
func printDevBanner(e *Env, cfg *config.Config, generated []string) {
	e.warnf("herald: developer mode: not for production\n")
	if len(generated) == 0 {
		return
	}
	e.warnf("herald: secrets generated for this run; to use herald send and herald token, or keep them across restarts:\n")
	for _, name := range generated {
		var v config.Secret
		switch name {
		case "HERALD_JWT_SECRET":
			v = cfg.JWTSecret
		case "HERALD_PUBLISHER_KEY":
			v = cfg.PublisherKey
		}
		e.warnf("  export %s=%s\n", name, string(v))
	}
}
