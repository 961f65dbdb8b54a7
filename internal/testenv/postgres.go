package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgres is the server tests use when HERALD_TEST_POSTGRES is not
// set: the local one that scripts/services.sh starts.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const postgresHow = "start PostgreSQL (scripts/services.sh) or set HERALD_TEST_POSTGRES"

// Postgres returns the URL of a fresh, empty database created for this test
// on the server named by HERALD_TEST_POSTGRES (a URL whose user may create
// databases; default DefaultPostgres). The database is dropped, its
// sessions ended, at cleanup. When the server cannot be reached the test
// ends through Missing.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("HERALD_TEST_POSTGRES")
	if admin == "" {
		admin = DefaultPostgres
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("HERALD_TEST_POSTGRES must be a postgres:// URL, got %q", admin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatalf("HERALD_TEST_POSTGRES: %v", err)
	}
	cfg.ConnectTimeout = 3 * time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		Missing(t, "postgres", "cannot connect to "+u.Redacted()+": "+err.Error(), postgresHow)
		return ""
	}
	defer func() {
		if err := conn.Close(context.Background()); err != nil {
			t.Logf("close the admin connection: %v", err)
		}
	}()

	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	name := "herald_t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer func() {
			if err := conn.Close(context.Background()); err != nil {
				t.Logf("close the admin connection: %v", err)
			}
		}()
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// Proxy is a TCP proxy in front of a server (PostgreSQL, Redis), for tests
// that lose it while Herald runs: Cut closes every proxied connection and
// refuses new ones until Restore. Safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// PostgresProxy starts a Proxy to the server of dbURL and returns it with
// dbURL rewritten to go through it. The proxy stops at cleanup.
func PostgresProxy(t testing.TB, dbURL string) (*Proxy, string) {
	t.Helper()
	return proxyFor(t, dbURL, "5432")
}

// proxyFor starts a Proxy to the host of rawURL (defaultPort when it names
// none) and returns it with rawURL rewritten to go through it.
func proxyFor(t testing.TB, rawURL, defaultPort string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), defaultPort)
	}
	p := &Proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	u.Host = ln.Addr().String()
	return p, u.String()
}

// Cut closes every open connection and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
}

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

func (p *Proxy) close() {
	_ = p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // listener closed
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// serve pipes c to a new connection to the target, both ways.
func (p *Proxy) serve(c net.Conn) {
	if !p.track(c) {
		_ = c.Close()
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 3*time.Second)
	if err != nil || !p.track(up) {
		_ = c.Close()
		if up != nil {
			_ = up.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// track registers c unless the proxy is cut.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}
