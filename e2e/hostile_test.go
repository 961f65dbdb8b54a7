package e2e

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the driver internal/store/sqlite uses, to write behind Herald's back

	"github.com/herald-notify/herald/internal/notify"
)

// tcpStream is a stream opened over a bare TCP connection, for tests that
// send what no HTTP client would.
type tcpStream struct {
	conn net.Conn
	r    *bufio.Reader
}

// dialStream sends a stream request for user to the server at base through
// d (plus extra, bytes sent right after the request) and reads the status
// line.
func dialStream(t *testing.T, d *net.Dialer, base, user, lastID, extra string) *tcpStream {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := d.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	req := "GET /api/notifications/sse HTTP/1.1\r\nHost: " + u.Host + "\r\nAuthorization: Bearer " + token(t, user, time.Hour) + "\r\n"
	if lastID != "" {
		req += "Last-Event-ID: " + lastID + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"+extra); err != nil {
		t.Fatal(err)
	}
	rs := &tcpStream{conn: conn, r: bufio.NewReader(conn)}
	if line, err := rs.r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("stream response %q, %v", line, err)
	}
	return rs
}

// untilLive reads up to the end of the live event; false if the stream
// ends first.
func (rs *tcpStream) untilLive(t *testing.T) bool {
	t.Helper()
	_ = rs.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := rs.r.ReadString('\n')
		if err != nil {
			return false
		}
		if line == "event: live\n" {
			_, err := rs.r.ReadString('\n') // data
			if err == nil {
				_, err = rs.r.ReadString('\n') // blank line
			}
			return err == nil
		}
	}
}

// ended reports whether the server closes the stream within 10 s (the
// bound only turns a hang into a failure).
func (rs *tcpStream) ended(t *testing.T) bool {
	t.Helper()
	_ = rs.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, rs.r)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestBytesSentUpAStreamEndIt: a client sends nothing on an open stream
// (SPEC 3); one that does, after the head or pipelined with the request, is
// disconnected and no longer counted.
func TestBytesSentUpAStreamEndIt(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)

	rs := dialStream(t, &net.Dialer{}, s.URL, "chatty", "", "")
	if !rs.untilLive(t) {
		t.Fatal("stream ended before live")
	}
	if _, err := io.WriteString(rs.conn, "GET / HTTP/1.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if !rs.ended(t) {
		t.Fatal("the stream stayed open after the client sent bytes up it")
	}

	pipelined := dialStream(t, &net.Dialer{}, s.URL, "chatty", "", "x")
	if !pipelined.ended(t) {
		t.Fatal("the stream stayed open with bytes sent after the request")
	}
	_, body := do(t, "GET", s.URL+"/api/admin/stats?userId=chatty", testKey, nil)
	if !strings.Contains(string(body), `"userConnections":0`) {
		t.Fatalf("stats after both streams ended: %s", body)
	}
}

// TestStreamOrder checks SPEC 3's order on a connection: retry, connected,
// reset when the id cannot be used, the replay, unread-count, live, then
// live events.
func TestStreamOrder(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	first := s.openStream(t, "olga", "")
	start := first.nextNamed(notify.EventConnected).ID
	first.close()
	s.publish(t, "olga", "one")
	s.publish(t, "olga", "two")

	names := func(st *stream, n int) []string {
		var out []string
		for range n {
			out = append(out, st.next().Name)
		}
		return out
	}
	for _, tc := range []struct {
		name, lastID string
		want         []string
	}{
		{"resume", start, []string{"connected", "notification", "notification", "unread-count", "live"}},
		{"fresh", "", []string{"connected", "unread-count", "live"}},
		{"reset", "otherdb.1.0", []string{"connected", "reset", "unread-count", "live"}},
	} {
		st := s.openStream(t, "olga", tc.lastID)
		if got := names(st, len(tc.want)); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: events %v, want %v", tc.name, got, tc.want)
		}
		s.publish(t, "olga", "live "+tc.name)
		if ev := st.nextNamed(notify.EventNotification); !strings.Contains(ev.Data, "live "+tc.name) {
			t.Errorf("%s: live event %+v", tc.name, ev)
		}
		st.close()
	}
}

