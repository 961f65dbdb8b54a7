package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// Connections that send a request and then nothing more (a body promised by
// Content-Length that never comes, headers never finished, not a byte) are
// all closed by the server once HERALD_READ_TIMEOUT (headers:
// HERALD_READ_HEADER_TIMEOUT) has passed; a publish whose body never
// arrives is answered 408 first. A stream on the same server outlives every
// request deadline, the response deadline included.
func TestSilentRequestsAreClosed(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(env map[string]string) {
		env["HERALD_READ_HEADER_TIMEOUT"] = "1s"
		env["HERALD_READ_TIMEOUT"] = "1s"
		env["HERALD_RESPONSE_TIMEOUT"] = "2s"
		env["HERALD_PING_INTERVAL"] = "1s"
	})
	st := s.openStream(t, "sam", "")
	st.nextNamed(notify.EventConnected)
	opened := time.Now()

	tok := token(t, "sam", time.Hour)
	requests := map[string]string{
		"publish without its body": "POST /api/publish/notifications HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + testKey +
			"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
		"healthz with a body that never comes": "GET /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n",
		"ticket with a body that never comes": "POST /api/notifications/sse/ticket HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + tok +
			"\r\nContent-Length: 100\r\n\r\n",
		"unfinished headers": "GET /healthz HTTP/1.1\r\nHost: h\r\nX-Slow: ",
		"nothing at all":     "",
	}
	const perKind = 100
	type result struct {
		kind   string
		closed bool   // by the server, not by the client's own deadline
		head   string // the response's status line, if any
	}
	results := make(chan result)
	for kind, req := range requests {
		for range perKind {
			c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatal(err)
			}
			go func() {
				defer func() { _ = c.Close() }()
				// Only to end the test on today's code, where nothing closes
				// these connections: far beyond the 1 s being tested.
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
				b, err := io.ReadAll(c)
				var ne net.Error
				head, _, _ := strings.Cut(string(b), "\r\n")
				results <- result{kind: kind, closed: !errors.As(err, &ne) || !ne.Timeout(), head: head}
			}()
		}
	}
	held := make(map[string]int)
	for range perKind * len(requests) {
		r := <-results
		if !r.closed {
			held[r.kind]++
		}
		if r.kind == "publish without its body" && r.closed && !strings.HasPrefix(r.head, "HTTP/1.1 408") {
			t.Errorf("publish whose body never came answered %q, want 408", r.head)
		}
	}
	for kind, n := range held {
		t.Errorf("%s: %d of %d connections still open 30 s after a 1 s deadline", kind, n, perKind)
	}

	// Not a synchronisation: the point is that these deadlines have passed
	// for the stream too.
	time.Sleep(time.Until(opened.Add(3 * time.Second)))
	id := s.publish(t, "sam", "after every deadline")
	if got := notificationID(t, st.nextNamed(notify.EventNotification)); got != id {
		t.Fatalf("stream got %s, want %s", got, id)
	}
	if st.dec.Comments < 2 {
		t.Errorf("%d pings over 3 s at a 1 s interval", st.dec.Comments)
	}
}

// A header block of HERALD_MAX_HEADER_BYTES (request line included) is
// served; one byte more is 431, and so is the 900 KB header that the
// default of net/http (1 MB) used to accept.
func TestHeaderBlockLimit(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{64 << 10, 16 << 10} {
		s := startServer(t, func(env map[string]string) {
			if limit != 64<<10 { // 64 KiB is the default
				env["HERALD_MAX_HEADER_BYTES"] = fmt.Sprint(limit)
			}
		})
		for _, size := range []int{limit, limit + 1, 900 << 10} {
			want := http.StatusOK
			if size > limit {
				want = http.StatusRequestHeaderFieldsTooLarge
			}
			if got := headerStatus(t, s, size); got != want {
				t.Errorf("limit %d: a header block of %d bytes got %d, want %d", limit, size, got, want)
			}
		}
	}
}

// headerStatus sends GET /healthz with a header block of exactly size bytes
// (request line and final blank line included) and returns the status.
func headerStatus(t *testing.T, s *server, size int) int {
	t.Helper()
	head := "GET /healthz HTTP/1.1\r\nHost: h\r\nX-Pad: "
	tail := "\r\n\r\n"
	req := head + strings.Repeat("a", size-len(head)-len(tail)) + tail
	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	go func() { _, _ = io.WriteString(c, req) }() // the server may answer before it has read it all
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("header block of %d bytes: %v", size, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// With HERALD_MAX_ACCEPTED_CONNS, the server holds at most that many
// connections: the others wait (in the kernel's queue) and are served,
// none lost, as held ones close.
func TestAcceptedConnectionsCapped(t *testing.T) {
	t.Parallel()
	const limit, total = 10, 30
	s := startServer(t, func(env map[string]string) { env["HERALD_MAX_ACCEPTED_CONNS"] = fmt.Sprint(limit) })
	answered := make(chan net.Conn, total)
	for range total {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				return
			}
			_ = resp.Body.Close() // the connection stays open: keep-alive
			if resp.StatusCode == http.StatusOK {
				answered <- c
			}
		}()
	}
	for served := 0; served < total; {
		var held []net.Conn
		for range min(limit, total-served) {
			held = append(held, <-answered)
		}
		served += len(held)
		// Give the server every chance to answer one more connection than
		// it may hold: it must not.
		select {
		case <-answered:
			t.Fatalf("%d connections answered while %d were held, want at most %d", served+1, len(held), limit)
		case <-time.After(200 * time.Millisecond):
		}
		for _, c := range held {
			_ = c.Close()
		}
	}
}
