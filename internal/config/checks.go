package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// The checks return the message of an *Error, without the setting's name.
// None of them quotes a secret; URLs are quoted with their password hidden.

func checkAddr(_ *Config, v string) error {
	_, port, err := net.SplitHostPort(v)
	if err == nil {
		err = checkPort(port)
	}
	if err != nil {
		return fmt.Errorf("must be host:port such as :8080 or 127.0.0.1:8080, got %q", v)
	}
	return nil
}

func checkOptionalAddr(c *Config, v string) error {
	if v == "" {
		return nil
	}
	return checkAddr(c, v)
}

func checkPort(p string) error {
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || (p != "0" && n == 0) {
		return errors.New("bad port")
	}
	return nil
}

func checkDB(c *Config, v string) error {
	want := fmt.Errorf("must be sqlite://PATH or postgres://USER:PASS@HOST/DB, got %q", redactURL(v))
	if path, ok := c.SQLitePath(); ok {
		if path == "" || path == "/" {
			return want
		}
		return nil
	}
	if !c.Postgres() {
		return want
	}
	if _, err := url.Parse(v); err != nil {
		return want
	}
	return nil
}

func checkBus(_ *Config, v string) error {
	if v == "memory" {
		return nil
	}
	want := fmt.Errorf("must be memory or redis://HOST:PORT/DB, got %q", redactURL(v))
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return want
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if _, err := strconv.ParseUint(db, 10, 8); err != nil {
			return want
		}
	}
	return nil
}

// checkHTTPURL accepts empty or an absolute http(s) URL with a host.
func checkHTTPURL(v, what string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be %s, an http(s) URL, got %q", what, redactURL(v))
	}
	return nil
}

func checkQueue(_ *Config, v string) error {
	return checkHTTPURL(v, "an SQS queue URL")
}

func checkSQSEndpoint(_ *Config, v string) error {
	return checkHTTPURL(v, "an endpoint URL")
}

func checkDLQ(c *Config, v string) error {
	if err := checkHTTPURL(v, "an SQS queue URL"); err != nil {
		return err
	}
	if v != "" && c.Queue == "" {
		return errors.New("set, but HERALD_QUEUE is empty")
	}
	return nil
}

func checkRegion(_ *Config, v string) error {
	for _, r := range v {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return fmt.Errorf("must be an AWS region such as eu-west-1, got %q", v)
		}
	}
	return nil
}

func checkJWTSecret(_ *Config, v Secret) error {
	if v != "" && len(v) < MinJWTSecretBytes {
		return fmt.Errorf("must be at least %d bytes, got %d", MinJWTSecretBytes, len(v))
	}
	return nil
}

func checkPublisherKey(_ *Config, v Secret) error {
	if v != "" && len(v) < MinPublisherKeyBytes {
		return fmt.Errorf("must be at least %d bytes, got %d", MinPublisherKeyBytes, len(v))
	}
	return nil
}

// checkJWKS wants https: keys fetched over plain http could be swapped by
// anyone on the path. Loopback hosts and Dev may use http.
func checkJWKS(c *Config, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("must be an https URL, got %q", redactURL(v))
	}
	if u.Scheme == "http" && !c.Dev && !loopback(u.Hostname()) {
		return fmt.Errorf("must be an https URL (http only for localhost or with --dev), got %q", redactURL(v))
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkOrigins wants each item to be exactly what a browser sends in the
// Origin header: scheme://host[:port], no path, no trailing slash. Load has
// lower-cased them.
func checkOrigins(_ *Config, origins []string) error {
	for _, o := range origins {
		if o == "*" {
			return errors.New(`"*" is not allowed (requests carry credentials); list each origin`)
		}
		u, err := url.Parse(o)
		bad := err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || u.Opaque != "" ||
			u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(o, "*")
		if !bad && u.Port() != "" {
			bad = checkPort(u.Port()) != nil
		}
		if bad {
			return fmt.Errorf("each item must be an origin scheme://host[:port] without a path, got %q", o)
		}
	}
	return nil
}

func checkReadHeaderTimeout(c *Config) error {
	if c.ReadHeaderTimeout > c.ReadTimeout {
		return fmt.Errorf("must not exceed HERALD_READ_TIMEOUT (%s), got %q",
			formatDuration(c.ReadTimeout), formatDuration(c.ReadHeaderTimeout))
	}
	return nil
}

// checkMaxAcceptedConns wants room above the stream limit: streams hold
// their connections, and a cap at or below HERALD_MAX_CONNS would leave none
// for the requests that open them or for the rest of the API.
func checkMaxAcceptedConns(c *Config) error {
	if n := c.MaxAcceptedConns; n > 0 && c.MaxConns > 0 && n <= c.MaxConns {
		return fmt.Errorf("must exceed HERALD_MAX_CONNS (%d) or be 0, got %d", c.MaxConns, n)
	}
	return nil
}

func checkInstanceID(_ *Config, v string) error {
	ok := v != "" && len(v) <= 128
	for i := 0; ok && i < len(v); i++ {
		ok = instanceIDByte(v[i])
	}
	if !ok {
		return fmt.Errorf("must be 1 to 128 characters of [A-Za-z0-9._:-], got %q", v)
	}
	return nil
}

func instanceIDByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
		b == '.' || b == '_' || b == ':' || b == '-'
}
