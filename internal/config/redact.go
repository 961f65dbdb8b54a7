package config

import (
	"log/slog"
	"strings"
)

// Redacted returns a copy of c that is safe to print whole: secrets are
// replaced by "[redacted]" and passwords in URLs (DB, bus, queues, JWKS) are
// hidden. The copy is for display; it cannot authenticate anything.
func (c *Config) Redacted() Config {
	r := *c
	r.AllowedOrigins = append([]string(nil), c.AllowedOrigins...)
	if r.JWTSecret != "" {
		r.JWTSecret = redacted
	}
	if r.NextAuthSecret != "" {
		r.NextAuthSecret = redacted
	}
	if r.PublisherKey != "" {
		r.PublisherKey = redacted
	}
	r.DB = redactURL(r.DB)
	r.Bus = redactURL(r.Bus)
	r.Queue = redactURL(r.Queue)
	r.SQSEndpoint = redactURL(r.SQSEndpoint)
	r.SQSDLQ = redactURL(r.SQSDLQ)
	r.JWKSURL = redactURL(r.JWKSURL)
	return r
}

// LogValue implements slog.LogValuer: a group of every setting by flag name,
// secrets and URL passwords hidden.
func (c Config) LogValue() slog.Value {
	table := Settings()
	attrs := make([]slog.Attr, 0, len(table))
	for _, s := range table {
		attrs = append(attrs, slog.String(s.Flag, s.show(&c)))
	}
	return slog.GroupValue(attrs...)
}

// String lists every setting as flag=value, secrets and URL passwords
// hidden, so that printing a Config with %v or %+v leaks nothing.
func (c Config) String() string {
	var b strings.Builder
	for i, s := range Settings() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.Flag)
		b.WriteByte('=')
		b.WriteString(s.show(&c))
	}
	return b.String()
}

// GoString is String, for %#v.
func (c Config) GoString() string { return "config.Config{" + c.String() + "}" }
