package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// fileMargin is how many open files the client keeps for itself (its
// binary, stdio, the publisher's connections) below the limit.
const fileMargin = 100

// IdleOptions configures Idle.
type IdleOptions struct {
	Target
	Conns           int           // streams to open, > 0
	Users           int           // distinct users the streams are spread over; 0 for Conns
	UserPrefix      string        // user ids are UserPrefix0 … ; "u" when empty
	PID             int           // the server's process id, to read its RSS; 0 to skip
	Settle          time.Duration // idle time after the last connected event before measuring
	DialConcurrency int           // streams being opened at once; 0 for 64
	// After, when positive, is how long to wait once every stream has
	// closed before reading the server's RSS again (memory given back).
	After time.Duration
}

// IdleResult is what Idle measured. RSS and goroutine figures are -1 when
// they could not be read (no PID, no /metrics), per-connection figures 0.
type IdleResult struct {
	Conns          int     `json:"conns"`
	Users          int     `json:"users"`
	Connected      int64   `json:"connected"`
	Failed         int64   `json:"failed"`
	FirstError     string  `json:"first_error,omitempty"`
	Dropped        int64   `json:"dropped"` // streams that ended while idle
	ConnectSeconds float64 `json:"connect_seconds"`
	RSSBefore      int64   `json:"rss_before_bytes"`
	RSSAfter       int64   `json:"rss_after_bytes"`
	RSSPerConn     float64 `json:"rss_per_conn_bytes"`
	GoroutinesPre  int64   `json:"goroutines_before"`
	GoroutinesPost int64   `json:"goroutines_after"`
	GoroutinesPer  float64 `json:"goroutines_per_conn"`
	// The Go runtime's view, from /metrics, to tell stacks from heap:
	// in-use bytes per connection (after − before) / connected.
	HeapPerConn    float64 `json:"heap_inuse_per_conn_bytes"`
	StackPerConn   float64 `json:"stack_inuse_per_conn_bytes"`
	ConnectLatency Summary `json:"connect_latency"`
	// IdleCPU is the server's CPU use over the settle window, as a share
	// of one core in percent; -1 without a PID.
	IdleCPU float64 `json:"idle_cpu_percent"`
	// RSSLeft is the server's RSS After the streams closed; -1 when not
	// measured.
	RSSLeft int64 `json:"rss_after_left_bytes"`
}

func (o *IdleOptions) check() error {
	switch {
	case o.Conns <= 0:
		return fmt.Errorf("conns: must be positive, got %d", o.Conns)
	case o.Users < 0 || o.Users > o.Conns:
		return fmt.Errorf("users: must be between 1 and conns (%d), got %d", o.Conns, o.Users)
	case o.Settle < 0 || o.After < 0:
		return fmt.Errorf("settle and after must not be negative, got %s and %s", o.Settle, o.After)
	case len(o.Secret) == 0:
		return errors.New("secret: required to sign subscriber tokens")
	}
	if o.Users == 0 {
		o.Users = o.Conns
	}
	if o.UserPrefix == "" {
		o.UserPrefix = "u"
	}
	if o.DialConcurrency <= 0 {
		o.DialConcurrency = 64
	}
	return nil
}

