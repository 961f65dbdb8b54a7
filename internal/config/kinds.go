package config

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The constructors below give each kind of setting its parser, range check
// and display, so that one kind phrases its errors one way.

func str(flag, def, help string, field func(*Config) *string, check func(*Config, string) error) Setting {
	s := Setting{Flag: flag, Env: envName(flag), Default: def, Help: help}
	s.parse = func(c *Config, v string) error {
		*field(c) = strings.TrimSpace(v)
		return nil
	}
	if check != nil {
		s.check = func(c *Config) error { return check(c, *field(c)) }
	}
	s.show = func(c *Config) string { return *field(c) }
	return s
}

// urlStr is a str whose display hides a password in its URL.
func urlStr(flag, def, help string, field func(*Config) *string, check func(*Config, string) error) Setting {
	s := str(flag, def, help, field, check)
	s.show = func(c *Config) string { return redactURL(*field(c)) }
	return s
}

func secret(flag, help string, field func(*Config) *Secret, check func(*Config, Secret) error) Setting {
	s := Setting{Flag: flag, Env: envName(flag), Help: help, Secret: true}
	s.parse = func(c *Config, v string) error {
		*field(c) = Secret(v) // as given: a secret is not ours to trim
		return nil
	}
	s.check = func(c *Config) error { return check(c, *field(c)) }
	s.show = func(c *Config) string { return field(c).String() }
	return s
}

func dur(flag, def string, min time.Duration, help string, field func(*Config) *time.Duration) Setting {
	want := "must be a duration of at least " + formatDuration(min)
	if min == 0 {
		want = "must be a duration of 0s or more"
	}
	s := Setting{Flag: flag, Env: envName(flag), Default: def, Help: help}
	s.parse = func(c *Config, v string) error {
		d, err := ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s, got %q", want, v)
		}
		*field(c) = d
		return nil
	}
	s.check = func(c *Config) error {
		if d := *field(c); d < min {
			return fmt.Errorf("%s, got %q", want, formatDuration(d))
		}
		return nil
	}
	s.show = func(c *Config) string { return formatDuration(*field(c)) }
	return s
}

func num(flag, def string, min int, help string, field func(*Config) *int) Setting {
	want := fmt.Sprintf("must be an integer of at least %d", min)
	s := Setting{Flag: flag, Env: envName(flag), Default: def, Help: help}
	s.parse = func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%s, got %q", want, v)
		}
		*field(c) = n
		return nil
	}
	s.check = func(c *Config) error {
		if n := *field(c); n < min {
			return fmt.Errorf("%s, got %d", want, n)
		}
		return nil
	}
	s.show = func(c *Config) string { return strconv.Itoa(*field(c)) }
	return s
}

// list is a comma-separated setting; blanks around items and empty items
// are dropped.
func list(flag, def, help string, field func(*Config) *[]string, check func(*Config, []string) error) Setting {
	s := Setting{Flag: flag, Env: envName(flag), Default: def, Help: help}
	s.parse = func(c *Config, v string) error {
		var out []string
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
		*field(c) = out
		return nil
	}
	s.check = func(c *Config) error { return check(c, *field(c)) }
	s.show = func(c *Config) string { return strings.Join(*field(c), ",") }
	return s
}

// oneOf is a string from a fixed set, case-insensitive, stored in lower case.
func oneOf(flag, def, devDef, help string, field func(*Config) *string, allowed ...string) Setting {
	s := str(flag, def, help+": "+strings.Join(allowed, ", "), field, nil)
	s.DevDefault = devDef
	s.parse = func(c *Config, v string) error {
		*field(c) = strings.ToLower(strings.TrimSpace(v))
		return nil
	}
	s.check = func(c *Config) error {
		if v := *field(c); !slices.Contains(allowed, v) {
			return fmt.Errorf("must be one of %s; got %q", strings.Join(allowed, ", "), v)
		}
		return nil
	}
	return s
}

func flagBool(flag, help string, field func(*Config) *bool) Setting {
	s := Setting{Flag: flag, Env: envName(flag), Default: "false", Help: help, bool: true}
	s.parse = func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", v)
		}
		*field(c) = b
		return nil
	}
	s.show = func(c *Config) string { return strconv.FormatBool(*field(c)) }
	return s
}

// ParseDuration parses a Go duration ("90s", "1h30m") optionally led by a
// whole number of days ("7d", "1d12h"). Days are 24 hours.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	rest, neg := strings.CutPrefix(s, "-")
	var d time.Duration
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		days, err := strconv.ParseUint(rest[:i], 10, 32)
		if err != nil || days > 100_000 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d = time.Duration(days) * 24 * time.Hour
		rest = rest[i+1:]
		if rest == "" {
			if neg {
				d = -d
			}
			return d, nil
		}
		if rest[0] == '-' || rest[0] == '+' {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
	}
	r, err := time.ParseDuration(rest)
	if err != nil || r < 0 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	d += r
	if neg {
		d = -d
	}
	return d, nil
}

// formatDuration prints d as time.Duration does, without zero trailing
// units: "24h", "1m30s", "10s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// redactURL hides the password of a URL, and the whole text of something
// with an "@" that does not parse as one.
func redactURL(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return redacted
	}
	return u.Redacted()
}
