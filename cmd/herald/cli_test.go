package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/herald-notify/herald/internal/config"
)

const (
	testSecret = "0123456789abcdef0123456789abcdef-secret"
	testKey    = "publisher-key-0123456789"
)

type result struct {
	code           int
	stdout, stderr string
}

// herald runs the program with args and an environment of exactly env.
func herald(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// wantOneLineError checks a failure with code, nothing on stdout, and one
// line on stderr containing each of want.
func (r result) wantOneLineError(t *testing.T, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr is not one line: %q", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q lacks %q", r.stderr, w)
		}
	}
}

func TestBadSettingsExit2(t *testing.T) {
	t.Parallel()
	valid := map[string]string{"HERALD_JWT_SECRET": testSecret, "HERALD_PUBLISHER_KEY": testKey}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for k, v := range valid {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"bad flag value, default command", valid, []string{"--ping-interval", "abc"},
			[]string{`HERALD_PING_INTERVAL (--ping-interval): must be a duration of at least 1s, got "abc"`}},
		{"bad env value", with("HERALD_MAX_CONNS", "x"), []string{"serve"}, []string{"HERALD_MAX_CONNS (--max-conns)"}},
		{"invalid db", with("HERALD_DB", "mysql://h/db"), nil, []string{"HERALD_DB (--db)"}},
		{"missing secret", map[string]string{"HERALD_PUBLISHER_KEY": testKey}, []string{"serve"}, []string{"HERALD_JWT_SECRET", "required"}},
		{"short key", with("HERALD_PUBLISHER_KEY", "abc"), []string{"serve"}, []string{"HERALD_PUBLISHER_KEY", "at least 16 bytes"}},
		{"origin star", with("HERALD_ALLOWED_ORIGINS", "*"), []string{"serve", "--dev"}, []string{"HERALD_ALLOWED_ORIGINS"}},
		{"worker without queue", valid, []string{"worker"}, []string{"HERALD_QUEUE (--queue): required"}},
		{"migrate with a bad setting", nil, []string{"migrate", "--log-level", "loud"}, []string{"HERALD_LOG_LEVEL"}},
		{"unknown flag", valid, []string{"serve", "--nope"}, []string{"-nope", "herald help serve"}},
		{"stray argument", valid, []string{"migrate", "now"}, []string{`unexpected argument "now"`}},
		{"unknown command", valid, []string{"frobnicate"}, []string{`unknown command "frobnicate"`}},
		{"help for an unknown command", nil, []string{"help", "frobnicate"}, []string{"frobnicate"}},
		{"version with an argument", nil, []string{"version", "x"}, []string{"unexpected argument"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			herald(t, tt.env, tt.args...).wantOneLineError(t, exitUsage, tt.want...)
		})
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	r := herald(t, map[string]string{"HERALD_JWT_SECRET": "tooshort-secret", "HERALD_PUBLISHER_KEY": testKey}, "serve")
	r.wantOneLineError(t, exitUsage, "HERALD_JWT_SECRET")
	if strings.Contains(r.stderr, "tooshort-secret") {
		t.Errorf("error quotes the secret: %s", r.stderr)
	}
	r = herald(t, map[string]string{"HERALD_DB": "postgres://u:hunter2@db:bad/x"}, "migrate")
	r.wantOneLineError(t, exitUsage, "HERALD_DB")
	if strings.Contains(r.stderr, "hunter2") {
		t.Errorf("error quotes the DB password: %s", r.stderr)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"help", "-h"}} {
		r := herald(t, nil, args...)
		if r.code != exitOK || r.stderr != "" {
			t.Fatalf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
		for _, c := range commands() {
			if !strings.Contains(r.stdout, "\n  "+c.name+" ") {
				t.Errorf("%q: help lacks command %s", args, c.name)
			}
		}
		for _, s := range config.Settings() {
			if !strings.Contains(r.stdout, s.Env) || !strings.Contains(r.stdout, "--"+s.Flag) {
				t.Errorf("%q: help lacks %s", args, s.Env)
			}
		}
		for _, want := range []string{"real-time notification server", "herald serve --dev", "herald send --user u1 --title hi", "HERALD_URL"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%q: help lacks %q", args, want)
			}
		}
	}
}

func TestCommandHelp(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		"send":    {"--user", "--users", "--broadcast", "--title", "--message", "--type", "--data", "--link", "--url", "default message"},
		"token":   {"--user", "--ttl", "default 1h"},
		"serve":   {"herald serve", "HERALD_PING_INTERVAL"},
		"worker":  {"HERALD_QUEUE"},
		"migrate": {"HERALD_DB"},
		"version": {"Go version"},
	}
	for name, want := range tests {
		for _, args := range [][]string{{"help", name}, {name, "--help"}} {
			r := herald(t, nil, args...)
			if r.code != exitOK || r.stderr != "" {
				t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
			}
			for _, w := range append(want, "Usage: herald "+name) {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("%q: help lacks %q", args, w)
				}
			}
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := herald(t, nil, "version")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "herald ") || !strings.HasPrefix(lines[1], "commit ") ||
		!strings.Contains(lines[2], "go1.") {
		t.Errorf("version output:\n%s", r.stdout)
	}
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	if got := oneLine("a\r\nb\nc\rd  e"); got != "a b c d  e" {
		t.Errorf("oneLine = %q", got)
	}
}
