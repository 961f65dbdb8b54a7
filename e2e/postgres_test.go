package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/testenv"
)

// onPostgresPrefix names the test whose subtests run the store-sensitive
// end-to-end tests again on PostgreSQL.
const onPostgresPrefix = "TestOnPostgres/"

// storeURL returns the HERALD_DB of a fresh, empty store for t: a new SQLite
// file, or a new PostgreSQL database (dropped at cleanup) when t runs under
// TestOnPostgres. This is how the tests below run unchanged on both stores.
func storeURL(t *testing.T) string {
	t.Helper()
	if strings.HasPrefix(t.Name(), onPostgresPrefix) {
		return testenv.Postgres(t)
	}
	return "sqlite://" + filepath.Join(t.TempDir(), "herald.db")
}

// TestOnPostgres runs the end-to-end tests whose guarantees come from the
// store (resume without gap or duplicate, nothing acknowledged lost to
// kill -9, isolation between users, inbox sync, one-time tickets, text the
// database must refuse or skip) on PostgreSQL, exactly as they run on SQLite.
func TestOnPostgres(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Resume", TestResumeWhilePublishingHasNoGapAndNoDuplicate},
		{"BroadcastResume", TestBroadcastSharesTheResume},
		{"Kill9", TestKill9LosesNothingAcknowledged},
		{"Isolation", TestNotificationReachesEveryStreamOfItsUserOnly},
		{"InboxSync", TestInboxChangesAreSyncedToOtherStreams},
		{"Tickets", TestTicketOpensOneStreamOnce},
		{"Import", TestImportIsReplayedNotDeliveredLive},
		{"Import100k", TestImport100kRows},
		{"Erase", TestEraseUserEndsStreamsAndResets},
		{"InvalidText", TestInvalidTextIsRefusedNamingTheField},
		{"StoredRefusedNames", TestStoredEventsUnderRefusedNamesAreSkipped},
	} {
		t.Run(tc.name, tc.fn)
	}
}

// Three Herald processes on one database, each with concurrent publishers
// for one user: the user's stream, replayed from the start, holds every
// acknowledged notification exactly once at positions 1..N.
func TestPostgresPublishersInSeveralProcesses(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	bin := buildHerald(t)
	var children []*child
	for range 3 {
		children = append(children, startChild(t, bin, db))
	}
	const perProcess, each = 4, 50
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		wg    sync.WaitGroup
	)
	for _, c := range children {
		for p := range perProcess {
			wg.Go(func() {
				for i := range each {
					pub := map[string]any{"userId": "shared", "type": "multi", "title": fmt.Sprint(p, "-", i)}
					if i%10 == 0 {
						pub = map[string]any{"userIds": []string{"shared", "other"}, "type": "multi", "title": "two"}
					}
					id, err := publishTo(c.URL, pub)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	total := len(children) * perProcess * each

	s := &server{t: t, URL: children[0].URL}
	first := s.openStream(t, "shared", "")
	cur, err := notify.ParseCursor(first.nextNamed(notify.EventConnected).ID)
	if err != nil {
		t.Fatal(err)
	}
	first.close()
	st := s.openStream(t, "shared", notify.Cursor{Epoch: cur.Epoch}.String())
	var seq int64
	for seq < int64(total) {
		ev := st.nextNamed(notify.EventNotification)
		c, err := notify.ParseCursor(ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.User != seq+1 {
			t.Fatalf("position %d after %d: gap or repeat", c.User, seq)
		}
		seq = c.User
		if id := notificationID(t, ev); !acked[id] {
			t.Fatalf("position %d holds %s, never acknowledged", seq, id)
		} else {
			acked[id] = false // seen
		}
	}
	for id, unseen := range acked { // a two-user publish answers shared's id first
		if unseen {
			t.Errorf("acknowledged %s not replayed", id)
		}
	}
}

// PostgreSQL unreachable at start: one clear line naming HERALD_DB, exit
// status 1, no stack trace.
func TestPostgresDownAtStartIsOneLine(t *testing.T) {
	t.Parallel()
	bin := buildHerald(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "HERALD_ADDR=127.0.0.1:0",
		"HERALD_DB=postgres://herald:hunter2@127.0.0.1:1/herald?sslmode=disable",
		"HERALD_JWT_SECRET="+testSecret, "HERALD_PUBLISHER_KEY="+testKey)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("herald serve with PostgreSQL down: %v, want a non-zero exit\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "HERALD_DB") || strings.Contains(lines[0], "hunter2") ||
		strings.Contains(lines[0], "goroutine") {
		t.Fatalf("output = %q, want one line naming HERALD_DB without the password", out)
	}
}

// PostgreSQL lost while Herald runs: publishes answer 503 (never a false
// 202), /readyz answers 503 naming the store, open streams stay open and
// catch up when the database returns.
func TestPostgresLostWhileRunning(t *testing.T) {
	t.Parallel()
	proxy, db := testenv.PostgresProxy(t, testenv.Postgres(t))
	s := startServer(t, func(env map[string]string) { env["HERALD_DB"] = db })
	st := s.openStream(t, "lena", "")
	st.nextNamed(notify.EventConnected)
	before := s.publish(t, "lena", "before")
	if got := notificationID(t, st.nextNamed(notify.EventNotification)); got != before {
		t.Fatalf("stream got %s, want %s", got, before)
	}

	proxy.Cut()
	code, body := do(t, "POST", s.URL+"/api/publish/notifications", testKey,
		map[string]any{"userId": "lena", "type": "test", "title": "during"})
	if code != http.StatusServiceUnavailable {
		t.Fatalf("publish with the database lost: %d %s, want 503", code, body)
	}
	code, body = do(t, "GET", s.URL+"/readyz", "", nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "store") {
		t.Fatalf("readyz with the database lost: %d %s, want 503 naming the store", code, body)
	}

	proxy.Restore()
	// The pool finds its old connections dead on first use: wait for the
	// store to answer again (a bounded wait, not a timed assertion).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if code, _ := do(t, "GET", s.URL+"/readyz", "", nil); code == http.StatusOK {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("readyz did not recover after the database returned")
		case <-time.After(50 * time.Millisecond):
		}
	}
	after := s.publish(t, "lena", "after")
	if got := notificationID(t, st.nextNamed(notify.EventNotification)); got != after {
		t.Fatalf("stream after the outage got %s, want %s (no false 202 in between)", got, after)
	}
	_, list := do(t, "GET", s.URL+"/api/notifications", token(t, "lena", time.Hour), nil)
	if strings.Count(string(list), `"id"`) != 2 || strings.Contains(string(list), "during") {
		t.Fatalf("inbox after the outage %s, want exactly before and after", list)
	}
}
