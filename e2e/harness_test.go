// Package e2e holds Herald's end-to-end tests: a real server (in process,
// or a child process for crash tests) on a real SQLite file, driven over
// real HTTP.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/app"
	"github.com/herald-notify/herald/internal/auth"
	"github.com/herald-notify/herald/internal/config"
	"github.com/herald-notify/herald/internal/sse"
)

const (
	testSecret = "e2e-test-secret-that-is-at-least-32-bytes"
	testKey    = "e2e-publisher-key-0123456789"
)

// server is one running Herald.
type server struct {
	t    *testing.T
	URL  string
	App  *app.App
	stop context.CancelFunc
	done chan error
}

// startServer runs Herald in process on a fresh store (see storeURL). mod may adjust
// the configuration. The server is stopped (drained) at cleanup.
func startServer(t *testing.T, mod func(env map[string]string)) *server {
	t.Helper()
	return startServerLogging(t, mod, io.Discard)
}

// startServerLogging is startServer with the server's log written to w, as
// JSON lines at HERALD_LOG_LEVEL.
func startServerLogging(t *testing.T, mod func(env map[string]string), w io.Writer) *server {
	t.Helper()
	env := map[string]string{
		"HERALD_ADDR":          "127.0.0.1:0",
		"HERALD_DB":            storeURL(t), // SQLite, or PostgreSQL under TestOnPostgres
		"HERALD_JWT_SECRET":    testSecret,
		"HERALD_PUBLISHER_KEY": testKey,
		"HERALD_DRAIN_TIMEOUT": "0s",
		"HERALD_LOG_LEVEL":     "error",
	}
	if mod != nil {
		mod(env)
	}
	cfg, _, err := config.Load(nil, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{t: t, URL: "http://" + a.Addr(), App: a, stop: cancel, done: make(chan error, 1)}
	go func() { s.done <- a.Run(ctx) }()
	t.Cleanup(func() { s.shutdown() })
	return s
}

// shutdown drains and stops the server; it is idempotent.
func (s *server) shutdown() {
	s.stop()
	if err, ok := <-s.done; ok {
		if err != nil {
			s.t.Errorf("server: %v", err)
		}
		close(s.done)
		_ = s.App.Close()
	}
}

func token(t *testing.T, user string, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.SignHS256([]byte(testSecret), user, ttl, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request with a bearer credential and returns status and body.
func do(t *testing.T, method, url, bearer string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// publish publishes one notification to user and returns its id.
func (s *server) publish(t *testing.T, user, title string) string {
	t.Helper()
	id, err := s.tryPublish(user, title)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// tryPublish is publish for goroutines other than the test's.
func (s *server) tryPublish(user, title string) (string, error) {
	return publishTo(s.URL, map[string]any{"userId": user, "type": "test", "title": title})
}

// publishTo posts one publication to the server at base and returns the id
// of its (first) notification.
func publishTo(base string, pub map[string]any) (string, error) {
	j, _ := json.Marshal(pub)
	req, _ := http.NewRequest("POST", base+"/api/publish/notifications", bytes.NewReader(j))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("publish: %d %s", resp.StatusCode, body)
	}
	var r struct{ Notifications []struct{ ID string } }
	if err := json.Unmarshal(body, &r); err != nil || len(r.Notifications) == 0 {
		return "", fmt.Errorf("publish response %s", body)
	}
	return r.Notifications[0].ID, nil
}

// stream is an open SSE connection.
type stream struct {
	t      *testing.T
	resp   *http.Response
	dec    *sse.Decoder
	cancel context.CancelFunc
	once   sync.Once
}

// openStream connects as user (with a token) and resumes from lastID if set.
// It fails the test unless the server answers 200.
func (s *server) openStream(t *testing.T, user, lastID string) *stream {
	t.Helper()
	st, code := s.tryStream(t, token(t, user, time.Hour), lastID)
	if code != http.StatusOK {
		t.Fatalf("stream for %s: status %d", user, code)
	}
	return st
}

// openStreamWith opens a stream for user through client.
func (s *server) openStreamWith(t *testing.T, client *http.Client, user string) *stream {
	t.Helper()
	st, code := s.tryStreamWith(t, client, token(t, user, time.Hour), "")
	if code != http.StatusOK {
		t.Fatalf("stream for %s: status %d", user, code)
	}
	return st
}

// tryStream connects with bearer and returns the stream (nil unless 200)
// and the status.
func (s *server) tryStream(t *testing.T, bearer, lastID string) (*stream, int) {
	t.Helper()
	return s.tryStreamWith(t, http.DefaultClient, bearer, lastID)
}

func (s *server) tryStreamWith(t *testing.T, client *http.Client, bearer, lastID string) (*stream, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/notifications/sse", nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode
	}
	st := &stream{t: t, resp: resp, dec: sse.NewDecoder(resp.Body), cancel: cancel}
	t.Cleanup(st.close)
	return st, resp.StatusCode
}

func (st *stream) close() {
	st.once.Do(func() {
		st.cancel()
		st.resp.Body.Close()
	})
}

// next returns the next event; it fails the test if the stream ends.
func (st *stream) next() sse.Received {
	st.t.Helper()
	ev, err := st.dec.Next()
	if err != nil {
		st.t.Fatalf("stream ended: %v", err)
	}
	return ev
}

// nextNamed skips events until one named name.
func (st *stream) nextNamed(name string) sse.Received {
	st.t.Helper()
	for {
		if ev := st.next(); ev.Name == name {
			return ev
		}
	}
}

// notificationID returns the id inside a notification event's data.
func notificationID(t *testing.T, ev sse.Received) string {
	t.Helper()
	var n struct{ ID string }
	if err := json.Unmarshal([]byte(ev.Data), &n); err != nil || n.ID == "" {
		t.Fatalf("notification data %q", ev.Data)
	}
	return n.ID
}

func mustUnmarshal(t *testing.T, data string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(data), v); err != nil {
		t.Fatalf("unmarshal %q: %v", data, err)
	}
}
