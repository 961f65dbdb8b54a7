package httpapi

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

type listBody struct {
	Notifications []map[string]any `json:"notifications"`
	NextCursor    *string          `json:"nextCursor"`
}

func (h *harness) list(token, query string) listBody {
	h.t.Helper()
	rec := h.do("GET", "/api/notifications"+query, "", auth(token)...)
	if rec.Code != http.StatusOK {
		h.t.Fatalf("list %s: %d %s", query, rec.Code, rec.Body)
	}
	var b listBody
	decode(h.t, rec, &b)
	return b
}

func ids(b listBody) []string {
	out := []string{}
	for _, n := range b.Notifications {
		out = append(out, n["id"].(string))
	}
	return out
}

func TestListPagesNewestFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a1, a2, a3 := h.publish("alice", "one"), h.publish("alice", "two"), h.publish("alice", "three")
	h.publish("bob", "not alice's")

	p1 := h.list(aliceToken, "?limit=2")
	if got := ids(p1); !reflect.DeepEqual(got, []string{a3, a2}) || p1.NextCursor == nil {
		t.Fatalf("page 1: %v next %v", got, p1.NextCursor)
	}
	p2 := h.list(aliceToken, "?limit=2&cursor="+*p1.NextCursor)
	if got := ids(p2); !reflect.DeepEqual(got, []string{a1}) || p2.NextCursor != nil {
		t.Fatalf("page 2: %v next %v", got, p2.NextCursor)
	}
	n := p1.Notifications[0]
	for _, k := range []string{"id", "type", "title", "message", "data", "link", "createdAt", "readAt"} {
		if _, ok := n[k]; !ok {
			t.Errorf("notification lacks %q: %v", k, n)
		}
	}
	if n["title"] != "three" || n["readAt"] != nil {
		t.Errorf("notification %v", n)
	}
	if _, ok := n["userId"]; ok {
		t.Error("notification exposes its recipient")
	}
}

func TestListEmptyIsArray(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := h.do("GET", "/api/notifications", "", auth(bobToken)...)
	if got := strings.TrimSpace(rec.Body.String()); got != `{"notifications":[],"nextCursor":null}` {
		t.Errorf("empty inbox = %s", got)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestListUnreadOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a1, a2 := h.publish("alice", "one"), h.publish("alice", "two")
	if rec := h.do("POST", "/api/notifications/"+a2+"/read", "", auth(aliceToken)...); rec.Code != http.StatusNoContent {
		t.Fatalf("read: %d %s", rec.Code, rec.Body)
	}
	if got := ids(h.list(aliceToken, "?unread=true")); !reflect.DeepEqual(got, []string{a1}) {
		t.Errorf("unread = %v", got)
	}
	all := h.list(aliceToken, "?unread=false")
	if got := ids(all); !reflect.DeepEqual(got, []string{a2, a1}) || all.Notifications[0]["readAt"] == nil {
		t.Errorf("all = %v", all.Notifications)
	}
}

func TestListBadParameters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := map[string]string{
		"?limit=0":                           "limit:",
		"?limit=101":                         "limit:",
		"?limit=x":                           "limit:",
		"?limit=":                            "limit:",
		"?limit=-1":                          "limit:",
		"?cursor=../etc":                     "cursor:",
		"?cursor=" + strings.Repeat("a", 65): "cursor:",
		"?unread=maybe":                      "unread:",
	}
	for q, field := range cases {
		rec := h.do("GET", "/api/notifications"+q, "", auth(aliceToken)...)
		wantError(t, rec, http.StatusBadRequest, notify.CodeInvalid, field)
	}
	if got := len(h.list(aliceToken, "?limit=100").Notifications); got != 0 {
		t.Errorf("limit=100: %d", got)
	}
}

func (h *harness) unreadCount(token string) int {
	h.t.Helper()
	rec := h.do("GET", "/api/notifications/unread-count", "", auth(token)...)
	var b struct{ Count int }
	if rec.Code != http.StatusOK {
		h.t.Fatalf("unread-count: %d %s", rec.Code, rec.Body)
	}
	decode(h.t, rec, &b)
	return b.Count
}

