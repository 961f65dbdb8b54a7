package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/testenv"
)

// readWithin is how long a test waits for an event it expects before it
// fails: generous, as it only bounds a test that would otherwise hang.
const readWithin = 15 * time.Second

// cluster starts n Herald servers sharing one fresh PostgreSQL database and
// one Redis bus channel (unique to the test). bus, when not nil, may change
// the bus URL of server i (to route it through a proxy).
func cluster(t *testing.T, n int, bus func(i int, url string) string) []*server {
	t.Helper()
	busURL := testenv.Redis(t)
	db := testenv.Postgres(t)
	servers := make([]*server, n)
	for i := range servers {
		u := busURL
		if bus != nil {
			u = bus(i, u)
		}
		servers[i] = startServer(t, func(env map[string]string) {
			env["HERALD_DB"] = db
			env["HERALD_BUS"] = u
		})
	}
	return servers
}

// within ends st after d, so that a read waiting for an event that never
// comes fails the test ("stream ended") instead of hanging it.
func within(t *testing.T, st *stream, d time.Duration) *stream {
	t.Helper()
	tm := time.AfterFunc(d, st.close)
	t.Cleanup(func() { tm.Stop() })
	return st
}

// listening opens a stream for user on s and reads up to its first unread
// count, after which it receives live events.
func listening(t *testing.T, s *server, user, lastID string) *stream {
	t.Helper()
	st := within(t, s.openStream(t, user, lastID), readWithin)
	st.nextNamed(notify.EventConnected)
	return st
}

// position returns the user position of a durable event.
func position(t *testing.T, ev string) int64 {
	t.Helper()
	c, err := notify.ParseCursor(ev)
	if err != nil {
		t.Fatalf("event id %q: %v", ev, err)
	}
	return c.User
}

// A notification published on any instance reaches the user's streams on
// every instance, whichever instance each stream is connected to.
func TestClusterDeliversToStreamsOnEveryInstance(t *testing.T) {
	t.Parallel()
	s := cluster(t, 3, nil)
	streams := []*stream{listening(t, s[0], "ann", ""), listening(t, s[1], "ann", ""), listening(t, s[2], "ann", "")}
	other := listening(t, s[1], "bob", "")
	for i, pub := range s {
		id := pub.publish(t, "ann", fmt.Sprint("from instance ", i))
		for j, st := range streams {
			if got := notificationID(t, st.nextNamed(notify.EventNotification)); got != id {
				t.Fatalf("stream on instance %d got %s, want %s published on instance %d", j, got, id, i)
			}
		}
	}
	// bob's stream shares instance 1 with one of ann's and receives none
	// of hers: the next notification it sees is its own.
	id := s[2].publish(t, "bob", "for bob")
	if got := notificationID(t, other.nextNamed(notify.EventNotification)); got != id {
		t.Fatalf("bob's stream got %s, want %s", got, id)
	}
}

