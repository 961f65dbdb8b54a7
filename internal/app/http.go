package app

import (
	"log/slog"
	"net"
	"net/http"

	"golang.org/x/net/netutil"

	"github.com/herald-notify/herald/internal/config"
)

// headerSlack is what net/http reads beyond Server.MaxHeaderBytes before it
// answers 431 (its bufio read-ahead). newHTTPServer subtracts it so that
// HERALD_MAX_HEADER_BYTES is the largest header block accepted;
// TestHeaderLimit in e2e pins the boundary.
const headerSlack = 4096

// newHTTPServer returns the server for h with every phase of a request
// bounded by cfg (SPEC 6): the headers (ReadHeaderTimeout), the whole
// request with its body (ReadTimeout), the handling and response
// (ResponseTimeout, as net/http's WriteTimeout, counted from the end of the
// headers), the wait between keep-alive requests (IdleTimeout) and the size
// of the header block (MaxHeaderBytes, 431 beyond).
//
// Streams are exempt from the response deadline: over HTTP/1.1 the stream
// takes the connection over (net/http's deadlines no longer apply, see
// hub's hijack), and over HTTP/2 it sets a deadline around each write and
// clears it after, replacing the one set here.
func newHTTPServer(cfg *config.Config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.ResponseTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    max(cfg.MaxHeaderBytes-headerSlack, 1),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// limitListener caps the connections ln holds open at once at n (0: no
// cap), streams included. Beyond it Accept waits, so new connections queue
// in the kernel's backlog, costing the process no file descriptor, until
// one closes.
func limitListener(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		return ln
	}
	return netutil.LimitListener(ln, n)
}
