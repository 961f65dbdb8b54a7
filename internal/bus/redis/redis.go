// Package redis is the notify.Bus for several instances that share a store:
// every instance PUBLISHes its events on one Redis Pub/Sub channel and
// subscribes to it, so an event published on any instance reaches the
// streams of every instance.
//
// Like every notify.Bus it is a doorbell, not a log. Redis Pub/Sub keeps
// nothing: what is published while an instance is not subscribed (Redis
// restarting, the connection cut) never reaches it. The bus makes that safe
// by calling Options.OnSubscribe after every (re)subscription, so that the
// hub makes its streams catch up from the store (hub.Resync), and receivers
// repair any other gap from the store by Seq.
//
// An instance hands its own events to its local sink directly, inside
// Publish, and ignores their echo from Redis: local streams get them without
// a round trip, and keep getting them while Redis is down.
package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/herald-notify/herald/internal/notify"
)

var _ notify.Bus = (*Bus)(nil)

// ErrClosed is returned by Publish, Subscribe and Ping after Close.
var ErrClosed = errors.New("redis bus: closed")

// Defaults of Options.
const (
	DefaultChannel = "herald"
	DefaultTimeout = time.Second
)

// channelParam is the query parameter of the URL that sets the channel
// prefix (redis://host:6379/0?channel=staging). It is Herald's, not
// go-redis's, and is removed before the URL reaches go-redis.
const channelParam = "channel"

// Options configure a Bus. Zero values take the defaults noted.
type Options struct {
	// Channel is the prefix of the Redis channel (the bus uses
	// "<Channel>:events"), used when the URL has no ?channel= parameter.
	// Instances that share a store must share it; deployments that share
	// a Redis server, and parallel tests, tell themselves apart by it.
	// Pub/Sub channels are global to a Redis server: the DB number in the
	// URL does not separate them. Default DefaultChannel.
	Channel string

	// Timeout bounds one Publish or Ping (and each connection attempt),
	// on top of the caller's context. Default DefaultTimeout.
	Timeout time.Duration

	// OnSubscribe is called after every successful subscription: the first
	// one, and each one after the connection to Redis was lost and
	// re-established, when events may have been missed. It runs on the
	// delivery goroutine, so it must not block; hub.Resync fits.
	OnSubscribe func()

	// Logger receives delivery problems. Default slog.Default().
	Logger *slog.Logger
}

// Bus is a notify.Bus over Redis Pub/Sub. Build it with New; it delivers
// nothing until Subscribe. All methods are safe for concurrent use.
type Bus struct {
	client  *goredis.Client
	channel string
	origin  [originLen]byte // tags this Bus's messages, to skip their echo
	timeout time.Duration
	onSub   func()
	log     *slog.Logger

	sink   atomic.Pointer[func([]notify.Event)]
	closed atomic.Bool

	// After a failed PUBLISH, publishes skip Redis until openUntil (unix
	// ns) instead of each waiting out the timeout; missed records that
	// other instances may lack events, so the next successful publish is
	// followed by a resync message.
	openUntil atomic.Int64
	missed    atomic.Bool

	mu   sync.Mutex      // guards ps and the start and stop of run
	ps   *goredis.PubSub // nil before Subscribe
	done chan struct{}   // closed when run returns
}

// New connects to the Redis server named by rawURL (redis://[:PASSWORD@]
// HOST:PORT[/DB][?channel=PREFIX], or rediss:// for TLS) and checks that it
// answers within opts.Timeout, so that a wrong address stops start-up rather
// than surfacing later. The Bus holds a connection pool and, after
// Subscribe, one subscribed connection and its goroutines; Close releases
// them.
func New(ctx context.Context, rawURL string, opts Options) (*Bus, error) {
	b, err := newBus(rawURL, opts)
	if err != nil {
		return nil, err
	}
	if err := b.Ping(ctx); err != nil {
		_ = b.client.Close()
		return nil, err
	}
	return b, nil
}

// newBus is New without the first Ping.
func newBus(rawURL string, opts Options) (*Bus, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ropts, prefix, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if prefix == "" {
		prefix = opts.Channel
	}
	if prefix == "" {
		prefix = DefaultChannel
	}
	ropts.DialTimeout = opts.Timeout
	ropts.DialerRetries = 1 // fail fast: Publish is on the publish request's path
	ropts.ContextTimeoutEnabled = true
	// Maintenance notifications are for Redis Enterprise/Cloud endpoint
	// moves; off, so that nothing extra is attempted on plain servers.
	ropts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}

	b := &Bus{
		client:  goredis.NewClient(ropts),
		channel: prefix + ":events",
		timeout: opts.Timeout,
		onSub:   opts.OnSubscribe,
		log:     opts.Logger,
		done:    make(chan struct{}),
	}
	_, _ = rand.Read(b.origin[:]) // crypto/rand.Read never fails (Go 1.24+)
	return b, nil
}

// parseURL splits Herald's channel parameter off rawURL and parses the rest
// with go-redis. Errors do not repeat the URL, which may hold a password.
func parseURL(rawURL string) (*goredis.Options, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", errors.New("redis bus: malformed URL")
	}
	q := u.Query()
	prefix := q.Get(channelParam)
	if q.Has(channelParam) && (prefix == "" || len(prefix) > 128) {
		return nil, "", fmt.Errorf("redis bus: %s parameter must be 1 to 128 characters", channelParam)
	}
	q.Del(channelParam)
	u.RawQuery = q.Encode()
	ropts, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, "", fmt.Errorf("redis bus: %w", err)
	}
	return ropts, prefix, nil
}

