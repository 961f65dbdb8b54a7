package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	testSecret = "s3cret-s3cret-s3cret-s3cret-s3cret!" // 35 bytes
	testKey    = "pk-0123456789abcdef"                 // 19 bytes
)

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// validEnv is an environment under which Validate passes, plus extra.
func validEnv(extra map[string]string) func(string) string {
	m := map[string]string{"HERALD_JWT_SECRET": testSecret, "HERALD_PUBLISHER_KEY": testKey}
	for k, v := range extra {
		m[k] = v
	}
	return env(m)
}

func mustLoad(t *testing.T, args []string, getenv func(string) string) *Config {
	t.Helper()
	c, _, err := Load(args, getenv, nil)
	if err != nil {
		t.Fatalf("Load(%q): %v", args, err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil, env(nil))
	want := Config{
		Addr: ":8080", DB: "sqlite://herald.db", Bus: "memory",
		PingInterval: 30 * time.Second, WriteTimeout: 10 * time.Second, QueueSize: 64,
		MaxConnsPerUser: 10, MaxConns: 0, ReplayLimit: 10000, SQSPollers: 1, SQSProcessors: 10, Retention: 90 * 24 * time.Hour,
		DrainTimeout: 30 * time.Second, LogLevel: "info", LogFormat: "json",
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, ResponseTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, TicketsPerMinute: 30, MaxTicketsPerUser: 30,
	}
	if c.InstanceID == "" {
		t.Error("InstanceID: want hostname-pid, got empty")
	}
	got := *c
	got.InstanceID, got.explicit = "", nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if err := c.ValidateValues(); err != nil {
		t.Errorf("ValidateValues of defaults: %v", err)
	}
	var e *Error
	if err := c.Validate(); !errors.As(err, &e) || e.Env != "HERALD_JWT_SECRET" {
		t.Errorf("Validate of defaults: want HERALD_JWT_SECRET required, got %v", err)
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	getenv := validEnv(map[string]string{
		"HERALD_PING_INTERVAL": "5s",
		"HERALD_ADDR":          ":9000",
		"HERALD_MAX_CONNS":     "7",
	})
	c := mustLoad(t, []string{"--ping-interval", "2m", "-max-conns=9"}, getenv)
	if c.PingInterval != 2*time.Minute {
		t.Errorf("PingInterval = %v, want flag's 2m", c.PingInterval)
	}
	if c.MaxConns != 9 {
		t.Errorf("MaxConns = %d, want flag's 9", c.MaxConns)
	}
	if c.Addr != ":9000" {
		t.Errorf("Addr = %q, want env's :9000", c.Addr)
	}
	if c.Bus != "memory" {
		t.Errorf("Bus = %q, want default memory", c.Bus)
	}
	if !c.Explicit("HERALD_ADDR") || !c.Explicit("HERALD_PING_INTERVAL") || c.Explicit("HERALD_BUS") {
		t.Errorf("Explicit: addr %v ping %v bus %v", c.Explicit("HERALD_ADDR"), c.Explicit("HERALD_PING_INTERVAL"), c.Explicit("HERALD_BUS"))
	}
}

func TestFlagOverridesBadEnv(t *testing.T) {
	t.Parallel()
	getenv := env(map[string]string{"HERALD_PING_INTERVAL": "abc"})
	if _, _, err := Load(nil, getenv, nil); err == nil {
		t.Fatal("bad env value without a flag: want an error")
	}
	c := mustLoad(t, []string{"--ping-interval=3s"}, getenv)
	if c.PingInterval != 3*time.Second {
		t.Errorf("PingInterval = %v, want 3s", c.PingInterval)
	}
}

func TestRegionFallback(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil, env(map[string]string{"AWS_REGION": "eu-west-1"}))
	if c.SQSRegion != "eu-west-1" {
		t.Errorf("SQSRegion = %q, want AWS_REGION's eu-west-1", c.SQSRegion)
	}
	c = mustLoad(t, nil, env(map[string]string{"AWS_REGION": "eu-west-1", "HERALD_SQS_REGION": "us-east-2"}))
	if c.SQSRegion != "us-east-2" {
		t.Errorf("SQSRegion = %q, want HERALD_SQS_REGION's us-east-2", c.SQSRegion)
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"7d": 7 * day, "1d12h": day + 12*time.Hour, "0d": 0, "36h": 36 * time.Hour,
		"90s": 90 * time.Second, " 2d ": 2 * day, "-1d": -day, "1d30m": day + 30*time.Minute,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "7", "1.5d", "7x", "1d-2h", "d7", "abc", "1d1d", "999999999d"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestLoadRetentionDays(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, []string{"--retention", "30d"}, validEnv(nil))
	if c.Retention != 30*24*time.Hour {
		t.Errorf("Retention = %v, want 720h", c.Retention)
	}
}

func TestParseErrorsNameTheSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantMsg string
	}{
		{"duration flag", []string{"--ping-interval", "abc"}, nil,
			`HERALD_PING_INTERVAL (--ping-interval): must be a duration of at least 1s, got "abc"`},
		{"duration env", nil, map[string]string{"HERALD_PING_INTERVAL": "abc"},
			`HERALD_PING_INTERVAL (--ping-interval): must be a duration of at least 1s, got "abc"`},
		{"int env", nil, map[string]string{"HERALD_MAX_CONNS": "lots"},
			`HERALD_MAX_CONNS (--max-conns): must be an integer of at least 0, got "lots"`},
		{"bool env", nil, map[string]string{"HERALD_DEV": "yes please"},
			`HERALD_DEV (--dev): must be true or false, got "yes please"`},
		{"bool flag", []string{"--dev=maybe"}, nil,
			`HERALD_DEV (--dev): must be true or false, got "maybe"`},
		{"retention env", nil, map[string]string{"HERALD_RETENTION": "1 week"},
			`HERALD_RETENTION (--retention): must be a duration of at least 24h, got "1 week"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Load(tt.args, env(tt.env), nil)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Load: want *Error, got %v", err)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("error:\n got %s\nwant %s", err, tt.wantMsg)
			}
		})
	}
}

func TestLoadFlagErrors(t *testing.T) {
	t.Parallel()
	if _, _, err := Load([]string{"--no-such-flag"}, env(nil), nil); err == nil || !strings.Contains(err.Error(), "no-such-flag") {
		t.Errorf("unknown flag: got %v", err)
	}
	if _, _, err := Load([]string{"--addr"}, env(nil), nil); err == nil || !strings.Contains(err.Error(), "addr") {
		t.Errorf("missing value: got %v", err)
	}
	if _, _, err := Load([]string{"-h"}, env(nil), nil); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: want flag.ErrHelp, got %v", err)
	}
}

func TestLoadWithSubcommandFlags(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	user := fs.String("user", "", "recipient")
	c, rest, err := Load([]string{"--user", "u1", "--addr", ":1", "extra", "--db", "x"}, env(nil), fs)
	if err != nil {
		t.Fatal(err)
	}
	if *user != "u1" || c.Addr != ":1" {
		t.Errorf("user %q addr %q", *user, c.Addr)
	}
	if want := []string{"extra", "--db", "x"}; !reflect.DeepEqual(rest, want) {
		t.Errorf("rest = %q, want %q", rest, want)
	}
}

func TestDev(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, []string{"--dev"}, env(nil))
	if c.LogFormat != "text" {
		t.Errorf("dev LogFormat = %q, want text", c.LogFormat)
	}
	// --dev listens on loopback only, unless HERALD_ADDR says otherwise.
	if c.Addr != "127.0.0.1:8080" {
		t.Errorf("dev Addr = %q, want 127.0.0.1:8080", c.Addr)
	}
	if c := mustLoad(t, []string{"--dev"}, env(map[string]string{"HERALD_ADDR": ":9000"})); c.Addr != ":9000" {
		t.Errorf("dev Addr with HERALD_ADDR=:9000 = %q", c.Addr)
	}
	if c := mustLoad(t, []string{"--dev", "--addr", "0.0.0.0:8080"}, env(nil)); c.Addr != "0.0.0.0:8080" {
		t.Errorf("dev Addr with --addr 0.0.0.0:8080 = %q", c.Addr)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("dev without secrets: Validate: %v", err)
	}
	rand := bytes.NewReader(bytes.Repeat([]byte{7}, 64))
	gen, err := c.ApplyDev(rand)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"HERALD_JWT_SECRET", "HERALD_PUBLISHER_KEY"}; !reflect.DeepEqual(gen, want) {
		t.Errorf("generated %q, want %q", gen, want)
	}
	if len(c.JWTSecret) < MinJWTSecretBytes || len(c.PublisherKey) < MinPublisherKeyBytes || c.JWTSecret == c.PublisherKey {
		t.Errorf("generated secrets of %d and %d bytes", len(c.JWTSecret), len(c.PublisherKey))
	}
	if err := c.Validate(); err != nil {
		t.Errorf("after ApplyDev: %v", err)
	}

	// Explicit settings win over dev defaults and are not regenerated.
	c = mustLoad(t, []string{"--dev", "--log-format", "json"}, env(map[string]string{"HERALD_PUBLISHER_KEY": testKey}))
	if c.LogFormat != "json" {
		t.Errorf("explicit LogFormat = %q, want json", c.LogFormat)
	}
	gen, err = c.ApplyDev(bytes.NewReader(make([]byte, 64)))
	if err != nil || !reflect.DeepEqual(gen, []string{"HERALD_JWT_SECRET"}) || string(c.PublisherKey) != testKey {
		t.Errorf("ApplyDev = %q, %v; key kept: %v", gen, err, string(c.PublisherKey) == testKey)
	}

	// Without Dev nothing is generated; a failing source is an error.
	c = mustLoad(t, nil, env(nil))
	if gen, err := c.ApplyDev(bytes.NewReader(nil)); gen != nil || err != nil || c.JWTSecret != "" {
		t.Errorf("ApplyDev without dev = %q, %v", gen, err)
	}
	c = mustLoad(t, []string{"--dev"}, env(nil))
	if _, err := c.ApplyDev(bytes.NewReader(make([]byte, 3))); err == nil {
		t.Error("ApplyDev with a short random source: want an error")
	}
}

func TestSQLitePath(t *testing.T) {
	t.Parallel()
	for db, want := range map[string]string{
		"sqlite://herald.db":          "herald.db",
		"sqlite://data/h.db":          "data/h.db",
		"sqlite:///var/lib/herald.db": "/var/lib/herald.db",
		"sqlite://x.db?_pragma=foo":   "x.db",
	} {
		c := Config{DB: db}
		if got, ok := c.SQLitePath(); !ok || got != want {
			t.Errorf("SQLitePath(%q) = %q, %v; want %q", db, got, ok, want)
		}
	}
	c := Config{DB: "postgres://h/db"}
	if _, ok := c.SQLitePath(); ok || !c.Postgres() {
		t.Errorf("postgres DB: SQLitePath ok %v, Postgres %v", ok, c.Postgres())
	}
}

func TestRequire(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil, env(map[string]string{"HERALD_JWT_SECRET": testSecret}))
	if err := c.Require("HERALD_JWT_SECRET", "HERALD_DB"); err != nil {
		t.Errorf("Require set settings: %v", err)
	}
	err := c.Require("HERALD_JWT_SECRET", "HERALD_QUEUE")
	if err == nil || err.Error() != "HERALD_QUEUE (--queue): required" {
		t.Errorf("Require(HERALD_QUEUE) = %v", err)
	}
	if err := c.Require("HERALD_NOPE"); err == nil {
		t.Error("Require of an unknown name: want an error")
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil, validEnv(map[string]string{
		"HERALD_DB":  "postgres://herald:dbpass-xyz@db:5432/herald",
		"HERALD_BUS": "redis://:buspass-xyz@redis:6379/0",
	}))
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("start", "config", c, "secret", c.JWTSecret)
	r := c.Redacted()
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", *c), "%#v": fmt.Sprintf("%#v", c),
		"%s secret": fmt.Sprintf("%s %v", c.JWTSecret, c.PublisherKey),
		"slog":      logged.String(), "Redacted": fmt.Sprintf("%s %s %s %s", r.JWTSecret, r.PublisherKey, r.DB, r.Bus),
	}
	for name, out := range outputs {
		for _, secret := range []string{testSecret, testKey, "dbpass-xyz", "buspass-xyz"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s leaks %q: %s", name, secret, out)
			}
		}
	}
	if !strings.Contains(logged.String(), `"ping-interval":"30s"`) || !strings.Contains(logged.String(), `"jwt-secret":"[redacted]"`) {
		t.Errorf("slog output lacks settings: %s", logged.String())
	}
	if string(c.JWTSecret) != testSecret || c.DB != "postgres://herald:dbpass-xyz@db:5432/herald" {
		t.Error("Redacted changed the original")
	}
}

func TestSettingsTable(t *testing.T) {
	t.Parallel()
	flags, envs := map[string]bool{}, map[string]bool{}
	for _, s := range Settings() {
		if flags[s.Flag] || envs[s.Env] {
			t.Errorf("duplicate setting %s", s.Flag)
		}
		flags[s.Flag], envs[s.Env] = true, true
		if s.Env != "HERALD_"+strings.ToUpper(strings.ReplaceAll(s.Flag, "-", "_")) {
			t.Errorf("%s: env %s does not match the flag", s.Flag, s.Env)
		}
		if s.Help == "" || s.parse == nil || s.show == nil {
			t.Errorf("%s: incomplete entry", s.Flag)
		}
	}
	// Every field of Config is a setting: the table and the struct cannot drift.
	typ := reflect.TypeFor[Config]()
	n := 0
	for i := range typ.NumField() {
		if typ.Field(i).IsExported() {
			n++
		}
	}
	if n != len(flags) {
		t.Errorf("Config has %d exported fields, the table %d settings", n, len(flags))
	}
}

func TestWriteHelp(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteHelp(&b); err != nil {
		t.Fatal(err)
	}
	help := b.String()
	for _, s := range Settings() {
		if !strings.Contains(help, s.Env) || !strings.Contains(help, "--"+s.Flag+" ") || !strings.Contains(help, s.Help) {
			t.Errorf("help lacks %s", s.Env)
		}
	}
	for _, want := range []string{"HERALD_PING_INTERVAL", "default: 30s", "default: 90d", "json (text with --dev)", "(else AWS_REGION)", "hostname-pid"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
