package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/auth"
	"github.com/herald-notify/herald/internal/config"
	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/sse"
)

const (
	testSecret = "app-test-secret-that-is-at-least-32-bytes"
	testKey    = "app-test-publisher-key-0123"
)

// TestHTTP2StreamOutlivesDeadlines: over HTTP/2 a stream stays in its
// handler (no take-over), where a write deadline left set resets the
// stream once it passes, even while idle. With write and response
// deadlines far shorter than the ping interval, the stream must still be
// open, and delivering, after several of them.
func TestHTTP2StreamOutlivesDeadlines(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"HERALD_ADDR":             "127.0.0.1:0",
		"HERALD_DB":               "sqlite://" + filepath.Join(t.TempDir(), "herald.db"),
		"HERALD_JWT_SECRET":       testSecret,
		"HERALD_PUBLISHER_KEY":    testKey,
		"HERALD_DRAIN_TIMEOUT":    "0s",
		"HERALD_PING_INTERVAL":    "1s",
		"HERALD_WRITE_TIMEOUT":    "200ms",
		"HERALD_RESPONSE_TIMEOUT": "200ms",
	}
	cfg, _, err := config.Load(nil, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	a, err := New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }() // the hub's loop; HTTP/1.1 on its own listener
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	ts := httptest.NewUnstartedServer(a.Handler())
	ts.Config = newHTTPServer(cfg, a.Handler(), log)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer ts.Close()

	tok, err := auth.SignHS256([]byte(testSecret), "hana", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/api/notifications/sse", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("stream: %d over %s", resp.StatusCode, resp.Proto)
	}
	dec := sse.NewDecoder(resp.Body)
	next := func(name string) sse.Received {
		t.Helper()
		for {
			ev, err := dec.Next()
			if err != nil {
				t.Fatalf("stream ended: %v", err)
			}
			if ev.Name == name {
				return ev
			}
		}
	}
	next(notify.EventConnected)
	// Not a synchronisation: several write and response deadlines pass
	// while the stream is idle.
	time.Sleep(1500 * time.Millisecond)
	publish(t, ts, "hana")
	if ev := next(notify.EventNotification); !strings.Contains(ev.Data, "after the deadlines") {
		t.Fatalf("notification %q", ev.Data)
	}
	if dec.Comments < 1 {
		t.Errorf("no ping over 1.5 s at a 1 s interval")
	}
}

func publish(t *testing.T, ts *httptest.Server, user string) {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.URL+"/api/publish/notifications",
		strings.NewReader(`{"userId":"`+user+`","type":"t","title":"after the deadlines"}`))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %d %s", resp.StatusCode, b)
	}
}