// A ticket is valid once, on any instance: issued by A, it opens a stream
// on B, and a second use on A or B is refused.
func TestClusterTicketIssuedOnOneInstanceOpensOnAnotherOnce(t *testing.T) {
	t.Parallel()
	s := cluster(t, 2, nil)
	code, body := do(t, "POST", s[0].URL+"/api/notifications/sse/ticket", token(t, "cai", time.Hour), nil)
	if code != http.StatusOK {
		t.Fatalf("ticket: %d %s", code, body)
	}
	var tk struct{ Ticket string }
	mustUnmarshal(t, string(body), &tk)
	open := func(base string) int {
		resp, err := http.Get(base + "/api/notifications/sse?ticket=" + tk.Ticket)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := open(s[1].URL); code != http.StatusOK {
		t.Fatalf("ticket from A on B: %d, want 200", code)
	}
	for i, srv := range s {
		if code := open(srv.URL); code != http.StatusUnauthorized {
			t.Fatalf("second use of the ticket on instance %d: %d, want 401", i, code)
		}
	}
}

// Marking read through instance B tells the user's stream on instance A.
func TestClusterMarkReadOnOneInstanceReachesStreamsOnAnother(t *testing.T) {
	t.Parallel()
	s := cluster(t, 2, nil)
	id := s[1].publish(t, "dee", "read me")
	st := listening(t, s[0], "dee", "")
	if ev := st.nextNamed(notify.EventUnreadCount); ev.Data != `{"count":1}` {
		t.Fatalf("initial count %s", ev.Data)
	}
	dee := token(t, "dee", time.Hour)
	if code, body := do(t, "POST", s[1].URL+"/api/notifications/"+id+"/read", dee, nil); code != http.StatusNoContent {
		t.Fatalf("mark read on B: %d %s", code, body)
	}
	if ev := st.nextNamed(notify.EventRead); ev.Data != `{"ids":["`+id+`"]}` || ev.ID == "" {
		t.Fatalf("read event on A: %+v", ev)
	}
	if ev := st.nextNamed(notify.EventUnreadCount); ev.Data != `{"count":0}` {
		t.Fatalf("count on A after read on B: %s", ev.Data)
	}
}

// A client that reconnects to another instance (no sticky sessions)
// resumes there from the id the first instance gave it.
func TestClusterResumeOnAnotherInstance(t *testing.T) {
	t.Parallel()
	s := cluster(t, 2, nil)
	first := listening(t, s[0], "eve", "")
	var ids []string
	for i := range 6 {
		ids = append(ids, s[i%2].publish(t, "eve", fmt.Sprint("n", i)))
	}
	var last string
	for _, want := range ids[:3] {
		ev := first.nextNamed(notify.EventNotification)
		if got := notificationID(t, ev); got != want {
			t.Fatalf("on A got %s, want %s", got, want)
		}
		last = ev.ID
	}
	first.close()

	resumed := listening(t, s[1], "eve", last)
	ids = append(ids, s[0].publish(t, "eve", "live, from A"))
	for _, want := range ids[3:] {
		ev := resumed.nextNamed(notify.EventNotification)
		if got := notificationID(t, ev); got != want {
			t.Fatalf("resumed on B got %s, want %s (replay from A's id %s)", got, want, last)
		}
	}
}

// Instance B loses its Redis connection: notifications published on A
// meanwhile never reach B over the bus. When B resubscribes it makes its
// streams catch up from the store (nothing else is published to reveal the
// gap), and live delivery resumes, with no gap and no duplicate. While cut,
// B answers /readyz with 503 naming the bus, and publishing through B still
// succeeds (the store has it; the bus error is only logged).
func TestClusterStreamGetsEverythingAcrossALostRedisSubscription(t *testing.T) {
	t.Parallel()
	var proxy *testenv.Proxy
	s := cluster(t, 2, func(i int, url string) string {
		if i == 0 {
			return url
		}
		p, via := testenv.RedisProxy(t, url)
		proxy = p
		return via
	})
	a, b := s[0], s[1]
	st := listening(t, b, "fay", "")
	var seq int64
	expect := func(id string) {
		t.Helper()
		ev := st.nextNamed(notify.EventNotification)
		if got := notificationID(t, ev); got != id {
			t.Fatalf("stream on B got %s, want %s", got, id)
		}
		if p := position(t, ev.ID); p != seq+1 {
			t.Fatalf("position %d after %d: gap or repeat", p, seq)
		}
		seq++
	}
	expect(a.publish(t, "fay", "before"))

	proxy.Cut()
	var missed []string
	for i := range 5 {
		missed = append(missed, a.publish(t, "fay", fmt.Sprint("while cut ", i)))
	}
	b.publish(t, "someone-else", "published on B while cut") // 202 all the same
	resp, err := http.Get(b.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	ready, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(ready), "bus") {
		t.Fatalf("readyz on B with Redis cut: %d %s, want 503 naming the bus", resp.StatusCode, ready)
	}

	proxy.Restore()
	for _, id := range missed {
		expect(id)
	}
	expect(a.publish(t, "fay", "after"))
}

// A broadcast published on one instance reaches streams on another.
func TestClusterDeliversBroadcasts(t *testing.T) {
	t.Parallel()
	s := cluster(t, 2, nil)
	st := listening(t, s[1], "gus", "")
	id, err := publishTo(s[0].URL, map[string]any{"broadcast": true, "type": "news", "title": "to everyone"})
	if err != nil {
		t.Fatal(err)
	}
	ev := st.nextNamed(notify.EventNotification)
	var n notify.Notification
	if err := json.Unmarshal([]byte(ev.Data), &n); err != nil || n.ID != id {
		t.Fatalf("broadcast on B: %s, want id %s", ev.Data, id)
	}
}
