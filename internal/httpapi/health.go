package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// checkTimeout bounds each readiness check.
const checkTimeout = 2 * time.Second

type statusResponse struct {
	Status string `json:"status"`
}

// handleHealth serves GET /healthz: 200 while the process can serve HTTP.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, statusResponse{Status: "ok"})
}

// handleReady serves GET /readyz: 200 when every check passes, else 503
// naming the failing checks ("store: …; bus: …"); 503 "draining" once
// shutdown began. Checks run concurrently, each within checkTimeout.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.draining() {
		s.writeError(w, r, notify.Errorf(notify.CodeUnavailable, "draining"))
		return
	}
	if failed := s.runChecks(r.Context()); len(failed) > 0 {
		s.writeError(w, r, notify.Errorf(notify.CodeUnavailable, "%s", strings.Join(failed, "; ")))
		return
	}
	s.writeJSON(w, r, http.StatusOK, statusResponse{Status: "ok"})
}

// runChecks runs every check and returns "name: error" for each failure, in
// the order of Options.Checks. A Ping that ignores its deadline is reported
// as timed out rather than holding the probe.
func (s *Server) runChecks(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	type result struct {
		i   int
		err error
	}
	results := make(chan result, len(s.checks)) // buffered: a late Ping never blocks
	for i, c := range s.checks {
		go func() { results <- result{i, c.Ping(ctx)} }()
	}
	errs := make([]error, len(s.checks))
	done := make([]bool, len(s.checks))
collect:
	for range s.checks {
		select {
		case res := <-results:
			errs[res.i], done[res.i] = res.err, true
		case <-ctx.Done():
			break collect
		}
	}
	var failed []string
	for i, c := range s.checks {
		err := errs[i]
		if !done[i] {
			err = errors.New("timed out")
		}
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "readiness check failed", slog.String("check", c.Name), slog.Any("err", err))
			failed = append(failed, c.Name+": "+err.Error())
		}
	}
	return failed
}
