package config

import (
	"strings"
	"time"
)

// Setting describes one setting: its names, default and help. Settings
// returns the whole table, from which Load, Validate and WriteHelp all work.
type Setting struct {
	Flag    string // flag name without dashes: "ping-interval"
	Env     string // environment variable: "HERALD_PING_INTERVAL"
	Default string // the default as text; "" for none
	// DevDefault, when not "", replaces Default with Dev on.
	DevDefault string
	// DefaultHelp, when not "", describes a default that is computed rather
	// than fixed (instance id); Default is then "".
	DefaultHelp string
	// Fallback is a second environment variable read when Env is unset
	// (AWS_REGION for HERALD_SQS_REGION).
	Fallback string
	Help     string
	Secret   bool // never printed, logged or quoted in errors

	bool bool // a flag that takes no value (--dev)
	// parse sets the setting in c from its text form; its error is the
	// message of an *Error, without the name.
	parse func(c *Config, s string) error
	// check validates the parsed value of c (nil when parse is enough). It
	// may look at other settings (the JWKS URL accepts http with Dev).
	check func(c *Config) error
	// show returns the value for logs and String, secrets redacted.
	show func(c *Config) string
	// def computes the default when Default is "" and nothing set the
	// setting (instance id).
	def func() string
}

// Settings returns the table of every setting, in the order of the help
// text. The slice is new on each call; changing it changes nothing else.
func Settings() []Setting {
	return []Setting{
		devDefault("127.0.0.1:8080", str("addr", ":8080", "HTTP listen address, host:port; --dev listens on loopback only unless this is set",
			func(c *Config) *string { return &c.Addr }, checkAddr)),
		urlStr("db", "sqlite://herald.db", "store: sqlite://PATH (sqlite:///abs/path.db for an absolute path) or postgres://USER:PASS@HOST/DB",
			func(c *Config) *string { return &c.DB }, checkDB),
		urlStr("bus", "memory", "cross-instance bus: memory (one instance) or redis://HOST:PORT/DB",
			func(c *Config) *string { return &c.Bus }, checkBus),
		urlStr("queue", "", "ingestion queue: an SQS queue URL; empty for none",
			func(c *Config) *string { return &c.Queue }, checkQueue),
		urlStr("sqs-endpoint", "", "AWS endpoint override, for SQS-compatible servers",
			func(c *Config) *string { return &c.SQSEndpoint }, checkSQSEndpoint),
		urlStr("sqs-dlq", "", "dead-letter queue URL, for a queue without a redrive policy",
			func(c *Config) *string { return &c.SQSDLQ }, checkDLQ),
		withFallback("AWS_REGION", str("sqs-region", "", "AWS region of the queue; AWS_REGION when unset",
			func(c *Config) *string { return &c.SQSRegion }, checkRegion)),
		num("sqs-pollers", "1", 1, "concurrent long polls on the queue (each receives up to 10 messages)",
			func(c *Config) *int { return &c.SQSPollers }),
		num("sqs-processors", "10", 1, "messages published concurrently from the queue",
			func(c *Config) *int { return &c.SQSProcessors }),
		secret("jwt-secret", "HS256 key of subscriber tokens, at least 32 bytes; required unless --dev or --jwks-url",
			func(c *Config) *Secret { return &c.JWTSecret }, checkJWTSecret),
		urlStr("jwks-url", "", "JWKS endpoint to verify RS256/ES256/EdDSA subscriber tokens against",
			func(c *Config) *string { return &c.JWKSURL }, checkJWKS),
		secret("nextauth-secret", "NEXTAUTH_SECRET/AUTH_SECRET of a Next.js app: accept its next-auth session cookie as a subscriber credential; at least 32 bytes",
			func(c *Config) *Secret { return &c.NextAuthSecret }, checkJWTSecret),
		secret("publisher-key", "bearer key of the publish and admin APIs, at least 16 bytes; required unless --dev",
			func(c *Config) *Secret { return &c.PublisherKey }, checkPublisherKey),
		dur("ping-interval", "30s", time.Second, "keep-alive comment interval on a stream",
			func(c *Config) *time.Duration { return &c.PingInterval }),
		dur("write-timeout", "10s", time.Millisecond, "deadline of each write to a stream; a client that misses it is disconnected",
			func(c *Config) *time.Duration { return &c.WriteTimeout }),
		num("conn-queue", "64", 1, "events queued per connection before a slow client is disconnected",
			func(c *Config) *int { return &c.QueueSize }),
		num("max-conns-per-user", "10", 0, "SSE connections per user; 0 for no limit",
			func(c *Config) *int { return &c.MaxConnsPerUser }),
		num("max-conns", "0", 0, "SSE connections of this instance; 0 for no limit but the OS's",
			func(c *Config) *int { return &c.MaxConns }),
		num("replay-limit", "10000", 1, "most events replayed on one reconnect; beyond it the client is told to refetch",
			func(c *Config) *int { return &c.ReplayLimit }),
		dur("retention", "90d", 24*time.Hour, "how long notifications and their events are kept, then deleted (90d, 36h, …)",
			func(c *Config) *time.Duration { return &c.Retention }),
		dur("read-timeout", "30s", 100*time.Millisecond, "time a client has to send a whole request, headers and body; a body that never arrives is cut after it",
			func(c *Config) *time.Duration { return &c.ReadTimeout }),
		dur("read-header-timeout", "10s", 100*time.Millisecond, "time a client has to send a request's line and headers",
			func(c *Config) *time.Duration { return &c.ReadHeaderTimeout }).withCheck(checkReadHeaderTimeout),
		dur("response-timeout", "60s", 100*time.Millisecond, "time from the end of a request's headers to the end of its response; streams are exempt (each of their writes has --write-timeout)",
			func(c *Config) *time.Duration { return &c.ResponseTimeout }),
		dur("idle-timeout", "2m", 100*time.Millisecond, "how long a keep-alive connection may wait for its next request",
			func(c *Config) *time.Duration { return &c.IdleTimeout }),
		num("max-header-bytes", "65536", 8192, "bytes of a request's line and headers; a larger header block is answered 431",
			func(c *Config) *int { return &c.MaxHeaderBytes }),
		num("max-accepted-conns", "0", 0, "TCP connections the HTTP listener holds at once, streams included; beyond it new ones wait in the kernel's queue; 0 for no limit",
			func(c *Config) *int { return &c.MaxAcceptedConns }).withCheck(checkMaxAcceptedConns),
		num("tickets-per-minute", "30", 0, "stream tickets one user may obtain per minute from one instance (429 beyond); 0 for no limit",
			func(c *Config) *int { return &c.TicketsPerMinute }),
		num("max-tickets-per-user", "30", 0, "unused, unexpired stream tickets one user may hold across instances (429 beyond); 0 for no limit",
			func(c *Config) *int { return &c.MaxTicketsPerUser }),
		lower(list("allowed-origins", "", "CORS allow-list: comma-separated origins scheme://host[:port]; empty for same origin only",
			func(c *Config) *[]string { return &c.AllowedOrigins }, checkOrigins)),
		dur("drain-timeout", "30s", 0, "on SIGTERM, the window over which open streams are closed",
			func(c *Config) *time.Duration { return &c.DrainTimeout }),
		oneOf("log-level", "info", "", "log level", func(c *Config) *string { return &c.LogLevel },
			"debug", "info", "warn", "error"),
		oneOf("log-format", "json", "text", "log format", func(c *Config) *string { return &c.LogFormat },
			"json", "text"),
		computed(str("instance-id", "", "name of this instance in logs, metrics and admin stats",
			func(c *Config) *string { return &c.InstanceID }, checkInstanceID), "hostname-pid", defaultInstanceID),
		str("debug-addr", "", "listener for /debug/pprof, host:port (loopback when the host is empty); empty for none",
			func(c *Config) *string { return &c.DebugAddr }, checkOptionalAddr),
		flagBool("dev", "developer mode: generated secrets, demo inbox at /, text logs",
			func(c *Config) *bool { return &c.Dev }),
	}
}

// envName derives the environment variable of a flag: HERALD_ + upper case
// with dashes as underscores, so the two names cannot disagree.
func envName(flag string) string {
	return "HERALD_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// devDefault gives s a different default with --dev.
func devDefault(v string, s Setting) Setting {
	s.DevDefault = v
	return s
}

// withCheck adds check, which may look at other settings, after s's own.
func (s Setting) withCheck(check func(c *Config) error) Setting {
	own := s.check
	s.check = func(c *Config) error {
		if own != nil {
			if err := own(c); err != nil {
				return err
			}
		}
		return check(c)
	}
	return s
}

func withFallback(env string, s Setting) Setting {
	s.Fallback = env
	return s
}

// computed gives s a default that is worked out at load time by def, and
// described in the help by help.
func computed(s Setting, help string, def func() string) Setting {
	s.DefaultHelp = help
	s.def = def
	return s
}

// lower makes s case-insensitive: its text is lower-cased before parsing.
func lower(s Setting) Setting {
	parse := s.parse
	s.parse = func(c *Config, v string) error { return parse(c, strings.ToLower(v)) }
	return s
}
