package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/sse"
	"github.com/herald-notify/herald/internal/testenv"
)

// The tests in this file run Herald behind a real nginx configured by the
// shipped deploy/nginx/herald.conf (upstream servers and listen address
// replaced), and check what docs/scaling.md promises of it.

var (
	upstreamServer = regexp.MustCompile(`(?m)^([ \t]*)server[ \t]+[^;{\n]+;[^\n]*\n`)
	listenLine     = regexp.MustCompile(`(?m)^([ \t]*)listen[ \t]+[^;\n]+;`)
)

// behindNginx starts nginx with deploy/nginx/herald.conf in front of
// backends and returns a server value whose URL is nginx's: the harness's
// helpers (openStream, publish, …) then go through the proxy. The value
// must not be shut down; the backends are.
func behindNginx(t *testing.T, backends ...*server) *server {
	t.Helper()
	shipped, err := os.ReadFile("../deploy/nginx/herald.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(shipped)
	if n := len(upstreamServer.FindAllString(conf, -1)); n == 0 {
		t.Fatal("deploy/nginx/herald.conf: no server line in its upstream block")
	}
	if n := len(listenLine.FindAllString(conf, -1)); n != 1 {
		t.Fatalf("deploy/nginx/herald.conf: %d listen lines, want 1", n)
	}
	first := true
	conf = upstreamServer.ReplaceAllStringFunc(conf, func(line string) string {
		if !first {
			return ""
		}
		first = false
		indent := upstreamServer.FindStringSubmatch(line)[1]
		var b strings.Builder
		for _, s := range backends {
			fmt.Fprintf(&b, "%sserver %s;\n", indent, strings.TrimPrefix(s.URL, "http://"))
		}
		return b.String()
	})
	base := testenv.Nginx(t, func(listen string) string {
		return listenLine.ReplaceAllString(conf, "${1}listen "+listen+";")
	})
	return &server{t: t, URL: base}
}

// pinging is the configuration of backends whose streams ping every second.
func pinging(env map[string]string) { env["HERALD_PING_INTERVAL"] = "1s" }

// get returns the status and body of a GET of url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// resumeChecker reads notifications from successive streams of one user
// and fails on a gap or a repeat in the user's positions.
type resumeChecker struct {
	t    *testing.T
	seq  int64
	last string
}

func (c *resumeChecker) expect(st *stream, id string) {
	c.t.Helper()
	ev := st.nextNamed(notify.EventNotification)
	if got := notificationID(c.t, ev); got != id {
		c.t.Fatalf("got notification %s, want %s", got, id)
	}
	if p := position(c.t, ev.ID); p != c.seq+1 {
		c.t.Fatalf("position %d after %d: gap or repeat", p, c.seq)
	}
	c.seq++
	c.last = ev.ID
}

// One Herald (SQLite) behind nginx: events are not buffered, pings pass,
// resume, tickets and health checks work through the proxy.
func TestNginxInFrontOfOneInstance(t *testing.T) {
	t.Parallel()
	backend := startServer(t, pinging)
	front := behindNginx(t, backend)

	if code, body := get(t, front.URL+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz through nginx: %d %s", code, body)
	}
	if code, _ := get(t, front.URL+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz through nginx: %d", code)
	}

	// A live event arrives while the stream stays open, and then so does a
	// ping: nginx passes each write on as it comes.
	st := listeningVia(t, front, "nina", "")
	if ct := st.resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type through nginx: %q", ct)
	}
	// Herald delimits the stream by closing the connection; nginx re-frames
	// it for its client, so that the end is explicit.
	if te := st.resp.TransferEncoding; len(te) != 1 || te[0] != "chunked" {
		t.Fatalf("Transfer-Encoding through nginx: %q, want chunked", te)
	}
	c := &resumeChecker{t: t}
	c.expect(st, front.publish(t, "nina", "live"))
	c.expect(st, front.publish(t, "nina", "live again"))
	readPing(t, st)
	st.close()
	// The client's close reaches Herald through nginx: the stream is
	// unregistered (else it would count against the per-user limit).
	eventually(t, "stream unregistered after the client left nginx", func() bool {
		return userConns(t, backend, "nina") == 0
	})

	// Resume through nginx, several times: what was published while the
	// client was away is replayed, once, in order, then live events follow.
	for round := range 3 {
		var missed []string
		for i := range 3 {
			missed = append(missed, front.publish(t, "nina", fmt.Sprint("away ", round, i)))
		}
		st := listeningVia(t, front, "nina", c.last)
		for _, id := range missed {
			c.expect(st, id)
		}
		c.expect(st, front.publish(t, "nina", fmt.Sprint("live ", round)))
		st.close()
	}

	// A ticket obtained through nginx opens a stream through nginx.
	code, body := do(t, "POST", front.URL+"/api/notifications/sse/ticket", token(t, "nina", time.Hour), nil)
	if code != http.StatusOK {
		t.Fatalf("ticket through nginx: %d %s", code, body)
	}
	var tk struct{ Ticket string }
	mustUnmarshal(t, string(body), &tk)
	byTicket := ticketStream(t, front, tk.Ticket)
	c.expect(byTicket, front.publish(t, "nina", "by ticket"))
}

