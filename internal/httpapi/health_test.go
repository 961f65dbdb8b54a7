package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

func okCheck(name string) Check {
	return Check{Name: name, Ping: func(context.Context) error { return nil }}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.Draining = func() bool { return true } })
	rec := h.do("GET", "/healthz", "")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
		t.Errorf("healthz: %d %s", rec.Code, rec.Body)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.Checks = []Check{okCheck("store"), okCheck("bus"), okCheck("queue")} })
	if rec := h.do("GET", "/readyz", ""); rec.Code != http.StatusOK {
		t.Errorf("readyz: %d %s", rec.Code, rec.Body)
	}
}

// TestReadyzNamesFailingChecks: the answer names the failing checks and
// nothing of their errors (addresses, driver messages); the log has the
// detail.
func TestReadyzNamesFailingChecks(t *testing.T) {
	t.Parallel()
	detail := "dial tcp 10.1.2.3:6379: connect: connection refused (user herald)"
	h := newHarness(t, func(o *Options) {
		o.Checks = []Check{
			okCheck("store"),
			{Name: "bus", Ping: func(context.Context) error { return errors.New(detail) }},
			okCheck("queue"),
		}
	})
	rec := h.do("GET", "/readyz", "")
	wantError(t, rec, http.StatusServiceUnavailable, notify.CodeUnavailable, "not ready: bus")
	body := rec.Body.String()
	for _, leak := range []string{"10.1.2.3", "6379", "refused", "herald", "store", "queue"} {
		if strings.Contains(body, leak) {
			t.Errorf("readyz body %s holds %q", body, leak)
		}
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if logs := h.logs.String(); !strings.Contains(logs, "10.1.2.3:6379") || !strings.Contains(logs, `"check":"bus"`) {
		t.Errorf("the log lacks the detail:\n%s", logs)
	}
}

func TestReadyzDraining(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) {
		o.Checks = []Check{okCheck("store")}
		o.Draining = func() bool { return true }
	})
	wantError(t, h.do("GET", "/readyz", ""), http.StatusServiceUnavailable, notify.CodeUnavailable, "not ready: draining")
}

// TestReadyzTimeouts: checks run concurrently under a 2 s deadline, and one
// that ignores its deadline is reported rather than holding the probe.
func TestReadyzTimeouts(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		h := newHarness(t, func(o *Options) {
			o.Checks = []Check{
				{Name: "store", Ping: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
				{Name: "queue", Ping: func(context.Context) error { <-release; return nil }},
				okCheck("bus"),
			}
		})
		rec := h.do("GET", "/readyz", "")
		close(release)
		wantError(t, rec, http.StatusServiceUnavailable, notify.CodeUnavailable, "not ready: store, queue")
		if logs := h.logs.String(); !strings.Contains(logs, "timed out") {
			t.Errorf("the log does not say the queue check timed out:\n%s", logs)
		}
	})
}

// TestReadyzLogIsRateLimited: an unready instance polled every second logs
// a check's failure once a minute (with the count of failures in between),
// and its recovery once.
func TestReadyzLogIsRateLimited(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var failing = true
	h := newHarness(t, func(o *Options) {
		o.Checks = []Check{{Name: "store", Ping: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			if failing {
				return errors.New("disk I/O error")
			}
			return nil
		}}}
	})
	for range 150 { // two and a half minutes of polls, one a second
		if rec := h.do("GET", "/readyz", ""); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("readyz: %d", rec.Code)
		}
		h.clock.Advance(time.Second)
	}
	if n := strings.Count(h.logs.String(), "readiness check failed"); n != 3 {
		t.Errorf("150 failing polls over 150 s logged %d failures, want 3 (at 0, 60 and 120 s)", n)
	}
	if !strings.Contains(h.logs.String(), `"unloggedFailures":59`) {
		t.Errorf("the repeated failure does not count the unlogged ones:\n%s", h.logs)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	for range 5 {
		if rec := h.do("GET", "/readyz", ""); rec.Code != http.StatusOK {
			t.Fatalf("readyz after recovery: %d", rec.Code)
		}
	}
	if n := strings.Count(h.logs.String(), "readiness check recovered"); n != 1 {
		t.Errorf("recovery logged %d times, want once", n)
	}
}
