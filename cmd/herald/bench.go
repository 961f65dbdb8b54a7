package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/herald-notify/herald/internal/bench"
	"github.com/herald-notify/herald/internal/config"
)

type benchOptions struct {
	url, secret, key string
	sources          string
	conns, users     int
	pid              int
	settle, after    time.Duration
	rate             float64
	duration         time.Duration
	grace            time.Duration
	publishers       int
	concurrency      string
	dialConcurrency  int
	userPrefix       string
	json, quiet      bool
	rates            string
	count            int
	interval         time.Duration
	chart            string
}

// benchFlags defines the flags of `herald bench` on fs, for all three
// scenarios; --url defaults to HERALD_URL from getenv.
func benchFlags(fs *flag.FlagSet, getenv func(string) string) *benchOptions {
	o := &benchOptions{}
	fs.StringVar(&o.url, "url", or(getenv("HERALD_URL"), defaultURL), "base URL of the Herald server (env HERALD_URL)")
	fs.StringVar(&o.secret, "secret", "", "HS256 key to sign subscriber tokens with; default HERALD_JWT_SECRET (prefer the environment)")
	fs.StringVar(&o.key, "key", "", "publisher key; default HERALD_PUBLISHER_KEY (prefer the environment)")
	fs.StringVar(&o.sources, "sources", "", "local addresses to connect from in turn, e.g. 127.0.0.1,127.0.0.2 (more ephemeral ports)")
	intFlag(fs, &o.conns, "conns", "SSE streams to open (default 10000 idle, broadcast and sweep, 1000 latency)")
	intFlag(fs, &o.users, "users", "idle: users the streams are spread over (default one per stream); publish: recipients (default 1000)")
	intFlag(fs, &o.pid, "pid", "idle, latency, sweep, broadcast: process id of the server, to read its RSS and CPU time from /proc (same machine)")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "idle: how long the streams idle before the server is measured (its CPU is measured over this window)")
	fs.DurationVar(&o.after, "after", 0, "idle: once the streams have closed, wait this long and read the server's RSS again (with --pid)")
	fs.Float64Var(&o.rate, "rate", 1000, "latency: notifications per second, in total")
	fs.Func("duration", "latency, publish: how long to publish (default 30s latency, 10s per level publish)", func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a positive duration such as 30s, got %q", v)
		}
		o.duration = d
		return nil
	})
	fs.DurationVar(&o.grace, "grace", 5*time.Second, "latency: wait for late deliveries after the last acknowledgement")
	fs.IntVar(&o.publishers, "publishers", 16, "latency: publish requests in flight at most")
	fs.StringVar(&o.concurrency, "concurrency", "1,16,64", "publish: concurrency levels, comma-separated")
	fs.IntVar(&o.dialConcurrency, "dial-concurrency", 64, "idle, latency: streams being opened at once")
	fs.StringVar(&o.userPrefix, "user-prefix", "u", "user ids are PREFIX0, PREFIX1, …")
	fs.StringVar(&o.rates, "rates", "2000,4000,6000,8000,10000,12000,14000,16000", "sweep: target rates, comma-separated, each run for --duration")
	intFlag(fs, &o.count, "count", "broadcast: broadcasts to publish (default 20)")
	fs.DurationVar(&o.interval, "interval", time.Second, "broadcast: time between two broadcasts")
	fs.StringVar(&o.chart, "chart", "", "sweep: also write an SVG chart of delivered rate and p99 against target rate to this file")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON instead of a table")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	return o
}

// intFlag defines a non-negative integer flag whose default (0, meaning
// "the scenario's default") the help leaves to the usage text.
func intFlag(fs *flag.FlagSet, p *int, name, usage string) {
	fs.Func(name, usage, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("want a non-negative integer, got %q", v)
		}
		*p = n
		return nil
	})
}

