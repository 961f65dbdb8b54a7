package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// buildHerald compiles cmd/herald once for the crash tests.
func buildHerald(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "herald")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/herald")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// child is a Herald process.
type child struct {
	cmd  *exec.Cmd
	URL  string
	done chan struct{}
}

// startChild runs bin serve on the store at db (a HERALD_DB URL), with
// env (NAME=value) added to the test settings, and waits until it listens.
func startChild(t *testing.T, bin, db string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"HERALD_ADDR=127.0.0.1:0", "HERALD_DB="+db,
		"HERALD_JWT_SECRET="+testSecret, "HERALD_PUBLISHER_KEY="+testKey,
		"HERALD_LOG_FORMAT=json", "HERALD_LOG_LEVEL=info", "HERALD_DRAIN_TIMEOUT=0s")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "herald listening" {
				addr <- line.Addr
			}
		}
		_ = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-c.done })
	select {
	case a := <-addr:
		c.URL = "http://" + a
	case <-c.done:
		t.Fatal("herald exited before listening")
	case <-time.After(30 * time.Second):
		t.Fatal("herald did not start listening")
	}
	return c
}

// TestKill9LosesNothingAcknowledged publishes from several goroutines,
// SIGKILLs the server mid-burst, restarts it on the same file, and replays
// the user's stream from the start: every notification that was answered
// 202 must be there exactly once.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	db := storeURL(t) // first: a missing service skips before the build
	bin := buildHerald(t)
	c := startChild(t, bin, db)

	var (
		mu    sync.Mutex
		acked []string
		count atomic.Int64
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for p := 0; p < 8; p++ {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				id, err := publishTo(c.URL, map[string]any{"userId": "victim", "type": "crash", "title": fmt.Sprint(p, "-", i)})
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
				count.Add(1)
			}
		})
	}
	for count.Load() < 300 {
		time.Sleep(time.Millisecond) // no signal exists for "mid-burst"; any moment will do
	}
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-c.done
	cancel()
	wg.Wait()

	c2 := startChild(t, bin, db)
	s := &server{t: t, URL: c2.URL}
	first := s.openStream(t, "victim", "")
	cur, err := notify.ParseCursor(first.nextNamed(notify.EventConnected).ID)
	if err != nil {
		t.Fatal(err)
	}
	first.close()
	st := s.openStream(t, "victim", notify.Cursor{Epoch: cur.Epoch}.String())
	seen := map[string]int{}
	for {
		ev := st.next()
		if ev.Name == notify.EventUnreadCount {
			break // sent right after the replay
		}
		if ev.Name == notify.EventNotification {
			seen[notificationID(t, ev)]++
		}
	}
	for _, id := range acked {
		if seen[id] != 1 {
			t.Errorf("acknowledged %s seen %d times after the crash", id, seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s replayed %d times", id, n)
		}
	}
	t.Logf("%d acknowledged before SIGKILL, %d stored", len(acked), len(seen))
}
