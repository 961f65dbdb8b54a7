package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestValidateErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 129)
	tests := []struct {
		name     string
		env      map[string]string // on top of validEnv
		args     []string
		wantEnv  string
		wantText string // in the message
	}{
		{"addr without port", map[string]string{"HERALD_ADDR": "8080"}, nil, "HERALD_ADDR", `got "8080"`},
		{"addr bad port", nil, []string{"--addr", ":99999"}, "HERALD_ADDR", "host:port"},
		{"db scheme", map[string]string{"HERALD_DB": "mysql://h/db"}, nil, "HERALD_DB", "sqlite://PATH or postgres://"},
		{"db empty sqlite path", map[string]string{"HERALD_DB": "sqlite://"}, nil, "HERALD_DB", "sqlite://PATH"},
		{"db bad postgres url", map[string]string{"HERALD_DB": "postgres://u:pw@h:port/db"}, nil, "HERALD_DB", "[redacted]"},
		{"bus scheme", map[string]string{"HERALD_BUS": "kafka://h:9092"}, nil, "HERALD_BUS", "memory or redis://"},
		{"bus no host", map[string]string{"HERALD_BUS": "redis://"}, nil, "HERALD_BUS", "redis://HOST:PORT/DB"},
		{"bus db not a number", map[string]string{"HERALD_BUS": "redis://h:6379/x"}, nil, "HERALD_BUS", "redis://"},
		{"queue not a url", map[string]string{"HERALD_QUEUE": "my-queue"}, nil, "HERALD_QUEUE", "SQS queue URL"},
		{"endpoint not a url", map[string]string{"HERALD_SQS_ENDPOINT": "localhost:4566"}, nil, "HERALD_SQS_ENDPOINT", "http(s) URL"},
		{"dlq without queue", map[string]string{"HERALD_SQS_DLQ": "https://sqs.eu-west-1.amazonaws.com/1/dlq"}, nil, "HERALD_SQS_DLQ", "HERALD_QUEUE is empty"},
		{"region", map[string]string{"HERALD_SQS_REGION": "EU West"}, nil, "HERALD_SQS_REGION", "AWS region"},
		{"region from AWS_REGION", map[string]string{"AWS_REGION": "eu west"}, nil, "HERALD_SQS_REGION", "from AWS_REGION"},
		{"jwt secret short", map[string]string{"HERALD_JWT_SECRET": "short"}, nil, "HERALD_JWT_SECRET", "at least 32 bytes, got 5"},
		{"jwt secret missing", map[string]string{"HERALD_JWT_SECRET": ""}, nil, "HERALD_JWT_SECRET", "required unless --dev or HERALD_JWKS_URL"},
		{"jwks not a url", map[string]string{"HERALD_JWKS_URL": "keys.json"}, nil, "HERALD_JWKS_URL", "https URL"},
		{"jwks plain http", map[string]string{"HERALD_JWKS_URL": "http://idp.example.com/jwks"}, nil, "HERALD_JWKS_URL", "http only for localhost"},
		{"publisher key short", map[string]string{"HERALD_PUBLISHER_KEY": "tiny"}, nil, "HERALD_PUBLISHER_KEY", "at least 16 bytes, got 4"},
		{"publisher key missing", map[string]string{"HERALD_PUBLISHER_KEY": ""}, nil, "HERALD_PUBLISHER_KEY", "required unless --dev"},
		{"ping interval low", map[string]string{"HERALD_PING_INTERVAL": "500ms"}, nil, "HERALD_PING_INTERVAL", `at least 1s, got "500ms"`},
		{"write timeout zero", nil, []string{"--write-timeout=0"}, "HERALD_WRITE_TIMEOUT", "at least 1ms"},
		{"conn queue zero", map[string]string{"HERALD_CONN_QUEUE": "0"}, nil, "HERALD_CONN_QUEUE", "at least 1, got 0"},
		{"per-user limit negative", map[string]string{"HERALD_MAX_CONNS_PER_USER": "-1"}, nil, "HERALD_MAX_CONNS_PER_USER", "at least 0"},
		{"global limit negative", nil, []string{"--max-conns=-5"}, "HERALD_MAX_CONNS", "at least 0, got -5"},
		{"replay limit zero", map[string]string{"HERALD_REPLAY_LIMIT": "0"}, nil, "HERALD_REPLAY_LIMIT", "at least 1"},
		{"retention short", map[string]string{"HERALD_RETENTION": "1h"}, nil, "HERALD_RETENTION", `at least 24h, got "1h"`},
		{"origin star", map[string]string{"HERALD_ALLOWED_ORIGINS": "*"}, nil, "HERALD_ALLOWED_ORIGINS", "credentials"},
		{"origin with path", map[string]string{"HERALD_ALLOWED_ORIGINS": "https://a.example/app"}, nil, "HERALD_ALLOWED_ORIGINS", "without a path"},
		{"origin trailing slash", map[string]string{"HERALD_ALLOWED_ORIGINS": "https://ok.example, https://a.example/"}, nil, "HERALD_ALLOWED_ORIGINS", `"https://a.example/"`},
		{"origin without scheme", map[string]string{"HERALD_ALLOWED_ORIGINS": "a.example"}, nil, "HERALD_ALLOWED_ORIGINS", "scheme://host"},
		{"origin wildcard host", map[string]string{"HERALD_ALLOWED_ORIGINS": "https://*.example"}, nil, "HERALD_ALLOWED_ORIGINS", "origin"},
		{"origin with user", map[string]string{"HERALD_ALLOWED_ORIGINS": "https://u@a.example"}, nil, "HERALD_ALLOWED_ORIGINS", "origin"},
		{"read timeout low", map[string]string{"HERALD_READ_TIMEOUT": "10ms"}, nil, "HERALD_READ_TIMEOUT", `at least 100ms, got "10ms"`},
		{"header timeout above read timeout", map[string]string{"HERALD_READ_HEADER_TIMEOUT": "40s"}, nil, "HERALD_READ_HEADER_TIMEOUT", `must not exceed HERALD_READ_TIMEOUT (30s), got "40s"`},
		{"response timeout not a duration", nil, []string{"--response-timeout", "soon"}, "HERALD_RESPONSE_TIMEOUT", "duration"},
		{"idle timeout zero", map[string]string{"HERALD_IDLE_TIMEOUT": "0s"}, nil, "HERALD_IDLE_TIMEOUT", "at least 100ms"},
		{"header bytes low", map[string]string{"HERALD_MAX_HEADER_BYTES": "1024"}, nil, "HERALD_MAX_HEADER_BYTES", "at least 8192, got 1024"},
		{"accepted conns at the stream limit", map[string]string{"HERALD_MAX_ACCEPTED_CONNS": "100", "HERALD_MAX_CONNS": "100"}, nil, "HERALD_MAX_ACCEPTED_CONNS", "must exceed HERALD_MAX_CONNS (100)"},
		{"accepted conns negative", map[string]string{"HERALD_MAX_ACCEPTED_CONNS": "-1"}, nil, "HERALD_MAX_ACCEPTED_CONNS", "at least 0"},
		{"tickets per minute negative", map[string]string{"HERALD_TICKETS_PER_MINUTE": "-1"}, nil, "HERALD_TICKETS_PER_MINUTE", "at least 0"},
		{"tickets per user not a number", map[string]string{"HERALD_MAX_TICKETS_PER_USER": "many"}, nil, "HERALD_MAX_TICKETS_PER_USER", "integer"},
		{"drain timeout negative", map[string]string{"HERALD_DRAIN_TIMEOUT": "-1s"}, nil, "HERALD_DRAIN_TIMEOUT", "0s or more"},
		{"log level", map[string]string{"HERALD_LOG_LEVEL": "verbose"}, nil, "HERALD_LOG_LEVEL", `debug, info, warn, error; got "verbose"`},
		{"log format", nil, []string{"--log-format", "xml"}, "HERALD_LOG_FORMAT", "json, text"},
		{"instance id", map[string]string{"HERALD_INSTANCE_ID": "a b"}, nil, "HERALD_INSTANCE_ID", "[A-Za-z0-9._:-]"},
		{"instance id long", map[string]string{"HERALD_INSTANCE_ID": long}, nil, "HERALD_INSTANCE_ID", "1 to 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, err := Load(tt.args, validEnv(tt.env), nil)
			if err == nil {
				err = c.Validate()
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error for %s, got %v", tt.wantEnv, err)
			}
			msg := err.Error()
			if e.Env != tt.wantEnv || !strings.HasPrefix(msg, tt.wantEnv+" (--") {
				t.Errorf("error names %s, want %s: %s", e.Env, tt.wantEnv, msg)
			}
			if !strings.Contains(msg, tt.wantText) {
				t.Errorf("error %q lacks %q", msg, tt.wantText)
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, k := range []string{"HERALD_JWT_SECRET", "HERALD_PUBLISHER_KEY"} {
				if v := tt.env[k]; v != "" && strings.Contains(msg, v) {
					t.Errorf("error quotes the secret %s: %s", k, msg)
				}
			}
			if strings.Contains(msg, "pw@") {
				t.Errorf("error quotes a URL password: %s", msg)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(*Config) bool
	}{
		{"postgres", map[string]string{"HERALD_DB": "postgres://u:p@db:5432/herald?sslmode=disable"}, nil, (*Config).Postgres},
		{"postgresql", map[string]string{"HERALD_DB": "postgresql:///herald?host=/run/pg"}, nil, (*Config).Postgres},
		{"sqlite absolute", map[string]string{"HERALD_DB": "sqlite:///var/lib/herald.db"}, nil, nil},
		{"redis", map[string]string{"HERALD_BUS": "redis://:pw@redis:6379/2"}, nil, nil},
		{"rediss", map[string]string{"HERALD_BUS": "rediss://redis.example:6380"}, nil, nil},
		{"queue and dlq", map[string]string{
			"HERALD_QUEUE":        "https://sqs.eu-west-1.amazonaws.com/123/herald",
			"HERALD_SQS_DLQ":      "https://sqs.eu-west-1.amazonaws.com/123/herald-dlq",
			"HERALD_SQS_ENDPOINT": "http://localhost:4566",
			"HERALD_SQS_REGION":   "eu-west-1",
		}, nil, nil},
		{"jwks instead of secret", map[string]string{"HERALD_JWT_SECRET": "", "HERALD_JWKS_URL": "https://idp.example/.well-known/jwks.json"}, nil, nil},
		{"jwks http on loopback", map[string]string{"HERALD_JWKS_URL": "http://127.0.0.1:9000/jwks"}, nil, nil},
		{"jwks http with dev", map[string]string{"HERALD_JWKS_URL": "http://idp:9000/jwks"}, []string{"--dev"}, nil},
		{"dev without secrets", map[string]string{"HERALD_JWT_SECRET": "", "HERALD_PUBLISHER_KEY": ""}, []string{"--dev"}, nil},
		{"origins normalised", map[string]string{"HERALD_ALLOWED_ORIGINS": " https://App.Example.com , http://localhost:3000,"}, nil,
			func(c *Config) bool {
				return reflect.DeepEqual(c.AllowedOrigins, []string{"https://app.example.com", "http://localhost:3000"})
			}},
		{"zero limits", map[string]string{"HERALD_MAX_CONNS_PER_USER": "0", "HERALD_DRAIN_TIMEOUT": "0s"}, nil, nil},
		{"log level upper case", map[string]string{"HERALD_LOG_LEVEL": "DEBUG"}, nil,
			func(c *Config) bool { return c.LogLevel == "debug" && c.SlogLevel().String() == "DEBUG" }},
		{"accepted conns above the stream limit", map[string]string{"HERALD_MAX_ACCEPTED_CONNS": "101", "HERALD_MAX_CONNS": "100"}, nil, nil},
		{"accepted conns without a stream limit", map[string]string{"HERALD_MAX_ACCEPTED_CONNS": "5"}, nil, nil},
		{"ticket limits off", map[string]string{"HERALD_TICKETS_PER_MINUTE": "0", "HERALD_MAX_TICKETS_PER_USER": "0"}, nil, nil},
		{"short request timeouts", map[string]string{"HERALD_READ_HEADER_TIMEOUT": "1s", "HERALD_READ_TIMEOUT": "1s"}, nil,
			func(c *Config) bool { return c.ReadHeaderTimeout == c.ReadTimeout }},
		{"listen on all", nil, []string{"--addr", "0.0.0.0:0"}, nil},
		{"ipv6 addr", nil, []string{"--addr", "[::1]:8080"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, err := Load(tt.args, validEnv(tt.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tt.check != nil && !tt.check(c) {
				t.Errorf("unexpected config: %+v", c)
			}
		})
	}
}