// cmdBench runs one benchmark scenario against a running server and prints
// its figures. Failed requests are part of the figures; an error means the
// run could not start or was interrupted.
func cmdBench(ctx context.Context, e *Env, args []string) error {
	if len(args) == 0 {
		return usagef("a scenario is required: idle, latency, sweep, broadcast or publish (see herald help bench)")
	}
	scenario := args[0]
	switch scenario {
	case "idle", "latency", "sweep", "broadcast", "publish":
	default:
		if isHelpFlag(scenario) {
			return flag.ErrHelp
		}
		return usagef("unknown scenario %q: want idle, latency, sweep, broadcast or publish", scenario)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := benchFlags(fs, e.Getenv)
	cfg, err := e.loadConfig("bench", args[1:], fs)
	if err != nil {
		return err
	}
	t, err := o.target(e, cfg)
	if err != nil {
		return err
	}
	var res interface{ WriteText(io.Writer) error }
	switch scenario {
	case "idle":
		res, err = o.idle(ctx, t)
	case "latency":
		res, err = o.latency(ctx, t)
	case "sweep":
		res, err = o.sweep(ctx, t)
	case "broadcast":
		res, err = o.broadcast(ctx, t)
	default:
		res, err = o.publish(ctx, t)
	}
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return res.WriteText(e.Stdout)
}

// target builds the server description from the flags, with the secrets
// from the settings when the flags leave them out.
func (o *benchOptions) target(e *Env, cfg *config.Config) (bench.Target, error) {
	base, err := endpoint(o.url) // checks the URL
	if err != nil {
		return bench.Target{}, err
	}
	sources, err := bench.ParseSources(o.sources)
	if err != nil {
		return bench.Target{}, usagef("--%v", err)
	}
	t := bench.Target{
		URL:     strings.TrimSuffix(base, "/api/publish/notifications"),
		Secret:  []byte(or(o.secret, string(cfg.JWTSecret))),
		Key:     or(o.key, string(cfg.PublisherKey)),
		Sources: sources,
	}
	if !o.quiet {
		t.Log = slog.New(slog.NewTextHandler(e.Stderr, nil))
	}
	return t, nil
}

func (o *benchOptions) idle(ctx context.Context, t bench.Target) (*bench.IdleResult, error) {
	if len(t.Secret) == 0 {
		return nil, usagef("--secret or HERALD_JWT_SECRET is required to open streams")
	}
	res, err := bench.Idle(ctx, bench.IdleOptions{
		Target: t, Conns: cmp.Or(o.conns, 10000), Users: o.users, UserPrefix: o.userPrefix,
		PID: o.pid, Settle: o.settle, DialConcurrency: o.dialConcurrency, After: o.after,
	})
	if err != nil {
		return nil, fmt.Errorf("idle: %w", err)
	}
	return res, nil
}

// needStreamsAndKey refuses a run that opens streams and publishes without
// the secret and the key.
func needStreamsAndKey(t bench.Target) error {
	switch {
	case len(t.Secret) == 0:
		return usagef("--secret or HERALD_JWT_SECRET is required to open streams")
	case t.Key == "":
		return usagef("--key or HERALD_PUBLISHER_KEY is required to publish")
	}
	return nil
}

func (o *benchOptions) latencyOptions(t bench.Target, conns int) bench.LatencyOptions {
	return bench.LatencyOptions{
		Target: t, Conns: cmp.Or(o.conns, conns), Rate: o.rate, Duration: cmp.Or(o.duration, 30*time.Second),
		Grace: o.grace, Publishers: o.publishers, UserPrefix: o.userPrefix, DialConcurrency: o.dialConcurrency,
		PID: o.pid,
	}
}

func (o *benchOptions) latency(ctx context.Context, t bench.Target) (*bench.LatencyResult, error) {
	if err := needStreamsAndKey(t); err != nil {
		return nil, err
	}
	res, err := bench.Latency(ctx, o.latencyOptions(t, 1000))
	if err != nil {
		return nil, fmt.Errorf("latency: %w", err)
	}
	return res, nil
}

func (o *benchOptions) sweep(ctx context.Context, t bench.Target) (*bench.SweepResult, error) {
	if err := needStreamsAndKey(t); err != nil {
		return nil, err
	}
	var rates []float64
	for f := range strings.SplitSeq(o.rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(r > 0) {
			return nil, usagef("--rates: want positive numbers separated by commas, got %q", o.rates)
		}
		rates = append(rates, r)
	}
	lo := o.latencyOptions(t, 10000)
	if o.duration == 0 {
		lo.Duration = 20 * time.Second
	}
	res, err := bench.Sweep(ctx, bench.SweepOptions{LatencyOptions: lo, Rates: rates})
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if o.chart != "" {
		if err := writeFile(o.chart, res.WriteSVG); err != nil {
			return nil, fmt.Errorf("sweep: chart: %w", err)
		}
	}
	return res, nil
}

func (o *benchOptions) broadcast(ctx context.Context, t bench.Target) (*bench.BroadcastResult, error) {
	if err := needStreamsAndKey(t); err != nil {
		return nil, err
	}
	res, err := bench.Broadcast(ctx, bench.BroadcastOptions{
		Target: t, Conns: cmp.Or(o.conns, 10000), Count: cmp.Or(o.count, 20), Interval: o.interval,
		Grace: o.grace, UserPrefix: o.userPrefix, DialConcurrency: o.dialConcurrency, PID: o.pid,
	})
	if err != nil {
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	return res, nil
}

// writeFile writes a file with write, closing it and reporting either error.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path) //nolint:gosec // G304: the path is the operator's own --chart flag
	if err != nil {
		return err
	}
	return errors.Join(write(f), f.Close())
}

func (o *benchOptions) publish(ctx context.Context, t bench.Target) (*bench.PublishResult, error) {
	if t.Key == "" {
		return nil, usagef("--key or HERALD_PUBLISHER_KEY is required to publish")
	}
	var levels []int
	for f := range strings.SplitSeq(o.concurrency, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, usagef("--concurrency: want positive numbers separated by commas, got %q", o.concurrency)
		}
		levels = append(levels, n)
	}
	res, err := bench.Publish(ctx, bench.PublishOptions{
		Target: t, Concurrency: levels, Duration: cmp.Or(o.duration, 10*time.Second),
		Users: o.users, UserPrefix: o.userPrefix,
	})
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	return res, nil
}