// readPing reads st's raw bytes up to a ": ping" comment line (one the
// decoder has already buffered is skipped; pings come every second). The
// stream's decoder must not be used afterwards.
func readPing(t *testing.T, st *stream) {
	t.Helper()
	sc := bufio.NewScanner(st.resp.Body)
	for sc.Scan() {
		if sc.Text() == ": ping" {
			return
		}
	}
	t.Fatalf("stream ended before a ping: %v", sc.Err())
}

// proxiedStream opens a stream at s (nginx) with the query (e.g.
// "?ticket=…") and bearer, resuming from lastID if set, and returns it with
// the status (nil unless 200). Unlike the harness's streams it is bounded
// from the request on: a proxy that buffered the response would hold even
// its head back while pings keep the upstream busy, so everything, the
// head included, must arrive within readWithin or the test fails.
func proxiedStream(t *testing.T, s *server, query, bearer, lastID string) (*stream, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tm := time.AfterFunc(readWithin, cancel)
	t.Cleanup(func() { tm.Stop() })
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/notifications/sse"+query, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("stream through nginx: %v", err)
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

// listeningVia opens a stream for user through nginx (see proxiedStream)
// and reads its connected event.
func listeningVia(t *testing.T, front *server, user, lastID string) *stream {
	t.Helper()
	st, code := proxiedStream(t, front, "", token(t, user, time.Hour), lastID)
	if code != http.StatusOK {
		t.Fatalf("stream for %s through nginx: status %d", user, code)
	}
	st.nextNamed(notify.EventConnected)
	return st
}

// ticketStream opens a stream with ?ticket= through nginx and reads its
// connected event.
func ticketStream(t *testing.T, front *server, ticket string) *stream {
	t.Helper()
	st, code := proxiedStream(t, front, "?ticket="+ticket, "", "")
	if code != http.StatusOK {
		t.Fatalf("stream by ticket through nginx: status %d", code)
	}
	st.nextNamed(notify.EventConnected)
	return st
}

// nginxCluster starts two instances on one fresh PostgreSQL database and
// one Redis channel, pinging every second, behind nginx. It skips (or
// fails in CI) like the other cluster tests when a service is missing.
func nginxCluster(t *testing.T) (front *server, backends []*server) {
	t.Helper()
	bus := testenv.Redis(t)
	db := testenv.Postgres(t)
	for range 2 {
		backends = append(backends, startServer(t, func(env map[string]string) {
			env["HERALD_DB"] = db
			env["HERALD_BUS"] = bus
			pinging(env)
		}))
	}
	return behindNginx(t, backends...), backends
}

// userConns returns how many streams user has on s, asked of s directly.
func userConns(t *testing.T, s *server, user string) int {
	t.Helper()
	code, body := do(t, "GET", s.URL+"/api/admin/stats?userId="+user, testKey, nil)
	if code != http.StatusOK {
		t.Fatalf("stats: %d %s", code, body)
	}
	var st struct{ UserConnections int }
	mustUnmarshal(t, string(body), &st)
	return st.UserConnections
}

// published returns s's herald_published_total for notifications, read
// from its /metrics directly.
func published(t *testing.T, s *server) string {
	t.Helper()
	_, body := get(t, s.URL+"/metrics")
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(line, `herald_published_total{kind="notification"} `); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no herald_published_total in /metrics")
	return ""
}

// Two instances sharing PostgreSQL and Redis behind nginx, round robin:
// streams land on both, publishes routed to either reach both, a ticket
// from one opens a stream on the other.
func TestNginxInFrontOfTwoInstances(t *testing.T) {
	t.Parallel()
	front, s := nginxCluster(t)
	for range 2 { // round robin: once on each instance
		if code, body := get(t, front.URL+"/readyz"); code != http.StatusOK {
			t.Fatalf("readyz through nginx: %d %s", code, body)
		}
	}

	streams := []*stream{listeningVia(t, front, "otto", ""), listeningVia(t, front, "otto", "")}
	for i, b := range s {
		if n := userConns(t, b, "otto"); n != 1 {
			t.Fatalf("instance %d holds %d of otto's 2 streams, want 1 (round robin)", i, n)
		}
	}
	// Two publishes, one routed to each instance: each stream gets the one
	// published on its own instance and the one published on the other.
	ids := []string{front.publish(t, "otto", "one"), front.publish(t, "otto", "two")}
	for i, b := range s {
		if n := published(t, b); n != "1" {
			t.Fatalf("instance %d published %s of the 2 notifications, want 1 (round robin)", i, n)
		}
	}
	for i, st := range streams {
		for _, id := range ids {
			if got := notificationID(t, st.nextNamed(notify.EventNotification)); got != id {
				t.Fatalf("stream %d got %s, want %s", i, got, id)
			}
		}
	}

	code, body := do(t, "POST", front.URL+"/api/notifications/sse/ticket", token(t, "otto", time.Hour), nil)
	if code != http.StatusOK {
		t.Fatalf("ticket through nginx: %d %s", code, body)
	}
	var tk struct{ Ticket string }
	mustUnmarshal(t, string(body), &tk)
	byTicket := ticketStream(t, front, tk.Ticket)
	id := front.publish(t, "otto", "three")
	for i, st := range append(streams, byTicket) {
		if got := notificationID(t, st.nextNamed(notify.EventNotification)); got != id {
			t.Fatalf("stream %d got %s, want %s", i, got, id)
		}
	}
}

// One instance of two is stopped (drained): its client's stream through
// nginx ends, and the reconnect through nginx lands on the other instance
// and resumes with nothing lost; publishing through nginx goes on.
func TestNginxDrainOneOfTwoInstances(t *testing.T) {
	t.Parallel()
	front, s := nginxCluster(t)
	st := listeningVia(t, front, "pia", "")
	c := &resumeChecker{t: t}
	c.expect(st, front.publish(t, "pia", "before"))
	holder, other := s[0], s[1]
	if userConns(t, holder, "pia") == 0 {
		holder, other = other, holder
	}

	holder.shutdown()
	// The instance closed the stream's connection, the end of its
	// close-delimited response; nginx ends the client's response cleanly.
	for {
		if _, err := st.dec.Next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("stream through nginx ended with %v, want a clean end (io.EOF)", err)
			}
			break
		}
	}

	var missed []string
	for i := range 4 { // nginx tries the stopped instance too, then the other
		missed = append(missed, front.publish(t, "pia", fmt.Sprint("while away ", i)))
	}
	resumed := listeningVia(t, front, "pia", c.last)
	if n := userConns(t, other, "pia"); n != 1 {
		t.Fatalf("the remaining instance holds %d streams of pia, want 1", n)
	}
	for _, id := range missed {
		c.expect(resumed, id)
	}
	c.expect(resumed, front.publish(t, "pia", "live again"))
}

