//go:build unix

package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/testenv"
)

// TestNextjsExample builds the client package and examples/nextjs, runs the
// example with `next start` against a freshly built `herald serve` on
// another origin, and drives it in Chromium (examples/nextjs/e2e/smoke.mjs):
// sign in, a server action publishes a notification, it shows in the list
// with an unread count of 1, mark read brings the count to 0.
//
// Without node, npm or Chromium it skips with instructions, except in CI,
// where it fails. CHROMIUM names the browser (default /usr/bin/chromium).
// Runs of this test in several processes take turns (a file lock), as they
// share examples/nextjs/.next and clients/js/dist.
func TestNextjsExample(t *testing.T) {
	if testing.Short() {
		t.Skip("the Next.js example builds for about half a minute; not with -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", "node not on PATH", "install Node.js 20.9 or later")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		testenv.Missing(t, "node", "npm not on PATH", "install Node.js 20.9 or later with npm")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		testenv.Missing(t, "chromium", chromium+" not found", "apt-get install chromium, or set CHROMIUM to a Chromium binary")
	}
	clientDir, err := filepath.Abs("../clients/js")
	if err != nil {
		t.Fatal(err)
	}
	appDir, err := filepath.Abs("../examples/nextjs")
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	lockNextjs(t) // released after every other cleanup

	start := time.Now()
	npmCI(ctx, t, npm, clientDir)
	runIn(ctx, t, clientDir, npm, "run", "build") // the example type-checks against dist/*.d.ts
	npmCI(ctx, t, npm, appDir)
	bin := buildHerald(t)
	t.Logf("client, dependencies and herald ready in %v", time.Since(start).Round(time.Millisecond))

	secret, key := randomHex(t, 32), randomHex(t, 24)
	nextPort := freePort(t)
	nextURL := fmt.Sprintf("http://127.0.0.1:%d", nextPort)
	heraldURL := startHeraldFor(ctx, t, bin, []string{
		"HERALD_ADDR=127.0.0.1:0",
		"HERALD_DB=sqlite://" + filepath.Join(t.TempDir(), "herald.db"),
		"HERALD_JWT_SECRET=" + secret,
		"HERALD_PUBLISHER_KEY=" + key,
		"HERALD_ALLOWED_ORIGINS=" + nextURL,
		"HERALD_LOG_FORMAT=json",
		"HERALD_DRAIN_TIMEOUT=0s",
	})

	env := append(os.Environ(),
		"HERALD_URL="+heraldURL,
		"NEXT_PUBLIC_HERALD_URL="+heraldURL, // inlined at build time
		"HERALD_JWT_SECRET="+secret,
		"HERALD_PUBLISHER_KEY="+key,
		"NEXT_TELEMETRY_DISABLED=1",
	)
	nextBin := filepath.Join(appDir, "node_modules", "next", "dist", "bin", "next")
	start = time.Now()
	build := exec.CommandContext(ctx, node, nextBin, "build")
	build.Dir, build.Env = appDir, env
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("next build: %v\n%s", err, out)
	}
	t.Logf("next build took %v", time.Since(start).Round(time.Millisecond))

	startNext(ctx, t, appDir, env, node, nextBin, "start", "-H", "127.0.0.1", "-p", fmt.Sprint(nextPort))

	start = time.Now()
	smoke := exec.CommandContext(ctx, node, filepath.Join("e2e", "smoke.mjs"))
	smoke.Dir = appDir
	smoke.Env = append(env, "NEXT_URL="+nextURL, "CHROMIUM="+chromium)
	out, err := smoke.CombinedOutput()
	if err != nil {
		t.Fatalf("browser smoke test failed: %v\n%s", err, out)
	}
	t.Logf("browser smoke test passed in %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(out)))
}

// lockNextjs serialises this test across processes until its cleanup.
func lockNextjs(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "herald-test-nextjs.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// startHeraldFor runs bin serve with env (added to the test's own) and
// returns its URL once it listens. The process is killed at cleanup.
func startHeraldFor(ctx context.Context, t *testing.T, bin string, env []string) string {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), env...)
	addr := make(chan string, 1)
	var log strings.Builder
	done := startLogged(t, cmd, func(line string) {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "herald listening" {
			select {
			case addr <- l.Addr:
			default:
			}
		}
		log.WriteString(line + "\n")
	})
	select {
	case a := <-addr:
		return "http://" + a
	case <-done:
		t.Fatalf("herald exited before listening:\n%s", log.String())
	case <-ctx.Done():
		t.Fatal("herald did not start listening")
	}
	return ""
}

// startNext runs `node next start …` and waits until it is ready. Its
// process group is killed at cleanup.
func startNext(ctx context.Context, t *testing.T, dir string, env []string, node string, args ...string) {
	t.Helper()
	cmd := exec.Command(node, args...)
	cmd.Dir, cmd.Env = dir, env
	ready := make(chan struct{}, 1)
	var log strings.Builder
	done := startLogged(t, cmd, func(line string) {
		if strings.Contains(line, "Ready in") {
			select {
			case ready <- struct{}{}:
			default:
			}
		}
		log.WriteString(line + "\n")
	})
	select {
	case <-ready:
	case <-done:
		t.Fatalf("next start exited:\n%s", log.String())
	case <-time.After(30 * time.Second):
		t.Fatal("next start was not ready within 30s")
	case <-ctx.Done():
		t.Fatal("next start was not ready")
	}
}

// startLogged starts cmd in its own process group, passes each line of its
// combined output to onLine (on one goroutine), and kills the group at
// cleanup. The returned channel closes when the process has exited and
// every line has been passed on; onLine's state may be read after that.
func startLogged(t *testing.T, cmd *exec.Cmd, onLine func(string)) <-chan struct{} {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = w.Close()
	}()
	go func() {
		defer close(done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			onLine(sc.Text())
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	return done
}
