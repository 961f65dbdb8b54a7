package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"

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

func TestReadyzNamesFailingChecks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) {
		o.Checks = []Check{
			okCheck("store"),
			{Name: "bus", Ping: func(context.Context) error { return errors.New("redis: connection refused") }},
			okCheck("queue"),
		}
	})
	rec := h.do("GET", "/readyz", "")
	wantError(t, rec, http.StatusServiceUnavailable, notify.CodeUnavailable, "bus: redis: connection refused")
	if strings.Contains(rec.Body.String(), "store") || strings.Contains(rec.Body.String(), "queue") {
		t.Errorf("passing checks named: %s", rec.Body)
	}
}

func TestReadyzDraining(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) {
		o.Checks = []Check{okCheck("store")}
		o.Draining = func() bool { return true }
	})
	wantError(t, h.do("GET", "/readyz", ""), http.StatusServiceUnavailable, notify.CodeUnavailable, "draining")
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
		// The store's own answer and the deadline race; either names it.
		wantError(t, rec, http.StatusServiceUnavailable, notify.CodeUnavailable, "store: ")
		if body := rec.Body.String(); !strings.Contains(body, "; queue: timed out") || strings.Contains(body, "bus") {
			t.Errorf("readyz body %s", body)
		}
	})
}
