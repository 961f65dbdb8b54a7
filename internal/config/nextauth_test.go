package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestNextAuthSecret(t *testing.T) {
	t.Parallel()
	const na = "nextauth-secret-nextauth-secret-0123" // 36 bytes
	c := mustLoad(t, nil, validEnv(map[string]string{"HERALD_NEXTAUTH_SECRET": na}))
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if string(c.NextAuthSecret) != na {
		t.Errorf("NextAuthSecret = %q", string(c.NextAuthSecret))
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("start", "config", c)
	r := c.Redacted()
	for name, out := range map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", *c), "slog": logged.String(), "Redacted": string(r.NextAuthSecret),
	} {
		if strings.Contains(out, na) {
			t.Errorf("%s leaks the next-auth secret: %s", name, out)
		}
	}

	c = mustLoad(t, []string{"--nextauth-secret", "short"}, validEnv(nil))
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "HERALD_NEXTAUTH_SECRET") || strings.Contains(err.Error(), "short") {
		t.Errorf("Validate of a short next-auth secret = %v; want an error naming the setting, not quoting it", err)
	}
	if c := mustLoad(t, nil, validEnv(nil)); c.NextAuthSecret != "" {
		t.Error("NextAuthSecret is set by default")
	}
}