// Idle opens opts.Conns streams, waits for each one's connected event,
// lets them idle for opts.Settle and measures the server's resident memory
// and goroutines against the same figures before the first stream. A
// stream that fails to open is counted, not fatal; the per-connection
// figures divide by the streams connected. The streams are closed before
// Idle returns. The error is for bad options or a run that could not
// start.
func Idle(ctx context.Context, opts IdleOptions) (*IdleResult, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	base, err := opts.base()
	if err != nil {
		return nil, err
	}
	limit, err := RaiseFileLimit()
	if err != nil {
		return nil, err
	}
	if uint64(opts.Conns)+fileMargin > limit {
		return nil, fmt.Errorf("conns: %d streams need more open files than this process may have (%d); "+
			"run several herald bench processes or raise the hard limit", opts.Conns, limit)
	}
	log := opts.logger()
	toks, err := tokens(opts.Secret, userIDs(opts.UserPrefix, opts.Users), 24*time.Hour)
	if err != nil {
		return nil, err
	}
	probe := &http.Client{Transport: newTransport(nil, 1), Timeout: 10 * time.Second}
	defer probe.CloseIdleConnections()

	res := &IdleResult{Conns: opts.Conns, Users: opts.Users}
	res.RSSBefore = readRSS(opts.PID, log)
	pre := readGauges(ctx, probe, base, log)

	tr := newTransport(opts.Sources, 0)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	var (
		wg        sync.WaitGroup
		connected atomic.Int64
		dropped   atomic.Int64
		failed    errorCounter
		connLat   Histogram
		sem       = make(chan struct{}, opts.DialConcurrency)
	)
	start := time.Now()
	log.Info("opening streams", "conns", opts.Conns, "users", opts.Users)
	for i := range opts.Conns {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			stop()
			wg.Wait()
			return nil, ctx.Err()
		}
		wg.Go(func() {
			t0 := time.Now()
			s, err := openStream(runCtx, client, base, toks[i%len(toks)])
			<-sem
			if err != nil {
				failed.add(err)
				return
			}
			connLat.Record(time.Since(t0))
			connected.Add(1)
			defer func() { _ = s.close() }()
			for {
				if _, err := s.dec.Next(); err != nil {
					if runCtx.Err() == nil {
						dropped.Add(1)
					}
					return
				}
			}
		})
	}
	// Wait for the last openings: the semaphore is free when all are done.
	for range opts.DialConcurrency {
		sem <- struct{}{}
	}
	res.ConnectSeconds = time.Since(start).Seconds()
	res.Connected, res.Failed, res.FirstError = connected.Load(), failed.count(), failed.example()
	log.Info("streams open", "connected", res.Connected, "failed", res.Failed, "seconds", res.ConnectSeconds)

	cpu := startCPU(opts.PID, &opts.Target)
	settled := time.Now()
	select {
	case <-time.After(opts.Settle):
	case <-ctx.Done():
		stop()
		wg.Wait()
		return nil, ctx.Err()
	}
	res.IdleCPU = -1
	if used := cpu.stop(); used >= 0 {
		res.IdleCPU = used / time.Since(settled).Seconds() * 100
	}
	res.RSSAfter = readRSS(opts.PID, log)
	post := readGauges(ctx, probe, base, log)
	res.Dropped = dropped.Load()
	res.ConnectLatency = connLat.Summary()
	if n := float64(res.Connected); n > 0 {
		if res.RSSBefore >= 0 && res.RSSAfter >= 0 {
			res.RSSPerConn = float64(res.RSSAfter-res.RSSBefore) / n
		}
	}
	res.GoroutinesPre, res.GoroutinesPost, res.GoroutinesPer = perConn(pre, post, gGoroutines, res.Connected)
	_, _, res.HeapPerConn = perConn(pre, post, gHeapInuse, res.Connected)
	_, _, res.StackPerConn = perConn(pre, post, gStackInuse, res.Connected)
	stop()
	wg.Wait()
	res.RSSLeft = -1
	if opts.After > 0 && opts.PID > 0 {
		log.Info("streams closed; waiting before the last RSS reading", "after", opts.After)
		select {
		case <-time.After(opts.After):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		res.RSSLeft = readRSS(opts.PID, log)
	}
	return res, nil
}

func readRSS(pid int, log *slog.Logger) int64 {
	if pid <= 0 {
		return -1
	}
	v, err := RSS(pid)
	if err != nil {
		log.Warn("no rss", "err", err)
		return -1
	}
	return v
}

// The runtime series Idle reads from the server's /metrics.
const (
	gGoroutines = "go_goroutines"
	gHeapInuse  = "go_memstats_heap_inuse_bytes"
	gStackInuse = "go_memstats_stack_inuse_bytes"
)

func readGauges(ctx context.Context, c *http.Client, base string, log *slog.Logger) map[string]int64 {
	g, err := Gauges(ctx, c, base, gGoroutines, gHeapInuse, gStackInuse)
	if err != nil {
		log.Warn("no runtime metrics", "err", err)
	}
	return g
}

// perConn returns series name before and after (-1 when unknown) and the
// difference per connection (0 when unknown).
func perConn(pre, post map[string]int64, name string, conns int64) (before, after int64, per float64) {
	b, ok1 := pre[name]
	a, ok2 := post[name]
	if !ok1 || !ok2 {
		return -1, -1, 0
	}
	if conns > 0 {
		per = float64(a-b) / float64(conns)
	}
	return b, a, per
}
