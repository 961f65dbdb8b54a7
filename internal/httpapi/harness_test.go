package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

const (
	pubKey     = "pk-0123456789-publisher-secret"
	aliceToken = "tok-alice-secret-jwt"
	bobToken   = "tok-bob-secret-jwt"
	shortToken = "tok-carol-expires-soon" // carol, expires in 30 s
	staleToken = "tok-dave-already-expired"
	allowedOrg = "https://app.example.com"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// harness is a Server over fakes, with handles on every fake.
type harness struct {
	t       testing.TB
	srv     *Server
	store   *fakeStore
	bus     *fakeBus
	streams *fakeStreamer
	clock   *fakeClock
	logs    *syncBuffer
}

func newHarness(t testing.TB, mutate ...func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, store: newFakeStore(), bus: &fakeBus{}, streams: &fakeStreamer{},
		clock: &fakeClock{now: t0}, logs: &syncBuffer{}}
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	verifier := &fakeVerifier{clock: h.clock, tokens: map[string]fakeToken{
		aliceToken: {"alice", t0.Add(time.Hour)},
		bobToken:   {"bob", t0.Add(time.Hour)},
		shortToken: {"carol", t0.Add(30 * time.Second)},
		staleToken: {"dave", t0.Add(-time.Second)},
	}}
	o := Options{
		Service: notify.NewService(h.store, h.bus, log), Tickets: h.store, Verifier: verifier,
		PublisherKey: pubKey, Streams: h.streams, Stats: fakeStats{}, InstanceID: "inst-1",
		AllowedOrigins: []string{allowedOrg}, Logger: log, Now: h.clock.Now,
	}
	for _, m := range mutate {
		m(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.srv = srv
	return h
}

// do serves one request. hdr holds header name/value pairs.
func (h *harness) do(method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	return rec
}

func auth(token string) []string { return []string{"Authorization", "Bearer " + token} }

// publish stores a notification for user through the API and returns its id.
func (h *harness) publish(user, title string) string {
	h.t.Helper()
	rec := h.do("POST", "/api/publish/notifications",
		`{"userId":"`+user+`","type":"comment","title":"`+title+`"}`, auth(pubKey)...)
	if rec.Code != http.StatusAccepted {
		h.t.Fatalf("publish: %d %s", rec.Code, rec.Body)
	}
	var resp publishResponse
	decode(h.t, rec, &resp)
	return resp.Notifications[0].ID
}

func decode(t testing.TB, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %q: %v", rec.Body, err)
	}
}

// wantError asserts an error response: status, JSON error code, and a
// message starting with msgPrefix.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code notify.Code, msgPrefix string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var body errorBody
	decode(t, rec, &body)
	if body.Error.Code != code {
		t.Errorf("code = %q, want %q (message %q)", body.Error.Code, code, body.Error.Message)
	}
	if !strings.HasPrefix(body.Error.Message, msgPrefix) {
		t.Errorf("message = %q, want prefix %q", body.Error.Message, msgPrefix)
	}
}
