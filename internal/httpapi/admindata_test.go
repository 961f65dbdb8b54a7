package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// Import keeps the fake's import ids among its idempotency keys, under a
// prefix no publish uses.
func (s *fakeStore) Import(_ context.Context, in notify.ImportInput) (notify.ImportOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return notify.ImportOutput{}, s.fail
	}
	if err := in.Check(); err != nil {
		return notify.ImportOutput{}, err
	}
	var out notify.ImportOutput
	for _, n := range in.Notifications {
		key := "\x00import:" + n.ImportID
		if _, ok := s.idem[key]; ok {
			out.Skipped++
			continue
		}
		s.idem[key] = nil
		s.notes = append(s.notes, n.Notification)
		if n.ReadAt != nil {
			if s.readAt[n.UserID] == nil {
				s.readAt[n.UserID] = map[string]time.Time{}
			}
			s.readAt[n.UserID][n.ID] = *n.ReadAt
		}
		out.Events = append(out.Events, s.event(n.UserID, notify.EventNotification, n.Notification, time.Now()))
		out.Imported++
	}
	return out, nil
}

func (s *fakeStore) EraseUser(_ context.Context, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.notes = slices.DeleteFunc(s.notes, func(n notify.Notification) bool { return n.UserID == user })
	delete(s.readAt, user)
	delete(s.deleted, user)
	for h, tk := range s.tickets {
		if tk.UserID == user {
			delete(s.tickets, h)
		}
	}
	return nil
}

