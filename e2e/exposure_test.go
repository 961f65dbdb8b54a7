package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/testenv"
)

// The dev session (the publisher key and any user's token) is answered to
// this machine only: a DNS-rebound Host or a page on another host gets 403
// and nothing, over a real socket; and from another address of this
// machine's, when it has one, too.
func TestDevSessionOnlyForThisMachine(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(env map[string]string) {
		env["HERALD_DEV"] = "true"
		env["HERALD_ADDR"] = "0.0.0.0:0" // listening beyond loopback, explicitly
	})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	session := func(base, host, origin string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/dev/session?user=u1", nil)
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	local := "http://127.0.0.1:" + port
	if code, body := session(local, "", ""); code != http.StatusOK || !strings.Contains(body, "publisherKey") {
		t.Fatalf("dev session from this machine: %d %s", code, body)
	}
	if code, _ := session(local, "localhost:"+port, "http://localhost:3000"); code != http.StatusOK {
		t.Errorf("dev session for a page on localhost:3000: %d, want 200", code)
	}
	for name, c := range map[string][2]string{
		"DNS rebinding":        {"rebind.evil.example:" + port, "http://rebind.evil.example:" + port},
		"rebound, no Origin":   {"rebind.evil.example", ""},
		"page on another host": {"", "https://evil.example"},
	} {
		if code, body := session(local, c[0], c[1]); code != http.StatusForbidden || strings.Contains(body, testKey) {
			t.Errorf("%s: %d %s, want 403 without the key", name, code, body)
		}
	}
	if ip := nonLoopbackIP(); ip != "" {
		remote := "http://" + net.JoinHostPort(ip, port)
		if code, body := session(remote, "127.0.0.1:"+port, ""); code != http.StatusForbidden || strings.Contains(body, testKey) {
			t.Errorf("from %s: %d %s, want 403", ip, code, body)
		}
	} else {
		t.Log("no non-loopback address on this machine: the remote-address case is covered by web's tests only")
	}
}

// nonLoopbackIP returns an address of this machine that is not loopback,
// "" when it has none.
func nonLoopbackIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// streamRequest opens GET /api/notifications/sse with query ("" or
// "?…") and hdr (name, value pairs), and returns the status. The response
// is left open (a 200 holds its stream) until end is called or the test
// ends.
func streamRequest(t *testing.T, s *server, query string, hdr ...string) (status int, end func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/notifications/sse"+query, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var once sync.Once
	end = func() { once.Do(func() { cancel(); _ = resp.Body.Close() }) }
	t.Cleanup(end)
	return resp.StatusCode, end
}

