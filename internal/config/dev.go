package config

import (
	"encoding/base64"
	"fmt"
	"io"
)

// ApplyDev fills in what developer mode generates, when c.Dev is set: a
// missing HERALD_JWT_SECRET (32 random bytes) and HERALD_PUBLISHER_KEY (24
// random bytes), each base64url-encoded, read from rand (crypto/rand.Reader
// in production). It returns the environment names of the settings it
// generated, so the caller can print them for the developer; nil without
// Dev. Load has already applied the other dev defaults (text logs).
func (c *Config) ApplyDev(rand io.Reader) ([]string, error) {
	if !c.Dev {
		return nil, nil
	}
	var generated []string
	if c.JWTSecret == "" {
		s, err := randomSecret(rand, 32)
		if err != nil {
			return nil, fmt.Errorf("generate jwt secret: %w", err)
		}
		c.JWTSecret = s
		generated = append(generated, envName("jwt-secret"))
	}
	if c.PublisherKey == "" {
		s, err := randomSecret(rand, 24)
		if err != nil {
			return nil, fmt.Errorf("generate publisher key: %w", err)
		}
		c.PublisherKey = s
		generated = append(generated, envName("publisher-key"))
	}
	return generated, nil
}

func randomSecret(rand io.Reader, n int) (Secret, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", err
	}
	return Secret(base64.RawURLEncoding.EncodeToString(b)), nil
}
