// Package config holds Herald's settings: one documented struct, one table
// that gives every setting its flag, environment variable, default, help text
// and parser, and one validation that names the setting at fault.
//
// Precedence is flag > environment > default. The table (see Settings) is
// the single source of the defaults, of the help text and of the names, so
// the three cannot drift apart.
//
// A Config is a plain value: Load builds it, the caller validates it once and
// then only reads it, from any number of goroutines.
package config

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config is every setting of a Herald process. The field comments name the
// environment variable; the flag is the same name in lower case with dashes
// (HERALD_PING_INTERVAL = --ping-interval). Defaults live in the settings
// table only (see Settings).
type Config struct {
	// Addr is the HTTP listen address (HERALD_ADDR), host:port.
	Addr string
	// DB is the store URL (HERALD_DB): sqlite://PATH, sqlite:///abs/path or
	// postgres://… (postgresql://… too). See SQLitePath.
	DB string
	// Bus is the cross-instance bus (HERALD_BUS): "memory" or redis://HOST:PORT/DB
	// (rediss:// for TLS).
	Bus string

	// Queue is the SQS ingestion queue URL (HERALD_QUEUE); empty for none.
	Queue string
	// SQSEndpoint overrides the AWS endpoint for SQS-compatible servers
	// (HERALD_SQS_ENDPOINT); empty for AWS.
	SQSEndpoint string
	// SQSDLQ is the URL of the dead-letter queue used when Queue has no
	// redrive policy (HERALD_SQS_DLQ).
	SQSDLQ string
	// SQSRegion is the AWS region (HERALD_SQS_REGION, else AWS_REGION).
	SQSRegion string
	// SQSPollers is the number of concurrent long polls (HERALD_SQS_POLLERS).
	SQSPollers int
	// SQSProcessors is the number of messages published concurrently
	// (HERALD_SQS_PROCESSORS).
	SQSProcessors int

	// JWTSecret is the HS256 key of subscriber tokens (HERALD_JWT_SECRET), at
	// least MinJWTSecretBytes. Required unless Dev or JWKSURL is set.
	JWTSecret Secret
	// JWKSURL is a JWKS endpoint to verify RS256/ES256/EdDSA subscriber tokens
	// against (HERALD_JWKS_URL); https unless the host is loopback or Dev.
	JWKSURL string
	// NextAuthSecret is the NEXTAUTH_SECRET / AUTH_SECRET of a Next.js app
	// (HERALD_NEXTAUTH_SECRET); when set, a next-auth v4 or Auth.js v5
	// session cookie authenticates a subscriber too. At least
	// MinJWTSecretBytes; empty for off.
	NextAuthSecret Secret
	// PublisherKey is the bearer key of the publish and admin APIs
	// (HERALD_PUBLISHER_KEY), at least MinPublisherKeyBytes. Required unless Dev.
	PublisherKey Secret

	// PingInterval is the period of the keep-alive comment on a stream
	// (HERALD_PING_INTERVAL), at least 1s.
	PingInterval time.Duration
	// WriteTimeout is the deadline of each write to a stream
	// (HERALD_WRITE_TIMEOUT); a client that cannot take a write in time is
	// disconnected.
	WriteTimeout time.Duration
	// QueueSize is the length of each connection's bounded event queue
	// (HERALD_CONN_QUEUE), at least 1; a full queue disconnects the client.
	QueueSize int
	// MaxConnsPerUser limits the SSE connections of one user
	// (HERALD_MAX_CONNS_PER_USER); 0 means no limit.
	MaxConnsPerUser int
	// MaxConns limits the SSE connections of this instance (HERALD_MAX_CONNS);
	// 0 means no limit but the OS's.
	MaxConns int
	// ReplayLimit caps the events replayed on one resume
	// (HERALD_REPLAY_LIMIT), at least 1; beyond it the client gets a reset
	// event and refetches its inbox.
	ReplayLimit int
	// Retention is how long notifications and events are kept
	// (HERALD_RETENTION, default 90 days: an inbox keeps months, not
	// days), accepting days ("90d") as well as Go durations; at least 24h,
	// the idempotency window. Older ones are deleted by the prune loop.
	Retention time.Duration

	// ReadHeaderTimeout bounds the reading of a request's line and headers
	// (HERALD_READ_HEADER_TIMEOUT), at most ReadTimeout.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the reading of a whole request, headers and body
	// (HERALD_READ_TIMEOUT): a connection whose body never arrives is closed
	// after it.
	ReadTimeout time.Duration
	// ResponseTimeout bounds the time from the end of a request's headers to
	// the end of its response (HERALD_RESPONSE_TIMEOUT). Streams are exempt:
	// each of their writes has WriteTimeout instead.
	ResponseTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for its next
	// request (HERALD_IDLE_TIMEOUT).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's line and headers, in bytes
	// (HERALD_MAX_HEADER_BYTES); a larger header block is answered 431.
	MaxHeaderBytes int
	// MaxAcceptedConns caps the TCP connections the HTTP listener holds at
	// once, streams included (HERALD_MAX_ACCEPTED_CONNS); more wait in the
	// kernel's accept queue. 0 means no limit; else above MaxConns.
	MaxAcceptedConns int
	// TicketsPerMinute is how many stream tickets one user may obtain per
	// minute from this instance (HERALD_TICKETS_PER_MINUTE); 0 means no limit.
	TicketsPerMinute int
	// MaxTicketsPerUser bounds the unused, unexpired tickets one user holds
	// in the store, across instances (HERALD_MAX_TICKETS_PER_USER); 0 means
	// no limit.
	MaxTicketsPerUser int

	// AllowedOrigins is the CORS allow-list (HERALD_ALLOWED_ORIGINS, comma
	// separated), each an origin scheme://host[:port] in lower case; empty
	// means same origin only. "*" is refused: requests carry credentials.
	AllowedOrigins []string
	// DrainTimeout is the window over which open streams are closed on
	// SIGTERM (HERALD_DRAIN_TIMEOUT).
	DrainTimeout time.Duration

	// LogLevel is debug, info, warn or error (HERALD_LOG_LEVEL).
	LogLevel string
	// LogFormat is json or text (HERALD_LOG_FORMAT); text by default with Dev.
	LogFormat string
	// InstanceID names this process in logs, metrics and admin stats
	// (HERALD_INSTANCE_ID); hostname-pid by default.
	InstanceID string

	// DebugAddr is the address of a separate listener serving /debug/pprof
	// (HERALD_DEBUG_ADDR); empty for none. A host-less address (":6060")
	// listens on loopback only.
	DebugAddr string

	// Dev turns on developer defaults (--dev, HERALD_DEV): generated secrets
	// (see ApplyDev), the demo inbox page, text logs.
	Dev bool

	// explicit holds the environment names of the settings given by a flag
	// or an environment variable rather than defaulted. Set by Load; read only.
	explicit map[string]bool
}

