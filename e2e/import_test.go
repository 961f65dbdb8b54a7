package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// writeImport writes a JSON Lines file of n notifications spread over
// users u0…u(users-1) (line i for user i mod users), created a second
// apart a month ago, every tenth of each user's read, and returns its path.
func writeImport(t *testing.T, n, users int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "import.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	base := time.Now().Add(-30 * 24 * time.Hour).UTC()
	for i := range n {
		created := base.Add(time.Duration(i) * time.Second)
		read := ""
		if (i/users)%10 == 0 {
			read = fmt.Sprintf(`,"readAt":%q`, created.Add(time.Minute).Format(time.RFC3339Nano))
		}
		_, _ = fmt.Fprintf(w, `{"userId":"u%d","type":"comment","title":"Old comment %d","message":"from the old table","data":{"row":%d},"link":"/posts/%d","importId":"legacy-%d","createdAt":%q%s}`+"\n",
			i%users, i, i, i, i, created.Format(time.RFC3339Nano), read)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil { // a failed write shows in Flush
		t.Fatal(err)
	}
	return path
}

// runImport runs `herald import path` against url and returns its stdout.
func runImport(t *testing.T, bin, url, path string) string {
	t.Helper()
	cmd := exec.Command(bin, "import", "--url", url, path)
	cmd.Env = append(os.Environ(), "HERALD_PUBLISHER_KEY="+testKey)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("herald import: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// Imported notifications reach no open stream live: the user's streams
// end, and the clients' reconnects replay them as catch-up, with their own
// times and read state, before the unread count. A re-run imports nothing.
func TestImportIsReplayedNotDeliveredLive(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	bin := buildHerald(t)
	st := s.openStream(t, "u1", "")
	st.nextNamed(notify.EventConnected)
	s.publish(t, "u1", "live one")
	last := st.nextNamed(notify.EventNotification).ID

	created := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	readAt := created.Add(time.Hour)
	lines := []string{
		fmt.Sprintf(`{"userId":"u1","type":"comment","title":"old 1","importId":"i1","createdAt":%q}`, created.Format(time.RFC3339)),
		fmt.Sprintf(`{"userId":"u1","type":"comment","title":"old 2","importId":"i2","createdAt":%q,"readAt":%q}`,
			created.Add(time.Minute).Format(time.RFC3339), readAt.Format(time.RFC3339)),
		fmt.Sprintf(`{"userId":"u2","type":"comment","title":"other","importId":"i3","createdAt":%q}`, created.Format(time.RFC3339)),
	}
	path := filepath.Join(t.TempDir(), "old.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := runImport(t, bin, s.URL, path); !strings.HasPrefix(out, "imported 3, skipped 0") {
		t.Fatalf("import: %q", out)
	}

	// The open stream ends, having written nothing of the import.
	for {
		ev, err := st.dec.Next()
		if err != nil {
			break
		}
		if ev.Name == notify.EventNotification {
			t.Fatalf("an imported notification was delivered live: %s", ev.Data)
		}
	}

	// The reconnect replays the import before the count.
	re := s.openStream(t, "u1", last)
	var replayed []notify.Notification
	for {
		ev := re.next()
		if ev.Name == notify.EventUnreadCount {
			if ev.Data != `{"count":2}` {
				t.Errorf("unread count %s, want 2 (the live one and old 1)", ev.Data)
			}
			break
		}
		if ev.Name == notify.EventReset {
			t.Fatalf("reset instead of the replay")
		}
		if ev.Name == notify.EventNotification {
			var n notify.Notification
			mustUnmarshal(t, ev.Data, &n)
			replayed = append(replayed, n)
		}
	}
	if len(replayed) != 2 || replayed[0].Title != "old 1" || replayed[1].Title != "old 2" ||
		!replayed[0].CreatedAt.Equal(created) || replayed[0].ReadAt != nil ||
		replayed[1].ReadAt == nil || !replayed[1].ReadAt.Equal(readAt) {
		t.Fatalf("replayed %+v", replayed)
	}
	_, body := do(t, "GET", s.URL+"/api/notifications", token(t, "u1", time.Hour), nil)
	var page struct{ Notifications []notify.Notification }
	mustUnmarshal(t, string(body), &page)
	if len(page.Notifications) != 3 || page.Notifications[0].Title != "live one" || page.Notifications[2].Title != "old 1" {
		t.Errorf("inbox %s", body)
	}

	if out := runImport(t, bin, s.URL, path); !strings.HasPrefix(out, "imported 0, skipped 3") {
		t.Fatalf("re-run: %q", out)
	}
}

// Erasing a user removes their inbox and read state, ends their streams,
// and makes any id they held unusable: the reconnect is told to reset.
// Broadcasts and other users are untouched.
func TestEraseUserEndsStreamsAndResets(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	s.publish(t, "u1", "private")
	bc, err := publishTo(s.URL, map[string]any{"broadcast": true, "type": "test", "title": "to all"})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := do(t, "POST", s.URL+"/api/notifications/"+bc+"/read", token(t, "u1", time.Hour), nil); code != http.StatusNoContent {
		t.Fatalf("mark read: %d", code)
	}
	u1 := s.openStream(t, "u1", "")
	last := u1.nextNamed(notify.EventConnected).ID
	u2 := s.openStream(t, "u2", "")
	u2.nextNamed(notify.EventConnected)

	if code, body := do(t, "DELETE", s.URL+"/api/admin/users/u1", testKey, nil); code != http.StatusNoContent {
		t.Fatalf("erase: %d %s", code, body)
	}
	for {
		if _, err := u1.dec.Next(); err != nil {
			break // ended
		}
	}
	s.publish(t, "u2", "still here")
	if ev := u2.nextNamed(notify.EventNotification); !strings.Contains(ev.Data, "still here") {
		t.Errorf("u2's stream: %s", ev.Data)
	}

	re := s.openStream(t, "u1", last)
	re.nextNamed(notify.EventConnected)
	if ev := re.next(); ev.Name != notify.EventReset {
		t.Fatalf("after erase, a reconnect with an old id got %s %s, want reset", ev.Name, ev.Data)
	}
	if ev := re.nextNamed(notify.EventUnreadCount); ev.Data != `{"count":1}` {
		t.Errorf("unread after erase %s, want 1 (the broadcast, unread again)", ev.Data)
	}
	_, body := do(t, "GET", s.URL+"/api/notifications", token(t, "u1", time.Hour), nil)
	var page struct{ Notifications []notify.Notification }
	mustUnmarshal(t, string(body), &page)
	if len(page.Notifications) != 1 || page.Notifications[0].ID != bc || page.Notifications[0].ReadAt != nil {
		t.Errorf("u1's inbox after erase %s, want the broadcast only, unread", body)
	}
	if code, _ := do(t, "DELETE", s.URL+"/api/admin/users/u1", testKey, nil); code != http.StatusNoContent {
		t.Errorf("second erase: %d", code)
	}
}

// 100,000 notifications for 1,000 users through `herald import` into a
// server process (no race detector, as in production): every one lands
// once, in the right inbox with the right count, and a re-run imports
// nothing. The rate is logged (go test -v -run Import100k ./e2e/).
func TestImport100kRows(t *testing.T) {
	t.Parallel()
	const rows, users = 100_000, 1000
	bin := buildHerald(t)
	db := storeURL(t)
	srv := startChild(t, bin, db)
	path := writeImport(t, rows, users)

	start := time.Now()
	out := runImport(t, bin, srv.URL, path)
	elapsed := time.Since(start)
	if !strings.HasPrefix(out, fmt.Sprintf("imported %d, skipped 0 (imported before), bad 0", rows)) {
		t.Fatalf("import: %q", out)
	}
	t.Logf("%d rows imported in %s: %.0f rows/s (%s)", rows, elapsed.Round(time.Millisecond),
		float64(rows)/elapsed.Seconds(), strings.SplitN(db, ":", 2)[0])

	for _, u := range []int{0, 1, users / 2, users - 1} {
		user := fmt.Sprintf("u%d", u)
		tok := token(t, user, time.Hour)
		_, body := do(t, "GET", srv.URL+"/api/notifications/unread-count", tok, nil)
		if want := fmt.Sprintf(`{"count":%d}`, rows/users*9/10); strings.TrimSpace(string(body)) != want {
			t.Errorf("%s unread %s, want %s", user, body, want)
		}
		_, body = do(t, "GET", srv.URL+"/api/notifications?limit=1", tok, nil)
		if !strings.Contains(string(body), fmt.Sprintf(`"title":"Old comment %d"`, rows-users+u)) {
			t.Errorf("%s's newest notification: %s", user, body)
		}
	}
	if out := runImport(t, bin, srv.URL, path); !strings.HasPrefix(out, fmt.Sprintf("imported 0, skipped %d", rows)) {
		t.Fatalf("re-run: %q", out)
	}
}
