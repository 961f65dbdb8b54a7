package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/auth"
)

func TestTokenVerifies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		ttl  time.Duration
	}{
		{[]string{"token", "--user", "u1"}, time.Hour},
		{[]string{"token", "--user", "u1", "--ttl", "15m"}, 15 * time.Minute},
		{[]string{"token", "--ttl=2d", "--user=u1"}, 48 * time.Hour},
	}
	v, err := auth.NewHMAC([]byte(testSecret), auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		before := time.Now().Truncate(time.Second)
		r := herald(t, map[string]string{"HERALD_JWT_SECRET": testSecret}, tt.args...)
		if r.code != exitOK || r.stderr != "" {
			t.Fatalf("%q: exit %d, stderr %q", tt.args, r.code, r.stderr)
		}
		token := strings.TrimSuffix(r.stdout, "\n")
		if strings.ContainsAny(token, " \n") {
			t.Fatalf("%q: stdout is more than the token: %q", tt.args, r.stdout)
		}
		user, exp, err := v.Verify(context.Background(), token)
		if err != nil || user != "u1" {
			t.Fatalf("%q: Verify = %q, %v", tt.args, user, err)
		}
		if lo, hi := before.Add(tt.ttl), time.Now().Add(tt.ttl); exp.Before(lo) || exp.After(hi) {
			t.Errorf("%q: exp %v, want within [%v, %v]", tt.args, exp, lo, hi)
		}
	}
}

func TestTokenSecretFromFlag(t *testing.T) {
	t.Parallel()
	r := herald(t, nil, "token", "--user", "u2", "--jwt-secret", testSecret)
	v, _ := auth.NewHMAC([]byte(testSecret), auth.Options{})
	if user, _, err := v.Verify(context.Background(), strings.TrimSpace(r.stdout)); err != nil || user != "u2" {
		t.Errorf("token signed with --jwt-secret: %q, %v (stderr %q)", user, err, r.stderr)
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	secret := map[string]string{"HERALD_JWT_SECRET": testSecret}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no secret", nil, []string{"--user", "u1"}, "HERALD_JWT_SECRET (--jwt-secret): required"},
		{"no secret in dev", nil, []string{"--user", "u1", "--dev"}, "HERALD_JWT_SECRET (--jwt-secret): required"},
		{"short secret", map[string]string{"HERALD_JWT_SECRET": "short"}, []string{"--user", "u1"}, "HERALD_JWT_SECRET"},
		{"no user", secret, nil, "--user: required"},
		{"bad user", secret, []string{"--user", "a\nb"}, "--user: must be"},
		{"zero ttl", secret, []string{"--user", "u1", "--ttl", "0s"}, "--ttl: must be positive"},
		{"bad ttl", secret, []string{"--user", "u1", "--ttl", "soon"}, "ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			herald(t, tt.env, append([]string{"token"}, tt.args...)...).wantOneLineError(t, exitUsage, tt.want)
		})
	}
}
