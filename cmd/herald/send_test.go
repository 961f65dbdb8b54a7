package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// publishServer records each request it gets and answers with status and
// body.
type publishServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path, auth, contentType string
	body                            map[string]any
}

func newPublishServer(t *testing.T, status int, answer string) *publishServer {
	t.Helper()
	s := &publishServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := recorded{method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type")}
		if err := json.Unmarshal(raw, &rec.body); err != nil {
			t.Errorf("request body is not a JSON object: %q", raw)
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, rec)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *publishServer) only(t *testing.T) recorded {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(s.reqs))
	}
	return s.reqs[0]
}

func TestSend(t *testing.T) {
	t.Parallel()
	const answer = `{"notifications":[{"id":"n1","userId":"u1"}]}`
	tests := []struct {
		name string
		args []string
		want map[string]any
	}{
		{"one user, defaults", []string{"--user", "u1", "--title", "hi"},
			map[string]any{"userId": "u1", "type": "message", "title": "hi"}},
		{"every field", []string{"--user", "u1", "--title", "New comment", "--message", "Ann replied\nsecond line",
			"--type", "comment", "--data", `{"postId": 42}`, "--link", "/posts/42",
			"--idempotency-key", "evt-1", "--collapse-key", "post-42"},
			map[string]any{"userId": "u1", "type": "comment", "title": "New comment", "message": "Ann replied\nsecond line",
				"data": map[string]any{"postId": float64(42)}, "link": "/posts/42", "idempotencyKey": "evt-1", "collapseKey": "post-42"}},
		{"several users", []string{"--users", "a, b,,c", "--title", "hi"},
			map[string]any{"userIds": []any{"a", "b", "c"}, "type": "message", "title": "hi"}},
		{"broadcast", []string{"--broadcast", "--title", "maintenance"},
			map[string]any{"broadcast": true, "type": "message", "title": "maintenance"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newPublishServer(t, http.StatusAccepted, answer+"\n")
			args := append([]string{"send", "--url", srv.URL + "/"}, tt.args...)
			r := herald(t, map[string]string{"HERALD_PUBLISHER_KEY": testKey}, args...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if r.stdout != answer+"\n" {
				t.Errorf("stdout %q, want the server's body", r.stdout)
			}
			req := srv.only(t)
			if req.method != http.MethodPost || req.path != "/api/publish/notifications" {
				t.Errorf("request %s %s", req.method, req.path)
			}
			if req.auth != "Bearer "+testKey || req.contentType != "application/json" {
				t.Errorf("headers: Authorization %q, Content-Type %q", req.auth, req.contentType)
			}
			if !reflect.DeepEqual(req.body, tt.want) {
				t.Errorf("body\n got %v\nwant %v", req.body, tt.want)
			}
		})
	}
}

func TestSendURLAndKeyFromEnvironment(t *testing.T) {
	t.Parallel()
	srv := newPublishServer(t, http.StatusAccepted, `{}`)
	r := herald(t, map[string]string{"HERALD_URL": srv.URL, "HERALD_PUBLISHER_KEY": "env-key-0123456789"},
		"send", "--user", "u1", "--title", "hi")
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if got := srv.only(t).auth; got != "Bearer env-key-0123456789" {
		t.Errorf("Authorization %q", got)
	}
}

func TestSendServerError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, answer string
		status       int
		want         []string
	}{
		{"api error", `{"error":{"code":"invalid","message":"title: must be valid UTF-8 of at most 256 characters"}}`,
			http.StatusBadRequest, []string{"400 Bad Request", "title: must be valid UTF-8 of at most 256 characters", "invalid"}},
		{"unauthorized", `{"error":{"code":"unauthorized","message":"bad publisher key"}}`,
			http.StatusUnauthorized, []string{"401", "bad publisher key"}},
		{"not json", "upstream exploded\n<html>",
			http.StatusBadGateway, []string{"502", `upstream exploded\n<html>`}},
		{"empty", "", http.StatusInternalServerError, []string{"500", "no message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newPublishServer(t, tt.status, tt.answer)
			r := herald(t, map[string]string{"HERALD_PUBLISHER_KEY": testKey}, "send", "--url", srv.URL, "--user", "u1", "--title", "x")
			r.wantOneLineError(t, exitRuntime, tt.want...)
		})
	}
}

func TestSendServerDown(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	r := herald(t, map[string]string{"HERALD_PUBLISHER_KEY": testKey}, "send", "--url", url, "--user", "u1", "--title", "x")
	r.wantOneLineError(t, exitRuntime, "is herald serve running at "+url)
}

func TestSendUsageErrors(t *testing.T) {
	t.Parallel()
	key := map[string]string{"HERALD_PUBLISHER_KEY": testKey}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no audience", key, []string{"--title", "x"}, "exactly one of --user, --users or --broadcast"},
		{"two audiences", key, []string{"--user", "u1", "--broadcast", "--title", "x"}, "exactly one of"},
		{"empty users", key, []string{"--users", " , ", "--title", "x"}, "--users: no user id"},
		{"no title", key, []string{"--user", "u1"}, "--title: required"},
		{"data not json", key, []string{"--user", "u1", "--title", "x", "--data", "{nope"}, "--data: must be a JSON object"},
		{"data an array", key, []string{"--user", "u1", "--title", "x", "--data", "[1]"}, "--data: must be a JSON object"},
		{"bad url", key, []string{"--user", "u1", "--title", "x", "--url", "localhost:8080"}, "--url: must be an http(s) URL"},
		{"no key", nil, []string{"--user", "u1", "--title", "x"}, "HERALD_PUBLISHER_KEY (--publisher-key): required"},
		{"stray argument", key, []string{"--user", "u1", "--title", "x", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Nothing may be sent: the URL points nowhere that answers.
			args := append([]string{"send", "--url", "http://127.0.0.1:1"}, tt.args...)
			r := herald(t, tt.env, args...)
			r.wantOneLineError(t, exitUsage, tt.want)
			if strings.Contains(r.stderr, testKey) {
				t.Errorf("error shows the key: %s", r.stderr)
			}
		})
	}
}