// Lower bounds on the secrets, in bytes.
const (
	MinJWTSecretBytes    = 32 // HMAC-SHA256's output size; matches auth.MinSecretBytes
	MinPublisherKeyBytes = 16
)

// Secret is a credential held in a setting. It formats, logs and marshals as
// "[redacted]" (or "" when empty) so that printing a Config or a field never
// leaks it; convert it explicitly, string(s) or []byte(s), where the value is
// needed.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString is as String, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler (and so JSON) with the
// redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Error is a bad or missing setting. Its message is one line that names the
// setting by environment variable and flag, e.g.
//
//	HERALD_PING_INTERVAL (--ping-interval): must be a duration of at least 1s, got "abc"
//
// It never quotes the value of a secret.
type Error struct {
	Env  string // HERALD_PING_INTERVAL
	Flag string // ping-interval
	Msg  string // what is wrong, without the name
}

func (e *Error) Error() string { return fmt.Sprintf("%s (--%s): %s", e.Env, e.Flag, e.Msg) }

// SQLitePath returns the file path of a sqlite:// DB and true, or "" and
// false for any other store. sqlite://herald.db is the relative path
// herald.db; sqlite:///var/lib/herald.db the absolute /var/lib/herald.db.
// A query string (sqlite://x.db?_pragma=…) is not part of the path.
func (c *Config) SQLitePath() (string, bool) {
	rest, ok := strings.CutPrefix(c.DB, "sqlite://")
	if !ok {
		return "", false
	}
	path, _, _ := strings.Cut(rest, "?")
	return path, true
}

// Postgres reports whether DB names a PostgreSQL store.
func (c *Config) Postgres() bool {
	return strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://")
}

// SlogLevel returns LogLevel as a slog.Level (info for an unknown name;
// Validate refuses those).
func (c *Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Explicit reports whether the setting with environment name env was given by
// a flag or the environment rather than defaulted. It is false for a Config
// not made by Load.
func (c *Config) Explicit(env string) bool { return c.explicit[env] }
