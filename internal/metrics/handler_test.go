package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/hub"
)

// metricNames are the families New registers, bar herald_instance_info.
var metricNames = []string{
	"herald_connections",
	"herald_connections_per_user",
	"herald_connections_total",
	"herald_disconnections_total",
	"herald_connections_rejected_total",
	"herald_evictions_total",
	"herald_events_delivered_total",
	"herald_delivery_latency_seconds",
	"herald_events_replayed_total",
	"herald_published_total",
	"herald_publish_duration_seconds",
	"herald_errors_total",
	"herald_queue_lag_seconds",
	"herald_queue_messages_total",
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q, want text/plain", ct)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read scrape: %v", err)
	}
	return string(b)
}

func TestHandlerScrape(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	m := New(reg, "scrape-1")
	m.Connected(1)
	m.Evicted(hub.ReasonSlow)
	m.Delivered(1, 2*time.Millisecond)

	body := scrape(t, Handler(reg))
	for _, name := range metricNames {
		if !strings.Contains(body, "\n# TYPE "+name+" ") {
			t.Errorf("exposition lacks %s", name)
		}
	}
	for _, line := range []string{
		"herald_connections 1",
		`herald_evictions_total{reason="slow_consumer"} 1`,
		`herald_evictions_total{reason="gap"} 0`,
		"herald_events_delivered_total 1",
		`herald_delivery_latency_seconds_bucket{le="0.003"} 1`,
		`herald_instance_info{instance_id="scrape-1"} 1`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(body, "\n"+line) {
			t.Errorf("exposition lacks line %q", line)
		}
	}
}

// NewRegistry returns independent registries, each usable with New.
func TestNewRegistryIndependent(t *testing.T) {
	t.Parallel()
	a, b := NewRegistry(), NewRegistry()
	New(a, "a").Connected(3)
	New(b, "b")
	if body := scrape(t, Handler(b)); !strings.Contains(body, "\nherald_connections 0\n") {
		t.Error("b's registry sees a's connection")
	}
}
