// Package app wires Herald's adapters into a running server: it opens the
// store and the bus named by the configuration, builds the hub, the service
// and the HTTP API, and runs them until told to stop, draining on the way
// out. cmd/herald and the end-to-end tests both build an App.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/herald-notify/herald/internal/auth"
	"github.com/herald-notify/herald/internal/bus/memory"
	redisbus "github.com/herald-notify/herald/internal/bus/redis"
	"github.com/herald-notify/herald/internal/config"
	"github.com/herald-notify/herald/internal/httpapi"
	"github.com/herald-notify/herald/internal/hub"
	"github.com/herald-notify/herald/internal/metrics"
	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/queue/sqs"
)

// pruneEvery is how often retention pruning runs.
const pruneEvery = 10 * time.Minute

// App is one Herald server process. Build it with New, then Listen and Run;
// Close releases what New opened.
type App struct {
	cfg *config.Config
	log *slog.Logger

	Store   notify.Store
	Bus     notify.Bus
	Hub     *hub.Hub
	Service *notify.Service
	Streams *hub.Streamer

	verifier httpapi.Verifier
	handler  http.Handler
	ln       net.Listener
	debugLn  net.Listener  // HERALD_DEBUG_ADDR; nil without
	queue    *sqs.Consumer // nil without HERALD_QUEUE; see queue.go
}

// New opens the store and the bus and builds the server. cfg must be valid.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log}
	ok := false
	defer func() {
		if !ok {
			_ = a.Close()
		}
	}()

	store, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a.Store = store

	switch {
	case cfg.Bus == "memory":
		a.Bus = memory.New()
	case strings.HasPrefix(cfg.Bus, "redis://") || strings.HasPrefix(cfg.Bus, "rediss://"):
		b, err := redisbus.New(ctx, cfg.Bus, redisbus.Options{
			// Runs on the bus's goroutine, which Subscribe (below, after
			// a.Hub is set) starts: after every (re)subscription the
			// streams catch up on what Redis may have dropped meanwhile.
			OnSubscribe: func() { a.Hub.Resync() },
			Logger:      log,
		})
		if err != nil {
			return nil, fmt.Errorf("HERALD_BUS (--bus): %s: %w", redacted(cfg.Bus), oneLine(err))
		}
		a.Bus = b
	default:
		return nil, fmt.Errorf("HERALD_BUS (--bus): %q is not supported by this build", cfg.Bus)
	}

	switch {
	case cfg.JWKSURL != "":
		v, err := auth.NewJWKS(ctx, cfg.JWKSURL, auth.Options{})
		if err != nil {
			return nil, fmt.Errorf("HERALD_JWKS_URL (--jwks-url): %w", err)
		}
		a.verifier = v
	default:
		v, err := auth.NewHMAC([]byte(cfg.JWTSecret), auth.Options{})
		if err != nil {
			return nil, fmt.Errorf("HERALD_JWT_SECRET (--jwt-secret): %w", err)
		}
		a.verifier = v
	}

	if cfg.NextAuthSecret != "" {
		na, err := auth.NewNextAuth([]byte(cfg.NextAuthSecret), auth.Options{})
		if err != nil {
			return nil, fmt.Errorf("HERALD_NEXTAUTH_SECRET (--nextauth-secret): %w", err)
		}
		a.verifier = auth.WithSessions(a.verifier, na)
	}

	reg := metrics.NewRegistry()
	m := metrics.New(reg, cfg.InstanceID)
	a.Hub = hub.New(hub.Options{
		MaxConnsPerUser: cfg.MaxConnsPerUser,
		MaxConns:        cfg.MaxConns,
		QueueSize:       cfg.QueueSize,
		Metrics:         m,
		Logger:          log,
	})
	if err := a.Bus.Subscribe(a.Hub.Dispatch); err != nil {
		return nil, fmt.Errorf("subscribe to bus: %w", err)
	}
	a.Service = notify.NewService(a.Store, a.Bus, log).Observe(m).Retain(cfg.Retention)
	if err := a.openQueue(ctx, m); err != nil {
		return nil, err
	}
	a.Streams = hub.NewStreamer(a.Hub, a.Store, hub.StreamOptions{
		PingInterval: cfg.PingInterval,
		WriteTimeout: cfg.WriteTimeout,
		ReplayLimit:  cfg.ReplayLimit,
	})
	api, err := httpapi.New(httpapi.Options{
		Service:        a.Service,
		Tickets:        a.Store,
		Verifier:       a.verifier,
		PublisherKey:   string(cfg.PublisherKey),
		Streams:        a.Streams,
		Stats:          a.Hub,
		InstanceID:     cfg.InstanceID,
		AllowedOrigins: cfg.AllowedOrigins,

		TicketsPerMinute:  cfg.TicketsPerMinute,
		MaxTicketsPerUser: cfg.MaxTicketsPerUser,
		Checks: append([]httpapi.Check{
			{Name: "store", Ping: a.Store.Ping},
			{Name: "bus", Ping: a.Bus.Ping},
		}, a.queueChecks()...),
		Draining: a.Hub.Draining,
		Metrics:  metrics.Handler(reg),
		Web:      webHandler(cfg),
		Logger:   log,
	})
	if err != nil {
		return nil, err
	}
	a.handler = api
	ok = true
	return a, nil
}

