package e2e

import (
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// TestSlowConsumerIsDisconnectedAndResumes: a client that stops reading is
// cut off once its socket and its queue are full, a reading client of the
// same broadcasts gets everything meanwhile, and the slow one then resumes
// without losing anything.
func TestSlowConsumerIsDisconnectedAndResumes(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(env map[string]string) {
		env["HERALD_CONN_QUEUE"] = "16"
		env["HERALD_WRITE_TIMEOUT"] = "1s"
	})
	slow := s.openStreamWith(t, smallBufferClient(t), "slow")
	slow.nextNamed(notify.EventConnected)
	fast := s.openStream(t, "fast", "")
	fast.nextNamed(notify.EventConnected)

	const n = 600 // ~16 KiB each: ~10 MiB, more than the socket buffers hold
	big := strings.Repeat("x", 16<<10-64)
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Go(func() {
			for i := p; i < n; i += 4 {
				_, err := publishTo(s.URL, map[string]any{"broadcast": true, "type": "bulk",
					"title": fmt.Sprint(i), "data": map[string]string{"pad": big}})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// The reader keeps up; should the race detector slow it enough to be cut
	// off too, it resumes like any client, and still gets everything once.
	got, fastID, fastCuts := 0, "", 0
	for got < n {
		ev, err := fast.dec.Next()
		if err != nil {
			fastCuts++
			fast = s.openStream(t, "fast", fastID)
			continue
		}
		if ev.Name == notify.EventNotification {
			got++
			fastID = ev.ID
		}
	}
	wg.Wait()

	// The slow client now reads what was buffered, then meets the end.
	slowGot, lastID := 0, ""
	for {
		ev, err := slow.dec.Next()
		if err != nil {
			break
		}
		if ev.Name == notify.EventNotification {
			slowGot++
			lastID = ev.ID
		}
	}
	if slowGot >= n {
		t.Fatalf("slow consumer was never disconnected (read %d of %d)", slowGot, n)
	}
	// It resumes from its last id and gets the rest, once each.
	st := s.openStream(t, "slow", lastID)
	for slowGot < n {
		if ev := st.next(); ev.Name == notify.EventNotification {
			slowGot++
		}
	}
	t.Logf("slow consumer cut off, then resumed; reading one got all %d (cut off %d times)", n, fastCuts)
}

// TestDrainRefusesNewStreamsAndClosesOpenOnes.
func TestDrainRefusesNewStreamsAndClosesOpenOnes(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(env map[string]string) { env["HERALD_DRAIN_TIMEOUT"] = "3s" })
	var streams []*stream
	for i := 0; i < 20; i++ {
		st := s.openStream(t, fmt.Sprint("d", i), "")
		st.nextNamed(notify.EventConnected)
		streams = append(streams, st)
	}
	go s.stop()
	// Wait for the first stream to be closed: the drain has begun.
	ended := make(chan int, len(streams))
	for i, st := range streams {
		go func() {
			for {
				if _, err := st.dec.Next(); err != nil {
					ended <- i
					return
				}
			}
		}()
	}
	<-ended
	resp, err := http.Get(s.URL + "/readyz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("readyz while draining: %d", resp.StatusCode)
		}
	}
	if _, code := s.tryStream(t, token(t, "late", time.Hour), ""); code != http.StatusServiceUnavailable && code != 0 {
		t.Errorf("new stream while draining: %d, want 503", code)
	}
	for range len(streams) - 1 {
		<-ended
	}
}

// TestGoroutinesReturnToBaseline opens and drops many streams; afterwards
// the server holds no goroutine for them.
func TestGoroutinesReturnToBaseline(t *testing.T) {
	s := startServer(t, nil)
	warm := s.openStream(t, "warm", "")
	warm.nextNamed(notify.EventConnected)
	warm.close()
	waitFor(t, func() bool { return s.App.Hub.Connections() == 0 })
	http.DefaultClient.CloseIdleConnections()
	base := runtime.NumGoroutine()

	for i := 0; i < 200; i++ {
		st := s.openStream(t, fmt.Sprint("cycle", i%7), "")
		st.nextNamed(notify.EventConnected)
		if i%3 == 0 {
			s.publish(t, fmt.Sprint("cycle", i%7), "x")
			st.nextNamed(notify.EventNotification)
		}
		st.close()
	}
	waitFor(t, func() bool { return s.App.Hub.Connections() == 0 })
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= base+2 })
}

// smallBufferDialer dials sockets with a small receive buffer (and so no
// autotuning), so that a client that stops reading fills up quickly.
func smallBufferDialer() *net.Dialer {
	return &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10)
		})
		if err != nil {
			return err
		}
		return serr
	}}
}

// smallBufferClient is an HTTP client over smallBufferDialer.
func smallBufferClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{DialContext: smallBufferDialer().DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// waitFor polls cond: the server notices a vanished client asynchronously
// and exposes no event for it.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("condition not reached; goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