// TestInvalidTextIsRefusedNamingTheField: invalid UTF-8 anywhere in a
// publish (SQLite stored it, PostgreSQL failed with 500) and NUL in title
// or message are 400 naming the field, on every store; nothing is stored.
func TestInvalidTextIsRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	for _, tc := range []struct{ path, body, field string }{
		{"notifications", "{\"userId\":\"w\",\"type\":\"t\",\"title\":\"x\",\"data\":{\"k\":\"caf\xe9\"}}", "data"},
		{"notifications", "{\"userId\":\"w\",\"type\":\"t\",\"title\":\"x\",\"data\":{\"caf\xe9\":1}}", "data"},
		{"notifications", "{\"userId\":\"w\",\"type\":\"t\",\"title\":\"\xff\xfe\"}", "title"},
		{"notifications", "{\"userId\":\"w\",\"type\":\"t\",\"title\":\"x\",\"message\":\"\xed\xa0\x80\"}", "message"},
		{"notifications", "{\"userId\":\"w\",\"type\":\"t\",\"title\":\"x\",\"link\":\"/\xc0\xaf\"}", "link"},
		{"notifications", "{\"userIds\":[\"w\",\"\x80\"],\"type\":\"t\",\"title\":\"x\"}", "userIds"},
		{"notifications", `{"userId":"w","type":"t","title":"a\u0000b"}`, "title"},
		{"notifications", `{"userId":"w","type":"t","title":"x","message":"\u0000"}`, "message"},
		{"events", "{\"userId\":\"w\",\"event\":\"e\",\"data\":{\"k\":\"\xff\"},\"durable\":true}", "data"},
	} {
		code, body := do(t, "POST", s.URL+"/api/publish/"+tc.path, testKey, tc.body)
		if code != 400 || !strings.Contains(string(body), `"message":"`+tc.field+`:`) {
			t.Errorf("%q: %d %s, want 400 naming %s", tc.body, code, body, tc.field)
		}
	}
	// JSON escapes are text like any other, on every store.
	code, body := do(t, "POST", s.URL+"/api/publish/notifications", testKey,
		`{"userId":"w","type":"t","title":"x","data":{"nul":"\u0000","pair":"\ud83d\ude80"}}`)
	if code != 202 {
		t.Fatalf("escaped NUL and surrogate pair in data: %d %s", code, body)
	}
	_, list := do(t, "GET", s.URL+"/api/notifications", token(t, "w", time.Hour), nil)
	var page struct{ Notifications []notify.Notification }
	mustUnmarshal(t, string(list), &page)
	if len(page.Notifications) != 1 || string(page.Notifications[0].Data) != `{"nul":"\u0000","pair":"\ud83d\ude80"}` {
		t.Fatalf("inbox %s, want only the valid notification", list)
	}
}

// TestNamesAndUserIDsAreCheckedWhereTheyEnter: event names EventSource
// treats specially and Herald's own, in any case, are refused; user ids
// with C1 controls, line separators or bidi controls are refused by
// publish, in tokens and by the admin API.
func TestNamesAndUserIDsAreCheckedWhereTheyEnter(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	for _, name := range []string{"message", "error", "open", "live", "Live", "ERROR", "Connected", "Notification.Read", "UNREAD-COUNT", "Reset"} {
		code, body := do(t, "POST", s.URL+"/api/publish/events", testKey, map[string]any{"userId": "v", "event": name, "durable": true})
		if code != 400 || !strings.Contains(string(body), `"message":"event:`) {
			t.Errorf("event %q: %d %s, want 400 naming event", name, code, body)
		}
	}
	for _, id := range []string{"a\u0085b", "a\u009bb", "a\u2028b", "a\u2029b", "a\u202eb", "a\u2066b", "a\u200fb"} {
		code, body := do(t, "POST", s.URL+"/api/publish/notifications", testKey, map[string]any{"userId": id, "type": "t", "title": "x"})
		if code != 400 || !strings.Contains(string(body), `"message":"userId:`) {
			t.Errorf("publish to %q: %d %s, want 400 naming userId", id, code, body)
		}
		code, body = do(t, "POST", s.URL+"/api/publish/events", testKey, map[string]any{"userIds": []string{"ok", id}, "event": "e"})
		if code != 400 || !strings.Contains(string(body), `"message":"userIds[1]:`) {
			t.Errorf("event to %q: %d %s, want 400 naming userIds[1]", id, code, body)
		}
		if _, code := s.tryStream(t, forgeToken(t, id), ""); code != 401 {
			t.Errorf("stream with sub %q: %d, want 401", id, code)
		}
		code, body = do(t, "GET", s.URL+"/api/admin/stats?userId="+url.QueryEscape(id), testKey, nil)
		if code != 400 || !strings.Contains(string(body), `"message":"userId:`) {
			t.Errorf("stats of %q: %d %s, want 400 naming userId", id, code, body)
		}
	}
}