// Channel returns the Redis channel the Bus publishes on and listens to.
func (b *Bus) Channel() string { return b.channel }

// Publish hands evs to the local sink (if Subscribe was called) and then
// PUBLISHes them, in order, for the other instances: in one message, or
// several pipelined on one connection when they are large. It returns
// within the Bus's timeout or when ctx ends, whichever comes first; an error
// means other instances may not have been rung (the local sink was). After
// Close it returns ErrClosed and rings nobody.
func (b *Bus) Publish(ctx context.Context, evs []notify.Event) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if len(evs) == 0 {
		return nil
	}
	if sink := b.sink.Load(); sink != nil {
		(*sink)(evs)
	}
	if until := b.openUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		b.missed.Store(true)
		return errUnavailable
	}
	msgs := encode(b.origin, evs)
	if b.missed.Load() {
		// Others may have missed events while Redis was unreachable and
		// may still be subscribed (no resubscription to tell them): ask
		// them to catch up from the store, after these events.
		msgs = append(msgs, encodeResync(b.origin))
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	var err error
	if len(msgs) == 1 {
		err = b.client.Publish(ctx, b.channel, msgs[0]).Err()
	} else {
		_, err = b.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, m := range msgs {
				p.Publish(ctx, b.channel, m)
			}
			return nil
		})
	}
	if err != nil {
		b.openUntil.Store(time.Now().Add(b.timeout).UnixNano())
		b.missed.Store(true)
		return fmt.Errorf("redis bus: publish: %w", err)
	}
	b.openUntil.Store(0)
	b.missed.Store(false)
	return nil
}

// errUnavailable is returned while publishes skip Redis after a failure.
var errUnavailable = errors.New("redis bus: publish skipped: redis failed within the last timeout")

// Subscribe sets the sink and, on the first call, subscribes to the channel
// and starts the delivery goroutine; a later call only replaces the sink.
// The sink receives every other instance's events, one call per message, in
// the order Redis delivers them, from that one goroutine; this instance's
// own events reach it from Publish. Losing the connection does not end
// delivery: go-redis reconnects and resubscribes, and OnSubscribe runs.
func (b *Bus) Subscribe(sink func([]notify.Event)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return ErrClosed
	}
	b.sink.Store(&sink)
	if b.ps != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	ps := b.client.Subscribe(ctx) // no channel yet: no I/O
	if err := ps.Subscribe(ctx, b.channel); err != nil {
		_ = ps.Close()
		return fmt.Errorf("redis bus: subscribe %s: %w", b.channel, err)
	}
	b.ps = ps
	go b.run(ps.ChannelWithSubscriptions(goredis.WithChannelSize(1024)))
	return nil
}

// run delivers what the subscribed connection receives until the PubSub is
// closed (which closes ch).
func (b *Bus) run(ch <-chan any) {
	defer close(b.done)
	first := true
	for m := range ch {
		switch m := m.(type) {
		case *goredis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			if !first {
				b.log.Warn("redis bus: resubscribed after losing the connection; streams catch up from the store",
					"channel", b.channel)
			}
			first = false
			if b.onSub != nil {
				b.onSub()
			}
		case *goredis.Message:
			b.deliver(m.Payload)
		}
	}
}

// deliver decodes one message and hands it to the sink, unless this Bus
// published it (Publish delivered it already).
func (b *Bus) deliver(payload string) {
	origin, evs, err := decode(payload)
	if err != nil {
		// Another version of Herald, or something else publishing on our
		// channel: drop it. Streams repair a lost durable event when the
		// next one reveals the gap.
		b.log.Warn("redis bus: dropped a message", "channel", b.channel, "bytes", len(payload), "err", err)
		return
	}
	if origin == b.origin {
		return
	}
	if evs == nil { // a resync request: the sender missed some publishes
		if b.onSub != nil {
			b.onSub()
		}
		return
	}
	evs, dropped := keepValid(evs)
	if dropped > 0 {
		b.log.Warn("redis bus: dropped events that may not reach a stream", "channel", b.channel, "events", dropped)
	}
	if sink := b.sink.Load(); sink != nil && len(evs) > 0 {
		(*sink)(evs)
	}
}

// keepValid removes from evs, in place, the events that fail
// notify.Event.Validate (a name Herald refuses, an invalid user id), so that
// whoever can publish on the channel cannot add a field to a stream. A
// dropped durable event leaves a gap that streams fill from the store,
// which leaves it out too.
func keepValid(evs []notify.Event) (kept []notify.Event, dropped int) {
	kept = evs[:0]
	for _, e := range evs {
		if e.Validate() != nil {
			dropped++
			continue
		}
		kept = append(kept, e)
	}
	return kept, dropped
}

// Ping reports whether Redis answers within the Bus's timeout.
func (b *Bus) Ping(ctx context.Context) error {
	if b.closed.Load() {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	if err := b.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis bus: ping: %w", err)
	}
	return nil
}

// Close unsubscribes, waits for the delivery goroutine to end (no event
// from Redis reaches the sink after Close returns) and closes the
// connections. Later calls return nil.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Swap(true) {
		return nil
	}
	var errs []error
	if b.ps != nil {
		errs = append(errs, b.ps.Close())
		<-b.done
	}
	errs = append(errs, b.client.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("redis bus: close: %w", err)
	}
	return nil
}
