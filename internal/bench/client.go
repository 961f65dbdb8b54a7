package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/herald-notify/herald/internal/auth"
	"github.com/herald-notify/herald/internal/sse"
)

// Target is the server under test and how to reach it. It is read-only
// once a run starts.
type Target struct {
	URL     string       // base URL, http://127.0.0.1:8080
	Secret  []byte       // HS256 key of subscriber tokens (HERALD_JWT_SECRET); for streams
	Key     string       // publisher key (HERALD_PUBLISHER_KEY); for publishing
	Sources []netip.Addr // local addresses to dial from, in turn; empty for the system's choice
	Log     *slog.Logger // progress; nil for none
}

// base returns the URL without a trailing slash, checked.
func (t *Target) base() (string, error) {
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("url: must be an http(s) URL, got %q", t.URL)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func (t *Target) logger() *slog.Logger {
	if t.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Log
}

// dialer dials from each source address in turn: a TCP connection is
// named by its four-tuple, so N sources give N times the ephemeral ports
// towards one server address.
type dialer struct {
	base    net.Dialer
	sources []netip.Addr
	next    atomic.Uint64
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := d.base
	if len(d.sources) > 0 {
		src := d.sources[(d.next.Add(1)-1)%uint64(len(d.sources))]
		nd.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	return nd.DialContext(ctx, network, addr)
}

// newTransport returns an HTTP/1.1 transport for many connections to one
// host: no connection cap, no compression, small buffers, and idle
// connections kept for up to idle requests in flight at once.
func newTransport(sources []netip.Addr, idle int) *http.Transport {
	d := &dialer{base: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}, sources: sources}
	return &http.Transport{
		DialContext:           d.DialContext,
		MaxConnsPerHost:       0,
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       30 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: 30 * time.Second,
		ReadBufferSize:        2 << 10,
		WriteBufferSize:       1 << 10,
	}
}

// stream is one open SSE connection past its connected event.
type stream struct {
	body io.ReadCloser
	dec  *sse.Decoder
}

// openStream connects to the stream endpoint with token and reads up to
// the connected event. The stream lives until ctx ends or close is called.
func openStream(ctx context.Context, client *http.Client, base, token string) (*stream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/notifications/sse", nil)
	if err != nil {
		return nil, fmt.Errorf("build stream request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		return nil, fmt.Errorf("open stream: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	s := &stream{body: resp.Body, dec: sse.NewDecoder(resp.Body)}
	for {
		ev, err := s.dec.Next()
		if err != nil {
			_ = s.close()
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("stream before connected: %w", err)
		}
		if ev.Name == "connected" {
			return s, nil
		}
	}
}

func (s *stream) close() error { return s.body.Close() }

// tokens signs a subscriber token for each user, valid for ttl.
func tokens(secret []byte, users []string, ttl time.Duration) ([]string, error) {
	now := time.Now()
	out := make([]string, len(users))
	for i, u := range users {
		tok, err := auth.SignHS256(secret, u, ttl, now)
		if err != nil {
			return nil, fmt.Errorf("token for %s: %w", u, err)
		}
		out[i] = tok
	}
	return out, nil
}

// userIDs returns n user ids prefix0 … prefix(n-1).
func userIDs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// publisher posts notifications with the publisher key. Safe for
// concurrent use.
type publisher struct {
	client *http.Client
	url    string
	key    string
}

func newPublisher(t *Target, base string, concurrency int) *publisher {
	return &publisher{
		client: &http.Client{Transport: newTransport(t.Sources, concurrency), Timeout: 30 * time.Second},
		url:    base + "/api/publish/notifications",
		key:    "Bearer " + t.Key,
	}
}

// publish posts body and reports whether the server answered 202; any
// other answer is an error naming the status.
func (p *publisher) publish(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build publish request: %w", err)
	}
	req.Header.Set("Authorization", p.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // drain, so the connection is reused
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("publish: %s", resp.Status)
	}
	return nil
}

func (p *publisher) close() { p.client.CloseIdleConnections() }

// ParseSources parses a comma-separated list of IP addresses (--sources).
// An empty string gives none.
func ParseSources(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("sources: %q is not an IP address", f)
		}
		out = append(out, a)
	}
	return out, nil
}

// errorCounter keeps a count of errors and the first few distinct
// messages, for the report. Safe for concurrent use.
type errorCounter struct {
	n     atomic.Int64
	first atomic.Pointer[string]
}

func (e *errorCounter) add(err error) {
	e.n.Add(1)
	msg := err.Error()
	e.first.CompareAndSwap(nil, &msg)
}

func (e *errorCounter) count() int64 { return e.n.Load() }

func (e *errorCounter) example() string {
	if p := e.first.Load(); p != nil {
		return *p
	}
	return ""
}