// Handler returns the HTTP API (for tests that serve it themselves).
func (a *App) Handler() http.Handler { return a.handler }

// Listen binds cfg.Addr, holding at most cfg.MaxAcceptedConns connections
// at once when that is set. Addr reports the address bound (useful with :0).
func (a *App) Listen() error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("HERALD_ADDR (--addr): %w", err)
	}
	a.ln = limitListener(ln, a.cfg.MaxAcceptedConns)
	dl, err := debugListen(a.cfg.DebugAddr)
	if err != nil {
		_ = ln.Close()
		return err
	}
	a.debugLn = dl
	return nil
}

// DebugAddr returns the bound profiling address, "" without one.
func (a *App) DebugAddr() string {
	if a.debugLn == nil {
		return ""
	}
	return a.debugLn.Addr().String()
}

// Addr returns the bound listen address, "" before Listen.
func (a *App) Addr() string {
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// Run serves on the listener bound by Listen until ctx ends, then drains:
// new streams get 503, open streams are ended spread over DrainTimeout,
// in-flight requests finish, and Run returns.
func (a *App) Run(ctx context.Context) error {
	if a.ln == nil {
		if err := a.Listen(); err != nil {
			return err
		}
	}
	srv := newHTTPServer(a.cfg, a.handler, a.log)
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.Hub.Run(bg, a.Store.State) })
	wg.Go(func() { a.pruneLoop(bg) })
	if a.debugLn != nil {
		wg.Go(func() { a.serveDebug(bg, a.debugLn) })
	}
	stopQueue := a.startQueue(ctx) // stops with ctx, in-flight messages finished
	defer func() {
		stopQueue()
		stopBG()
		wg.Wait()
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.ln) }()
	a.log.Info("herald listening", "addr", a.Addr(), "db", scheme(a.cfg.DB), "bus", a.cfg.Bus)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("draining", "streams", a.Hub.Connections(), "window", a.cfg.DrainTimeout)
	a.Hub.Drain(context.Background(), a.cfg.DrainTimeout)
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		a.log.Warn("shutdown incomplete", "err", err)
	}
	a.Streams.Wait() // streams run outside net/http once taken over
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.log.Info("stopped")
	return nil
}

// pruneLoop deletes what is older than the retention, at start and then
// every pruneEvery.
func (a *App) pruneLoop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := a.Store.Prune(ctx, time.Now().Add(-a.cfg.Retention))
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Warn("prune failed", "err", err)
		case n > 0:
			a.log.Info("pruned", "rows", n)
			a.Hub.RefreshCounts() // retention may have removed unread notifications
		}
		t.Reset(pruneEvery)
	}
}

// Close releases the store, the bus and the verifier.
func (a *App) Close() error {
	var errs []error
	if c, ok := a.verifier.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	if a.Bus != nil {
		errs = append(errs, a.Bus.Close())
	}
	if a.Store != nil {
		errs = append(errs, a.Store.Close())
	}
	if a.ln != nil {
		_ = a.ln.Close() // already closed by Shutdown after Run
	}
	return errors.Join(errs...)
}
