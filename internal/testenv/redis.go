package testenv

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// DefaultRedis is the server tests use when HERALD_TEST_REDIS is not set:
// the local one that scripts/services.sh starts.
const DefaultRedis = "redis://127.0.0.1:6379/0"

const redisHow = "start Redis (scripts/services.sh) or set HERALD_TEST_REDIS"

// Redis returns a HERALD_BUS URL for this test: the server named by
// HERALD_TEST_REDIS (a URL; else HERALD_TEST_REDIS_HOST and _PORT, as for
// scripts/services.sh; else DefaultRedis) with a channel parameter unique
// to the test (?channel=herald_t_…). Pub/Sub channels are global to a Redis
// server, whatever the DB number, so the channel is what keeps parallel
// tests (and a developer's running Herald) from hearing each other. When
// the server cannot be reached the test ends through Missing.
func Redis(t testing.TB) string {
	t.Helper()
	raw := os.Getenv("HERALD_TEST_REDIS")
	if h, p := os.Getenv("HERALD_TEST_REDIS_HOST"), os.Getenv("HERALD_TEST_REDIS_PORT"); raw == "" && (h != "" || p != "") {
		// The variables scripts/services.sh starts Redis with.
		raw = "redis://" + net.JoinHostPort(cmp.Or(h, "127.0.0.1"), cmp.Or(p, "6379")) + "/0"
	}
	if raw == "" {
		raw = DefaultRedis
	}
	opts, err := goredis.ParseURL(raw)
	if err != nil {
		t.Fatalf("HERALD_TEST_REDIS must be a redis:// URL: %v", err)
	}
	opts.DialTimeout = 3 * time.Second
	opts.MaxRetries = -1
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	c := goredis.NewClient(opts)
	defer func() {
		if err := c.Close(); err != nil {
			t.Logf("close the probe client: %v", err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		Missing(t, "redis", "cannot reach "+opts.Addr+": "+err.Error(), redisHow)
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("HERALD_TEST_REDIS: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	q := u.Query()
	q.Set("channel", "herald_t_"+hex.EncodeToString(b[:]))
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisProxy starts a Proxy to the server of redisURL and returns it with
// redisURL rewritten to go through it, for tests that lose Redis while
// Herald runs. The proxy stops at cleanup.
func RedisProxy(t testing.TB, redisURL string) (*Proxy, string) {
	t.Helper()
	return proxyFor(t, redisURL, "6379")
}
