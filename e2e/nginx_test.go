package e2e

import (
	"bufio"
	"context"
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
	st := listening(t, front, "nina", "")
	if ct := st.resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type through nginx: %q", ct)
	}
	c := &resumeChecker{t: t}
	c.expect(st, front.publish(t, "nina", "live"))
	c.expect(st, front.publish(t, "nina", "live again"))
	readPing(t, st)
	st.close()

	// Resume through nginx, several times: what was published while the
	// client was away is replayed, once, in order, then live events follow.
	for round := range 3 {
		var missed []string
		for i := range 3 {
			missed = append(missed, front.publish(t, "nina", fmt.Sprint("away ", round, i)))
		}
		st := listening(t, front, "nina", c.last)
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
	byTicket := within(t, ticketStream(t, front, tk.Ticket), readWithin)
	byTicket.nextNamed(notify.EventConnected)
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

// ticketStream opens a stream with ?ticket= and fails unless it is 200.
func ticketStream(t *testing.T, s *server, ticket string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/notifications/sse?ticket="+ticket, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		t.Fatalf("stream by ticket: %d", resp.StatusCode)
	}
	st := &stream{t: t, resp: resp, dec: sse.NewDecoder(resp.Body), cancel: cancel}
	t.Cleanup(st.close)
	return st
}
