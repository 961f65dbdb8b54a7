package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// debugListen binds HERALD_DEBUG_ADDR for the profiling endpoints, on
// loopback when the address names no host. It returns nil without a setting.
func debugListen(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("HERALD_DEBUG_ADDR (--debug-addr): %w", err)
	}
	if host == "" {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("HERALD_DEBUG_ADDR (--debug-addr): %w", err)
	}
	return ln, nil
}

// debugHandler serves net/http/pprof under /debug/pprof/ on its own mux:
// nothing of it is reachable through the public listener.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// serveDebug serves the profiling endpoints on ln until ctx ends.
func (a *App) serveDebug(ctx context.Context, ln net.Listener) {
	srv := &http.Server{
		Handler:           debugHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		// A CPU profile or trace runs for its ?seconds= (30 s by default).
		WriteTimeout: 5 * time.Minute,
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close() // profiles in progress are cut short; nothing to keep
	}()
	a.log.Info("debug listener (pprof)", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.log.Warn("debug listener stopped", "err", err)
	}
}