// forgeToken signs, with the server's secret, a token whose sub is id,
// which auth.SignHS256 would refuse to mint.
func forgeToken(t *testing.T, id string) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	claims, err := json.Marshal(map[string]any{"sub": id, "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	signing := b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64(claims)
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(signing))
	return signing + "." + b64(mac.Sum(nil))
}

// TestStoredEventsUnderRefusedNamesAreSkipped writes events straight into
// the database, as a program other than Herald (or an older Herald that
// accepted the name) could: they never reach a stream, neither in a replay
// nor in the gap repair of a live stream, and the position moves past them.
func TestStoredEventsUnderRefusedNamesAreSkipped(t *testing.T) {
	t.Parallel()
	var db string
	s := startServer(t, func(env map[string]string) { db = env["HERALD_DB"] })
	s.publish(t, "mallory", "before") // seq 1
	first := s.openStream(t, "mallory", "")
	start, err := notify.ParseCursor(first.nextNamed(notify.EventConnected).ID)
	if err != nil {
		t.Fatal(err)
	}
	first.close()
	forged := []string{"error", "Connected", "live", "message",
		"x\nid: forged.9.9\nevent: notification\ndata: {\"id\":\"forged\"}\n", "bad name"}
	for _, name := range forged { // seq 2..7
		insertEvent(t, db, "mallory", name, `{"id":"forged"}`)
	}
	s.publish(t, "mallory", "after") // seq 8

	replayed := s.openStream(t, "mallory", notify.Cursor{Epoch: start.Epoch}.String())
	replayed.nextNamed(notify.EventConnected)
	for _, want := range []struct {
		title string
		seq   int64
	}{{"before", 1}, {"after", 8}} {
		ev := replayed.next()
		cur, _ := notify.ParseCursor(ev.ID)
		if ev.Name != notify.EventNotification || !strings.Contains(ev.Data, want.title) || cur.User != want.seq {
			t.Fatalf("replayed %+v, want notification %q at %d", ev, want.title, want.seq)
		}
	}
	for _, want := range []string{notify.EventUnreadCount, notify.EventLive} {
		if ev := replayed.next(); ev.Name != want {
			t.Fatalf("after the replay %+v, want %s", ev, want)
		}
	}
	// Live: the forged event is not on the bus, so the next notification
	// shows a gap, which the stream fills from the store, skipping it.
	insertEvent(t, db, "mallory", "error", `{}`) // seq 9
	s.publish(t, "mallory", "live")              // seq 10
	ev := replayed.next()
	cur, _ := notify.ParseCursor(ev.ID)
	if ev.Name != notify.EventNotification || !strings.Contains(ev.Data, `"live"`) || cur.User != 10 {
		t.Fatalf("after a forged event, live got %+v, want the notification at 10", ev)
	}
}

// insertEvent appends an event to stream directly in the database at db (a
// HERALD_DB URL), with its position, as Herald's own append would.
func insertEvent(t *testing.T, db, stream, name, data string) {
	t.Helper()
	insert := `INSERT INTO events (stream, seq, name, data, created_at)
		SELECT stream, last_seq + 1, $2, $3, $4 FROM streams WHERE stream = $1`
	bump := `UPDATE streams SET last_seq = last_seq + 1 WHERE stream = $1`
	now := time.Now().UTC()
	if path, ok := strings.CutPrefix(db, "sqlite://"); ok {
		conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := conn.Close(); err != nil {
				t.Error(err)
			}
		}()
		tx, err := conn.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{{insert, []any{stream, name, data, now.UnixMicro()}}, {bump, []any{stream}}} {
			if _, err := tx.Exec(strings.ReplaceAll(q.sql, "$", "?"), q.args...); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		return
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := conn.Close(ctx); err != nil {
			t.Error(err)
		}
	}()
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// The stream row's lock orders this append with Herald's.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM streams WHERE stream = $1 FOR UPDATE`, stream); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, insert, stream, name, data, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, bump, stream)
		return err
	})
	if err != nil {
		t.Fatal(fmt.Errorf("insert event: %w", err))
	}
}