func TestMarkReadAndReadAll(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a1 := h.publish("alice", "one")
	h.publish("alice", "two")
	h.publish("alice", "three")
	if n := h.unreadCount(aliceToken); n != 3 {
		t.Fatalf("unread = %d", n)
	}
	for range 2 { // marking twice is not an error
		rec := h.do("POST", "/api/notifications/"+a1+"/read", "", auth(aliceToken)...)
		if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
			t.Fatalf("read: %d %s", rec.Code, rec.Body)
		}
	}
	if n := h.unreadCount(aliceToken); n != 2 {
		t.Errorf("unread after read = %d", n)
	}
	rec := h.do("POST", "/api/notifications/read-all", "", auth(aliceToken)...)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"updated":2}` {
		t.Fatalf("read-all: %d %s", rec.Code, rec.Body)
	}
	if n := h.unreadCount(aliceToken); n != 0 {
		t.Errorf("unread after read-all = %d", n)
	}
	want := []string{"notification", "notification", "notification", "notification.read", "notification.read"}
	if got := h.bus.names(); !reflect.DeepEqual(got, want) {
		t.Errorf("bus = %v, want %v", got, want)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a1, a2 := h.publish("alice", "one"), h.publish("alice", "two")
	rec := h.do("DELETE", "/api/notifications/"+a1, "", auth(aliceToken)...)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	if got := ids(h.list(aliceToken, "")); !reflect.DeepEqual(got, []string{a2}) {
		t.Errorf("after delete: %v", got)
	}
	rec = h.do("DELETE", "/api/notifications/"+a1, "", auth(aliceToken)...)
	wantError(t, rec, http.StatusNotFound, notify.CodeNotFound, "notification not found")
	if got := h.bus.names(); got[len(got)-1] != notify.EventDeleted {
		t.Errorf("bus = %v", got)
	}
}

// TestIsolation: another user's notification answers exactly as one that
// does not exist, for every route that takes an id.
func TestIsolation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a1 := h.publish("alice", "private")
	unknown := "01h00000000000000000000000"
	tooLong := strings.Repeat("a", 65)
	for _, route := range []struct{ method, format string }{
		{"POST", "/api/notifications/%s/read"},
		{"DELETE", "/api/notifications/%s"},
	} {
		path := func(id string) string { return strings.Replace(route.format, "%s", id, 1) }
		ref := h.do(route.method, path(unknown), "", auth(bobToken)...)
		wantError(t, ref, http.StatusNotFound, notify.CodeNotFound, "")
		for _, id := range []string{a1, tooLong} {
			rec := h.do(route.method, path(id), "", auth(bobToken)...)
			if rec.Code != ref.Code || rec.Body.String() != ref.Body.String() {
				t.Errorf("%s %s: %d %s, unknown id gave %d %s", route.method, path(id), rec.Code, rec.Body, ref.Code, ref.Body)
			}
		}
	}
	if got := ids(h.list(aliceToken, "")); !reflect.DeepEqual(got, []string{a1}) || h.unreadCount(aliceToken) != 1 {
		t.Errorf("bob changed alice's inbox: %v", got)
	}
	if got := ids(h.list(bobToken, "")); len(got) != 0 {
		t.Errorf("bob sees %v", got)
	}
}

func TestInboxAuth(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	routes := []struct{ method, path string }{
		{"GET", "/api/notifications"},
		{"GET", "/api/notifications/unread-count"},
		{"POST", "/api/notifications/x/read"},
		{"POST", "/api/notifications/read-all"},
		{"DELETE", "/api/notifications/x"},
		{"POST", "/api/notifications/sse/ticket"},
	}
	for _, r := range routes {
		for _, hdr := range [][]string{nil, auth("bogus"), auth(staleToken), auth(pubKey), {"Cookie", tokenCookie + "=" + pubKey}} {
			rec := h.do(r.method, r.path, "", hdr...)
			wantError(t, rec, http.StatusUnauthorized, notify.CodeUnauth, "")
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", r.method, r.path)
			}
		}
	}
	// The cookie is a credential too.
	rec := h.do("GET", "/api/notifications/unread-count", "", "Cookie", tokenCookie+"="+aliceToken)
	if rec.Code != http.StatusOK {
		t.Errorf("cookie: %d %s", rec.Code, rec.Body)
	}
}

func TestStoreFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.store.setFail(notify.Errorf(notify.CodeUnavailable, "database unavailable"))
	rec := h.do("GET", "/api/notifications/unread-count", "", auth(aliceToken)...)
	wantError(t, rec, http.StatusServiceUnavailable, notify.CodeUnavailable, "database unavailable")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}

	h.store.setFail(errDiskOnFire)
	rec = h.do("GET", "/api/notifications", "", auth(aliceToken)...)
	wantError(t, rec, http.StatusInternalServerError, notify.CodeInternal, "internal error")
	if strings.Contains(rec.Body.String(), "disk") {
		t.Errorf("internal details leaked: %s", rec.Body)
	}
	if !strings.Contains(h.logs.String(), "disk on fire") {
		t.Error("internal error not logged with its details")
	}
}
