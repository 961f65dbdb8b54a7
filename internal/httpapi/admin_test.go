package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

func TestAdminStats(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := h.do("GET", "/api/admin/stats", "", auth(pubKey)...)
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != http.StatusOK || got != `{"connections":7,"users":3,"instance":"inst-1"}` {
		t.Errorf("stats: %d %s", rec.Code, got)
	}
	rec = h.do("GET", "/api/admin/stats?userId=alice", "", auth(pubKey)...)
	if got := strings.TrimSpace(rec.Body.String()); got != `{"connections":7,"users":3,"instance":"inst-1","userConnections":2}` {
		t.Errorf("stats for alice: %s", got)
	}
	rec = h.do("GET", "/api/admin/stats?userId=nobody", "", auth(pubKey)...)
	if !strings.Contains(rec.Body.String(), `"userConnections":0`) {
		t.Errorf("stats for an unknown user: %s", rec.Body)
	}
	rec = h.do("GET", "/api/admin/stats?userId=", "", auth(pubKey)...)
	wantError(t, rec, http.StatusBadRequest, notify.CodeInvalid, "userId:")
}

func TestPublisherAuth(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	routes := []struct{ method, path, body string }{
		{"POST", "/api/publish/notifications", `{"userId":"u1","type":"c","title":"t"}`},
		{"POST", "/api/publish/events", `{"userId":"u1","event":"x"}`},
		{"GET", "/api/admin/stats", ""},
	}
	creds := map[string][]string{
		"none":                 nil,
		"subscriber token":     auth(aliceToken),
		"wrong key":            auth(pubKey + "x"),
		"key prefix":           auth(pubKey[:len(pubKey)-1]),
		"key in a cookie":      {"Cookie", tokenCookie + "=" + pubKey},
		"key in basic auth":    {"Authorization", "Basic " + pubKey},
		"key without a scheme": {"Authorization", pubKey},
	}
	for _, r := range routes {
		for name, hdr := range creds {
			rec := h.do(r.method, r.path, r.body, hdr...)
			if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with %s: %d %s", r.method, r.path, name, rec.Code, rec.Body)
			}
		}
		// The scheme is case-insensitive (RFC 7235).
		rec := h.do(r.method, r.path, r.body, "Authorization", "bearer "+pubKey)
		if rec.Code >= 300 {
			t.Errorf("%s %s with the key: %d %s", r.method, r.path, rec.Code, rec.Body)
		}
	}
	if n := len(h.bus.names()); n != 2 {
		t.Errorf("bus got %d events, want 2 (the authorised publishes only)", n)
	}
}
