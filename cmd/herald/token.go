package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/herald-notify/herald/internal/auth"
	"github.com/herald-notify/herald/internal/config"
	"github.com/herald-notify/herald/internal/notify"
)

type tokenOptions struct {
	user string
	ttl  time.Duration
}

// tokenFlags defines the flags of `herald token` on fs.
func tokenFlags(fs *flag.FlagSet) *tokenOptions {
	o := &tokenOptions{ttl: time.Hour}
	fs.StringVar(&o.user, "user", "", "user id the token is for (its sub claim); required")
	fs.Func("ttl", "lifetime of the token, e.g. 15m, 12h, 7d (default 1h)", func(s string) error {
		d, err := config.ParseDuration(s)
		if err != nil {
			return err
		}
		o.ttl = d
		return nil
	})
	return o
}

// cmdToken prints an HS256 subscriber token, and only the token, on stdout,
// so that TOKEN=$(herald token --user u1) works.
func cmdToken(_ context.Context, e *Env, args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	o := tokenFlags(fs)
	cfg, err := e.loadConfig("token", args, fs)
	if err != nil {
		return err
	}
	switch {
	case o.user == "":
		return usagef("--user: required")
	case !notify.ValidUserID(o.user):
		return usagef("%s", notify.ErrorMessage(notify.CheckUserID("--user", o.user)))
	case o.ttl <= 0:
		return usagef("--ttl: must be positive, got %s", o.ttl)
	}
	if err := cfg.ValidateValues(); err != nil {
		return err
	}
	if err := cfg.Require("HERALD_JWT_SECRET"); err != nil {
		return err
	}
	tok, err := auth.SignHS256([]byte(cfg.JWTSecret), o.user, o.ttl, e.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.Stdout, tok)
	return err
}