// Ten <img> tags on another site pointing at the stream, with the user's
// herald_token cookie attached by the browser, get 403 and hold nothing:
// the user's own two tabs (the per-user limit) still open. An allowed
// origin, this site, and a ticket or bearer token from anywhere are served.
func TestCrossSiteCookieStreamsRefused(t *testing.T) {
	t.Parallel()
	const app = "https://app.example"
	s := startServer(t, func(env map[string]string) {
		env["HERALD_MAX_CONNS_PER_USER"] = "2"
		env["HERALD_ALLOWED_ORIGINS"] = app
	})
	cookie := "herald_token=" + token(t, "ivy", time.Hour)
	for i := range 10 {
		if code, _ := streamRequest(t, s, "", "Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Dest", "image"); code != http.StatusForbidden {
			t.Fatalf("<img> %d from another site: %d, want 403", i+1, code)
		}
	}
	if code, _ := streamRequest(t, s, "", "Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); code != http.StatusForbidden {
		t.Errorf("fetch from another site: %d, want 403", code)
	}
	tab1, end1 := streamRequest(t, s, "", "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
	tab2, end2 := streamRequest(t, s, "", "Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", app)
	if tab1 != http.StatusOK || tab2 != http.StatusOK {
		t.Fatalf("the user's own tabs: %d (same origin), %d (allowed origin), want 200 both", tab1, tab2)
	}
	end1()
	end2()
	// A bearer token cannot be sent by another site: not checked.
	waitFor(t, func() bool { return s.App.Hub.UserConnections("ivy") == 0 })
	if code, _ := streamRequest(t, s, "", "Authorization", "Bearer "+token(t, "ivy", time.Hour),
		"Sec-Fetch-Site", "cross-site", "Origin", "https://elsewhere.example"); code != http.StatusOK {
		t.Errorf("bearer token from another site: %d, want 200", code)
	}
}

// mintTicket asks s for a ticket as user and returns the status, the
// headers and the ticket ("" unless 200).
func mintTicket(t *testing.T, s *server, user string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/api/notifications/sse/ticket", nil)
	req.Header.Set("Authorization", "Bearer "+token(t, user, time.Hour))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Ticket string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, resp.Header, body.Ticket
}

// A user mints at most HERALD_TICKETS_PER_MINUTE tickets a minute (30 by
// default): 60 asked for at once, as a script would, get exactly 30 × 200
// and 30 × 429 with Retry-After; another user is unaffected.
func TestTicketMintingIsRateLimited(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	var mu sync.Mutex
	codes := make(map[int]int)
	var wg sync.WaitGroup
	for range 60 {
		wg.Go(func() {
			code, h, _ := mintTicket(t, s, "jack")
			mu.Lock()
			defer mu.Unlock()
			codes[code]++
			if code == http.StatusTooManyRequests && h.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
	}
	wg.Wait()
	if codes[http.StatusOK] != 30 || codes[http.StatusTooManyRequests] != 30 {
		t.Fatalf("60 tickets asked for at once: %v, want 30 × 200 and 30 × 429", codes)
	}
	if code, _, _ := mintTicket(t, s, "kate"); code != http.StatusOK {
		t.Errorf("another user: %d, want 200", code)
	}
}

// A user holds at most HERALD_MAX_TICKETS_PER_USER unused tickets across
// the instances sharing a database (429 with Retry-After beyond, on every
// instance); using one frees a place.
func TestTicketsOutstandingBoundedAcrossInstances(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	var pair [2]*server
	for i := range pair {
		pair[i] = startServer(t, func(env map[string]string) {
			env["HERALD_DB"] = db
			env["HERALD_TICKETS_PER_MINUTE"] = "0"
			env["HERALD_MAX_TICKETS_PER_USER"] = "5"
		})
	}
	var first string
	for i := range 5 {
		code, _, tk := mintTicket(t, pair[i%2], "liam")
		if code != http.StatusOK {
			t.Fatalf("ticket %d of 5: %d", i+1, code)
		}
		if i == 0 {
			first = tk
		}
	}
	for i, s := range pair {
		if code, h, _ := mintTicket(t, s, "liam"); code != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
			t.Fatalf("sixth unused ticket on instance %d: %d (Retry-After %q), want 429", i, code, h.Get("Retry-After"))
		}
	}
	if code, _ := streamRequest(t, pair[1], "?ticket="+first); code != http.StatusOK {
		t.Fatalf("stream with the first ticket: %d", code)
	}
	if code, _, _ := mintTicket(t, pair[0], "liam"); code != http.StatusOK {
		t.Errorf("ticket after one was used: %d, want 200", code)
	}
}

// /readyz names the component that is not ready and nothing else: not the
// address of PostgreSQL or Redis, not a driver's message. The detail goes
// to the log, once however often /readyz is polled.
func TestReadyzNamesOnlyTheComponent(t *testing.T) {
	t.Parallel()
	pgProxy, db := testenv.PostgresProxy(t, testenv.Postgres(t))
	redisProxy, bus := testenv.RedisProxy(t, testenv.Redis(t))
	var logs testenv.Buffer
	s := startServerLogging(t, func(env map[string]string) {
		env["HERALD_DB"], env["HERALD_BUS"] = db, bus
		env["HERALD_LOG_LEVEL"] = "info"
	}, &logs)
	ready := func() (int, string) {
		t.Helper()
		code, body := do(t, "GET", s.URL+"/readyz", "", nil)
		return code, string(body)
	}
	if code, body := ready(); code != http.StatusOK {
		t.Fatalf("readyz: %d %s", code, body)
	}
	pgProxy.Cut()
	redisProxy.Cut()
	secrets := []string{hostPort(db), hostPort(bus), "127.0.0.1", "postgres", "redis", "dial", "refused", "EOF", "timeout"}
	for range 5 {
		code, body := ready()
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `"not ready: store, bus"`) {
			t.Fatalf("readyz with PostgreSQL and Redis cut: %d %s, want 503 naming store and bus", code, body)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Fatalf("readyz body %s reveals %q", body, s)
			}
		}
	}
	out := logs.String()
	for _, check := range []string{"store", "bus"} {
		if n := strings.Count(out, `"msg":"readiness check failed","check":"`+check+`"`); n != 1 {
			t.Errorf("5 polls logged the %s failure %d times, want once:\n%s", check, n, out)
		}
	}
	if !strings.Contains(out, hostPort(bus)) && !strings.Contains(out, hostPort(db)) {
		t.Errorf("the log lacks the detail (an address):\n%s", out)
	}
	pgProxy.Restore()
	redisProxy.Restore()
	waitFor(t, func() bool { code, _ := ready(); return code == http.StatusOK })
}

func hostPort(rawURL string) string {
	rest := rawURL[strings.Index(rawURL, "://")+3:]
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// Nothing in deploy/ runs developer mode: no --dev or HERALD_DEV in the
// image's command or the compose file, and no HERALD_ADDR in the image
// (which would take `serve --dev` off loopback, reachable through -p).
func TestDeployNeverRunsDev(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"../deploy/Dockerfile", "../deploy/compose.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			code, _, _ := strings.Cut(line, "#") // comments may explain why not
			if strings.Contains(code, "--dev") || strings.Contains(code, "HERALD_DEV") {
				t.Errorf("%s:%d runs developer mode: %s", f, i+1, line)
			}
			if strings.HasSuffix(f, "Dockerfile") && strings.Contains(code, "HERALD_ADDR") {
				t.Errorf("%s:%d sets HERALD_ADDR, which takes serve --dev off loopback: %s", f, i+1, line)
			}
		}
	}
}