// An instance that refuses a new stream with 503 (here: at its
// HERALD_MAX_CONNS) is skipped: nginx retries the stream on the other
// (proxy_next_upstream … http_503), so the client never sees the 503.
func TestNginxRetriesAStreamRefusedWith503(t *testing.T) {
	t.Parallel()
	full := startServer(t, func(env map[string]string) { env["HERALD_MAX_CONNS"] = "1" })
	roomy := startServer(t, nil)
	front := behindNginx(t, full, roomy)
	for i := range 4 {
		user := fmt.Sprint("quinn", i)
		st, code := proxiedStream(t, front, "", token(t, user, time.Hour), "")
		if code != http.StatusOK {
			t.Fatalf("stream %d through nginx: %d, want 200 from the instance with room", i, code)
		}
		st.nextNamed(notify.EventConnected)
	}
	var total int
	for _, b := range []*server{full, roomy} {
		code, body := do(t, "GET", b.URL+"/api/admin/stats", testKey, nil)
		if code != http.StatusOK {
			t.Fatalf("stats: %d %s", code, body)
		}
		var st struct{ Connections int }
		mustUnmarshal(t, string(body), &st)
		total += st.Connections
		if b == full && st.Connections != 1 {
			t.Fatalf("the full instance holds %d streams, want 1", st.Connections)
		}
	}
	if total != 4 {
		t.Fatalf("%d streams open across the instances, want 4", total)
	}
}

// eventually polls cond until it holds, failing the test after readWithin.
// For state only visible by asking (another process's connections).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(readWithin)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", readWithin, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
