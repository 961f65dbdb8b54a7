package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/auth"
	"github.com/herald-notify/herald/internal/notify"
)

func TestStreamRefusesBadCredentials(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	expired, _ := auth.SignHS256([]byte(testSecret), "eve", time.Minute, time.Now().Add(-time.Hour))
	forged, _ := auth.SignHS256([]byte("another-secret-of-at-least-32-bytes!!"), "eve", time.Hour, time.Now())
	b64 := base64.RawURLEncoding.EncodeToString
	algNone := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		b64([]byte(`{"sub":"eve","exp":`+jsonInt(time.Now().Add(time.Hour).Unix())+`}`)) + "."
	valid := token(t, "eve", time.Hour)
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + b64([]byte(`{"sub":"admin","exp":`+jsonInt(time.Now().Add(time.Hour).Unix())+`}`)) + "." + parts[2]

	for name, bearer := range map[string]string{
		"none": "", "garbage": "not.a.jwt", "expired": expired, "forged": forged,
		"alg none": algNone, "tampered claims": tampered, "publisher key": testKey,
	} {
		st, code := s.tryStream(t, bearer, "")
		if code != http.StatusUnauthorized {
			if st != nil {
				st.close()
			}
			t.Errorf("%s: status %d, want 401", name, code)
		}
	}
	// A subscriber token never works on the publisher's routes.
	if code, _ := do(t, "POST", s.URL+"/api/publish/notifications", valid,
		map[string]any{"userId": "eve", "type": "x", "title": "y"}); code != http.StatusUnauthorized {
		t.Errorf("subscriber token on publish: %d, want 401", code)
	}
	if code, _ := do(t, "GET", s.URL+"/api/admin/stats", valid, nil); code != http.StatusUnauthorized {
		t.Errorf("subscriber token on admin: %d, want 401", code)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestConnectionLimitsRefuseWithoutEvicting(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(env map[string]string) {
		env["HERALD_MAX_CONNS_PER_USER"] = "2"
		env["HERALD_MAX_CONNS"] = "3"
	})
	a1 := s.openStream(t, "frank", "")
	s.openStream(t, "frank", "")
	status, header := rawStream(t, s, token(t, "frank", time.Hour))
	if status != http.StatusTooManyRequests || header.Get("Retry-After") == "" {
		t.Fatalf("third stream of a user: %d, Retry-After %q", status, header.Get("Retry-After"))
	}
	s.openStream(t, "grace", "")
	status, header = rawStream(t, s, token(t, "heidi", time.Hour))
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" {
		t.Fatalf("stream over the global limit: %d, Retry-After %q", status, header.Get("Retry-After"))
	}
	// The first connection still works.
	id := s.publish(t, "frank", "still here")
	if got := notificationID(t, a1.nextNamed("notification")); got != id {
		t.Fatalf("existing stream got %s, want %s", got, id)
	}
}

// rawStream opens a stream with bearer, closes it at once and returns the
// status and headers of the answer.
func rawStream(t *testing.T, s *server, bearer string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/api/notifications/sse", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

func TestPublishRejectsBadInputAndStoresNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name, body, field string
		status            int
	}{
		{"no audience", `{"type":"t","title":"x"}`, "userId", 400},
		{"two audiences", `{"userId":"v","userIds":["v"],"type":"t","title":"x"}`, "userId", 400},
		{"empty userIds", `{"userIds":[],"type":"t","title":"x"}`, "userIds", 400},
		{"missing type", `{"userId":"v","title":"x"}`, "type", 400},
		{"bad type", `{"userId":"v","type":"Bad Type","title":"x"}`, "type", 400},
		{"missing title", `{"userId":"v","type":"t"}`, "title", 400},
		{"long title", `{"userId":"v","type":"t","title":"` + long(257) + `"}`, "title", 400},
		{"long message", `{"userId":"v","type":"t","title":"x","message":"` + long(4097) + `"}`, "message", 400},
		{"data not object", `{"userId":"v","type":"t","title":"x","data":[1]}`, "data", 400},
		{"big data", `{"userId":"v","type":"t","title":"x","data":{"a":"` + long(16<<10) + `"}}`, "data", 400},
		{"unknown field", `{"userId":"v","type":"t","title":"x","colour":"red"}`, "colour", 400},
		{"not json", `{"userId":`, "", 400},
		{"trailing data", `{"userId":"v","type":"t","title":"x"} {}`, "", 400},
		{"too large", `{"userId":"v","type":"t","title":"x","message":"` + long(70<<10) + `"}`, "", 413},
	}
	for _, tc := range cases {
		code, body := do(t, "POST", s.URL+"/api/publish/notifications", testKey, tc.body)
		if code != tc.status || !strings.Contains(string(body), tc.field) {
			t.Errorf("%s: %d %s, want %d naming %q", tc.name, code, body, tc.status, tc.field)
		}
	}
	for _, name := range []string{"notification", "notification.read", "connected", "reset", "unread-count", "a b"} {
		code, body := do(t, "POST", s.URL+"/api/publish/events", testKey, map[string]any{"userId": "v", "event": name})
		if code != 400 || !strings.Contains(string(body), "event") {
			t.Errorf("event %q: %d %s, want 400 naming event", name, code, body)
		}
	}
	_, list := do(t, "GET", s.URL+"/api/notifications", token(t, "v", time.Hour), nil)
	if !strings.Contains(string(list), `"notifications":[]`) {
		t.Fatalf("bad input stored something: %s", list)
	}
}

func TestNewlinesCannotBreakOutOfSSEFields(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	st := s.openStream(t, "ivan", "")
	st.nextNamed("connected")
	title := "line one\n\nevent: forged\ndata: {}\r\n"
	code, body := do(t, "POST", s.URL+"/api/publish/notifications", testKey,
		map[string]any{"userId": "ivan", "type": "t", "title": title, "message": "a\rb\r\nc"})
	if code != 202 {
		t.Fatalf("publish: %d %s", code, body)
	}
	ev := st.next()
	for ev.Name == notify.EventUnreadCount || ev.Name == notify.EventLive {
		ev = st.next()
	}
	if ev.Name != "notification" {
		t.Fatalf("got event %q, want notification", ev.Name)
	}
	var n struct{ Title, Message string }
	mustUnmarshal(t, ev.Data, &n)
	if n.Title != title || n.Message != "a\rb\r\nc" {
		t.Fatalf("title %q message %q", n.Title, n.Message)
	}
}
