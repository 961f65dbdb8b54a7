package e2e

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// What hostile clients can make one Herald process hold, counted from
// /proc for a child process (bytes and clock ticks, never wall time).

// procField returns a numeric field of /proc/PID/file: "status" fields in
// kB are returned in bytes ("VmHWM", the peak resident set), "io" fields
// as they are ("rchar", the bytes the process's read system calls returned).
func procField(t *testing.T, pid int, file, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			v, kb := strings.CutSuffix(strings.TrimSpace(v), " kB")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", field, line)
			}
			if kb {
				n <<= 10
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/%s", field, pid, file)
	return 0
}

// procCPUTicks returns the user and system CPU time of pid in clock ticks
// (fields 14 and 15 of /proc/PID/stat).
func procCPUTicks(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	return utime + stime
}

// TestStalledResumesHoldBoundedMemory resumes 8 streams over a backlog of
// about 15 MB and never reads them: the server replays a page at a time,
// so its peak memory does not grow with the backlog (it did when each
// resume read and encoded the whole backlog into one buffer).
func TestStalledResumesHoldBoundedMemory(t *testing.T) {
	t.Parallel()
	db := storeURL(t) // first: a missing service skips before the build
	bin := buildHerald(t)
	const (
		user    = "hoarder"
		events  = 1000 // of about 15 KiB: a 15 MB backlog
		pad     = 15 << 10
		streams = 8
		// The peak RSS the 8 streams may add: each holds a page of events
		// and a batch of bytes (well under 1 MiB here); what the server
		// wrote into its socket buffers before they stalled (up to 4 MiB
		// each) passed through the store's page cache (SQLite's is 32 MiB
		// per pooled connection). Reading the whole backlog per stream,
		// as before, added over 200 MiB.
		bound = 96 << 20
	)
	c := startChild(t, bin, db)
	s := &server{t: t, URL: c.URL}
	first := s.openStream(t, user, "")
	start, err := notify.ParseCursor(first.nextNamed(notify.EventConnected).ID)
	if err != nil {
		t.Fatal(err)
	}
	first.close()
	data := map[string]string{"pad": strings.Repeat("x", pad)}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < events; i += 8 {
				if _, err := publishTo(c.URL, map[string]any{"userId": user, "type": "t", "title": fmt.Sprint(i), "data": data}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// A fresh process, so that its peak RSS owes nothing to the publishing.
	_ = c.cmd.Process.Kill()
	<-c.done
	c = startChild(t, bin, db, "HERALD_WRITE_TIMEOUT=5s")
	s = &server{t: t, URL: c.URL}
	pid := c.cmd.Process.Pid
	base := procField(t, pid, "status", "VmHWM")

	d := smallBufferDialer()
	for range streams {
		// The status line is all the client reads: the server has begun
		// the replay. Then the client stalls until the write times out.
		dialStream(t, d, c.URL, user, notify.Cursor{Epoch: start.Epoch}.String(), "")
	}
	userConns := func() string {
		_, body := do(t, "GET", c.URL+"/api/admin/stats?userId="+user, testKey, nil)
		return string(body)
	}
	waitFor(t, func() bool { return strings.Contains(userConns(), `"userConnections":0`) })
	peak := procField(t, pid, "status", "VmHWM")
	t.Logf("backlog %d events of %d KiB; peak RSS %d MiB before the %d stalled resumes, %d MiB after (+%d MiB)",
		events, pad>>10, base>>20, streams, peak>>20, (peak-base)>>20)
	if peak-base > bound {
		t.Fatalf("%d stalled resumes added %d MiB of peak RSS, want at most %d MiB", streams, (peak-base)>>20, bound>>20)
	}
}

// TestBytesSentUpAStreamCostOneRead sends 8 MB up an open stream: the
// server reads one byte and ends the stream (it used to read them all, one
// byte per system call: seconds of CPU). Counted by the bytes the server's
// read calls returned; its CPU time is logged.
func TestBytesSentUpAStreamCostOneRead(t *testing.T) {
	t.Parallel()
	db := storeURL(t)
	bin := buildHerald(t)
	c := startChild(t, bin, db)
	pid := c.cmd.Process.Pid
	rs := dialStream(t, &net.Dialer{}, c.URL, "sender", "", "")
	if !rs.untilLive(t) {
		t.Fatal("stream ended before live")
	}
	cpu, read := procCPUTicks(t, pid), procField(t, pid, "io", "rchar")
	const total = 8 << 20
	chunk := make([]byte, 64<<10)
	sent := 0
	_ = rs.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	for sent < total {
		n, err := rs.conn.Write(chunk)
		sent += n
		if err != nil {
			break
		}
	}
	if !rs.ended(t) {
		t.Fatal("the stream stayed open")
	}
	cpu, read = procCPUTicks(t, pid)-cpu, procField(t, pid, "io", "rchar")-read
	t.Logf("client sent %d of %d bytes before the server closed the stream; the server read %d bytes with %d ticks (1/100 s) of CPU",
		sent, total, read, cpu)
	if read >= 1<<20 {
		t.Fatalf("the server read %d bytes of the %d sent up the stream", read, sent)
	}
}
