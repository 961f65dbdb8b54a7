package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// checkTimeout bounds each readiness check.
const checkTimeout = 2 * time.Second

// checkLogEvery is how often a readiness check that keeps failing is logged
// again; /readyz may be polled every second.
const checkLogEvery = time.Minute

type statusResponse struct {
	Status string `json:"status"`
}

// handleHealth serves GET /healthz: 200 while the process can serve HTTP.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, statusResponse{Status: "ok"})
}

// handleReady serves GET /readyz: 200 when every check passes, else 503
// whose message names the failing checks and nothing else ("not ready:
// store, bus"), or "not ready: draining" once shutdown began. What went
// wrong (addresses, driver errors) goes to the log only, rate-limited (see
// checkLog). Checks run concurrently, each within checkTimeout.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	var failed []string
	if s.draining() {
		failed = []string{"draining"}
	} else {
		failed = s.runChecks(r.Context())
	}
	if len(failed) == 0 {
		s.writeJSON(w, r, http.StatusOK, statusResponse{Status: "ok"})
		return
	}
	// Not writeError: it would log every poll of an unready instance.
	setRetryAfter(w.Header(), nil)
	s.writeJSON(w, r, http.StatusServiceUnavailable, errorBody{Error: errorDetail{
		Code: notify.CodeUnavailable, Message: "not ready: " + strings.Join(failed, ", "),
	}})
}

// runChecks runs every check and returns the names of those that failed, in
// the order of Options.Checks, reporting each outcome to s.checkLog. A Ping
// that ignores its deadline is reported as timed out rather than holding
// the probe.
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
		s.checkLog.report(ctx, c.Name, err, s.now())
		if err != nil {
			failed = append(failed, c.Name)
		}
	}
	return failed
}

// checkLog logs the outcomes of readiness checks without flooding the log
// when an unready instance is polled every second: a check's first failure
// is logged at once with its error, then again at most every checkLogEvery
// while it keeps failing (with how many failures went unlogged), and its
// recovery once. Its memory is one entry per check name. Safe for
// concurrent use.
type checkLog struct {
	log   *slog.Logger
	mu    sync.Mutex
	state map[string]*checkState
}

type checkState struct {
	failing    bool
	logged     time.Time // when the last failure was logged
	suppressed int       // failures since then, not logged
}

func newCheckLog(log *slog.Logger) *checkLog {
	return &checkLog{log: log, state: make(map[string]*checkState)}
}

// report records one outcome of check name at now (err nil: it passed).
func (l *checkLog) report(ctx context.Context, name string, err error, now time.Time) {
	l.mu.Lock()
	st := l.state[name]
	if st == nil {
		st = &checkState{}
		l.state[name] = st
	}
	wasFailing, suppressed := st.failing, st.suppressed
	logIt := false
	switch {
	case err == nil:
		logIt = wasFailing
		*st = checkState{}
	case !wasFailing || now.Sub(st.logged) >= checkLogEvery:
		logIt = true
		*st = checkState{failing: true, logged: now}
	default:
		st.suppressed++
	}
	l.mu.Unlock()
	switch {
	case !logIt:
	case err == nil:
		l.log.LogAttrs(ctx, slog.LevelInfo, "readiness check recovered", slog.String("check", name))
	default:
		l.log.LogAttrs(ctx, slog.LevelWarn, "readiness check failed", slog.String("check", name),
			slog.Any("err", err), slog.Int("unloggedFailures", suppressed))
	}
}