// line is one import line for user, created an hour ago.
func line(user, importID string, extra string) string {
	created := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"userId":%q,"type":"comment","title":"t %s","importId":%q,"createdAt":%q%s}`,
		user, importID, importID, created, extra)
}

func TestImportStoresWithoutLiveDelivery(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	readAt := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	body := line("alice", "a1", "") + "\n\n" + line("alice", "a2", `,"readAt":"`+readAt+`"`) + "\r\n" + line("bob", "b1", "") + "\n"
	rec := h.do("POST", "/api/admin/import", body, append(auth(pubKey), "Content-Type", "application/x-ndjson")...)
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != http.StatusOK || got != `{"imported":3,"skipped":0}` {
		t.Fatalf("import: %d %s", rec.Code, got)
	}
	var page struct{ Notifications []notify.Notification }
	decode(t, h.do("GET", "/api/notifications", "", auth(aliceToken)...), &page)
	if len(page.Notifications) != 2 {
		t.Fatalf("alice's inbox: %+v", page)
	}
	read := 0
	for _, n := range page.Notifications {
		if n.ReadAt != nil {
			read++
		}
	}
	if read != 1 {
		t.Errorf("alice has %d read notifications, want 1 (a2)", read)
	}
	// Nothing rings as a notification: the users' streams are told to end
	// (their clients replay the imports as catch-up).
	names := h.bus.names()
	if len(names) != 2 || names[0] != notify.EventEndStreams || names[1] != notify.EventEndStreams {
		t.Errorf("bus events %v, want one end-streams per user", names)
	}

	rec = h.do("POST", "/api/admin/import", body, auth(pubKey)...)
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != http.StatusOK || got != `{"imported":0,"skipped":3}` {
		t.Errorf("re-import: %d %s", rec.Code, got)
	}
	if n := len(h.bus.names()); n != 2 {
		t.Errorf("a re-import that stored nothing ended streams (%d bus events)", n)
	}
}

func TestImportNamesEveryBadLineAndStoresNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	old := time.Now().Add(-100 * 24 * time.Hour).UTC().Format(time.RFC3339)
	h.srv.svc.Retain(90 * 24 * time.Hour)
	lines := []string{
		line("alice", "ok-1", ""),
		`{"userId":"alice","type":"comment","title":"x","importId":"no-time"}`,
		line("alice", "bad-type", `,"colour":"red"`),
		`not json`,
		line("alice", "ok-1", ""),
		`{"userId":"alice","type":"comment","title":"x","importId":"old","createdAt":"` + old + `"}`,
		line("alice", "read-early", `,"readAt":"2000-01-01T00:00:00Z"`),
		`{"userIds":["alice"],"type":"comment","title":"x","importId":"many","createdAt":"2026-01-01T00:00:00Z"}`,
		line("alice", "ok-2", ""),
	}
	rec := h.do("POST", "/api/admin/import", strings.Join(lines, "\n"), auth(pubKey)...)
	wantError(t, rec, http.StatusBadRequest, notify.CodeInvalid, "line 2: createdAt: required (and 6 more bad lines)")
	var body errorBody
	decode(t, rec, &body)
	want := []string{"2 createdAt", "3 colour", "4 line", "5 importId", "6 createdAt", "7 readAt", "8 userId"}
	var got []string
	for _, l := range body.Error.Lines {
		got = append(got, fmt.Sprintf("%d %s", l.Line, l.Field))
	}
	if !slices.Equal(got, want) {
		t.Errorf("bad lines %v, want %v (all of them: %+v)", got, want, body.Error.Lines)
	}
	if !strings.Contains(body.Error.Lines[3].Message, "repeats line 1") {
		t.Errorf("repeated importId: %+v", body.Error.Lines[3])
	}
	if n := len(h.store.inbox("alice")); n != 0 {
		t.Errorf("a bad request stored %d notifications", n)
	}
}

func TestImportLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tooMany := strings.Repeat(line("alice", "x", "")+"\n", notify.MaxImportLines+1)
	wantError(t, h.do("POST", "/api/admin/import", tooMany, auth(pubKey)...),
		http.StatusRequestEntityTooLarge, notify.CodeTooLarge, "body: must hold at most 10000 lines")
	big := strings.Repeat(" ", notify.MaxImportBytes+1)
	wantError(t, h.do("POST", "/api/admin/import", big, auth(pubKey)...),
		http.StatusRequestEntityTooLarge, notify.CodeTooLarge, "body: must be at most")
	long := line("alice", "long", `,"message":"`+strings.Repeat("m", notify.MaxImportLineBytes)+`"`)
	wantError(t, h.do("POST", "/api/admin/import", long, auth(pubKey)...),
		http.StatusBadRequest, notify.CodeInvalid, "line 1: line: longer than")
	wantError(t, h.do("POST", "/api/admin/import", "\n \n", auth(pubKey)...),
		http.StatusBadRequest, notify.CodeInvalid, "body: no notification")
	wantError(t, h.do("POST", "/api/admin/import", line("alice", "f", ""),
		append(auth(pubKey), "Content-Type", "application/x-www-form-urlencoded")...),
		http.StatusUnsupportedMediaType, codeMediaType, "content-type:")
	for _, hdr := range [][]string{nil, auth(aliceToken), auth(pubKey + "x")} {
		if rec := h.do("POST", "/api/admin/import", line("alice", "a", ""), hdr...); rec.Code != http.StatusUnauthorized {
			t.Errorf("import with %v: %d", hdr, rec.Code)
		}
	}
	if n := len(h.store.inbox("alice")); n != 0 {
		t.Errorf("refused requests stored %d notifications", n)
	}
}

func TestEraseUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.publish("alice", "one")
	h.publish("bob", "two")
	for range 2 { // idempotent
		if rec := h.do("DELETE", "/api/admin/users/alice", "", auth(pubKey)...); rec.Code != http.StatusNoContent {
			t.Fatalf("erase: %d %s", rec.Code, rec.Body)
		}
	}
	if n := len(h.store.inbox("alice")); n != 0 {
		t.Errorf("alice keeps %d notifications", n)
	}
	if n := len(h.store.inbox("bob")); n != 1 {
		t.Errorf("bob has %d notifications, want 1", n)
	}
	var ended []string
	h.bus.mu.Lock()
	for _, e := range h.bus.events {
		if e.Name == notify.EventEndStreams {
			ended = append(ended, e.UserID)
		}
	}
	h.bus.mu.Unlock()
	if !slices.Equal(ended, []string{"alice", "alice"}) {
		t.Errorf("streams ended for %v, want alice's (once per erase)", ended)
	}
	// An id with a slash, escaped in the path.
	if rec := h.do("DELETE", "/api/admin/users/team%2Fann", "", auth(pubKey)...); rec.Code != http.StatusNoContent {
		t.Errorf("erase of an escaped id: %d %s", rec.Code, rec.Body)
	}
	wantError(t, h.do("DELETE", "/api/admin/users/a%01b", "", auth(pubKey)...),
		http.StatusBadRequest, notify.CodeInvalid, "id:")
	for _, hdr := range [][]string{nil, auth(aliceToken)} {
		if rec := h.do("DELETE", "/api/admin/users/bob", "", hdr...); rec.Code != http.StatusUnauthorized {
			t.Errorf("erase with %v: %d", hdr, rec.Code)
		}
	}
	h.store.setFail(fmt.Errorf("disk on fire"))
	if rec := h.do("DELETE", "/api/admin/users/bob", "", auth(pubKey)...); rec.Code != http.StatusInternalServerError {
		t.Errorf("erase with a failing store: %d", rec.Code)
	}
}
