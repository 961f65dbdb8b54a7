package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Load builds a Config from the defaults, then the environment (getenv; an
// empty value counts as unset), then the flags in args, each overriding the
// one before. It does not validate beyond parsing: call Validate (or
// ValidateValues) next.
//
// fs, when not nil, holds the flags of a subcommand (herald send --title …):
// Load adds every setting's flag to it and parses args with it, so the
// subcommand's own flags and the settings mix freely. fs must use
// flag.ContinueOnError and must not define a setting's flag name (the flag
// package panics on a redefinition); its output is discarded, the caller
// reports errors.
// The arguments after the flags are returned.
//
// The error is an *Error naming the setting for a bad value, flag.ErrHelp
// for -h or --help, or the flag package's error for an unknown flag or a
// missing flag value. A bad environment value that a flag overrides is not
// an error.
func Load(args []string, getenv func(string) string, fs *flag.FlagSet) (*Config, []string, error) {
	if fs == nil {
		fs = flag.NewFlagSet("herald", flag.ContinueOnError)
	}
	fs.SetOutput(io.Discard)
	c := &Config{explicit: make(map[string]bool)}
	table := Settings()

	for _, s := range table {
		if err := s.parse(c, s.Default); err != nil {
			return nil, nil, fmt.Errorf("default of %s: %w", s.Env, err) // a bug in the table
		}
	}

	// envErrs holds the bad environment values by name; a flag for the same
	// setting clears its entry.
	envErrs := make(map[string]error)
	for _, s := range table {
		v, from := getenv(s.Env), s.Env
		if v == "" && s.Fallback != "" {
			v, from = getenv(s.Fallback), s.Fallback
		}
		if v == "" {
			continue
		}
		c.explicit[s.Env] = true
		err := s.parse(c, v)
		if err == nil && from != s.Env && s.check != nil {
			err = s.check(c) // now, to name the variable it came from
		}
		if err != nil {
			if from != s.Env {
				err = fmt.Errorf("%w (from %s)", err, from)
			}
			envErrs[s.Env] = settingError(s, err)
		}
	}

	var flagErr error
	for _, s := range table {
		set := func(v string) error {
			c.explicit[s.Env] = true
			delete(envErrs, s.Env)
			err := s.parse(c, v)
			if err != nil && flagErr == nil {
				flagErr = settingError(s, err)
			}
			return err
		}
		if s.bool {
			fs.BoolFunc(s.Flag, s.Help, set)
		} else {
			fs.Func(s.Flag, s.Help, set)
		}
	}
	if err := fs.Parse(args); err != nil {
		if flagErr != nil {
			return nil, nil, flagErr
		}
		return nil, nil, err
	}
	for _, s := range table {
		if err := envErrs[s.Env]; err != nil {
			return nil, nil, err
		}
	}

	for _, s := range table {
		if c.explicit[s.Env] {
			continue
		}
		if s.DevDefault != "" && c.Dev {
			if err := s.parse(c, s.DevDefault); err != nil {
				return nil, nil, fmt.Errorf("dev default of %s: %w", s.Env, err)
			}
		}
		if s.def != nil {
			if err := s.parse(c, s.def()); err != nil {
				return nil, nil, fmt.Errorf("default of %s: %w", s.Env, err)
			}
		}
	}
	return c, fs.Args(), nil
}

func settingError(s Setting, err error) *Error {
	return &Error{Env: s.Env, Flag: s.Flag, Msg: err.Error()}
}

// Validate checks everything `herald serve` needs: every value (see
// ValidateValues), and the secrets: HERALD_JWT_SECRET unless Dev or
// HERALD_JWKS_URL is set, HERALD_PUBLISHER_KEY unless Dev. With Dev, call
// ApplyDev first so that the secrets exist. The error is an *Error naming
// the first setting at fault, in the order of Settings.
func (c *Config) Validate() error {
	if err := c.ValidateValues(); err != nil {
		return err
	}
	if c.JWTSecret == "" && !c.Dev && c.JWKSURL == "" {
		return c.errorf("jwt-secret", "required unless --dev or HERALD_JWKS_URL is set")
	}
	if c.PublisherKey == "" && !c.Dev {
		return c.errorf("publisher-key", "required unless --dev")
	}
	return nil
}

// ValidateValues checks the value of every setting but requires none to be
// set: what commands that authenticate no one (worker, migrate) need. The
// error is an *Error naming the first setting at fault.
func (c *Config) ValidateValues() error {
	for _, s := range Settings() {
		if s.check == nil {
			continue
		}
		if err := s.check(c); err != nil {
			return settingError(s, err)
		}
	}
	return nil
}

// Require returns an *Error for the first of the named settings (by
// environment variable, HERALD_QUEUE) that is empty, nil when all are set.
// It is meant for text settings; an unknown name is an error too.
func (c *Config) Require(envs ...string) error {
	table := Settings()
	for _, env := range envs {
		i := indexEnv(table, env)
		if i < 0 {
			return fmt.Errorf("config: unknown setting %q", env)
		}
		if table[i].show(c) == "" {
			return settingError(table[i], errors.New("required"))
		}
	}
	return nil
}

func (c *Config) errorf(flag, format string, args ...any) *Error {
	return &Error{Env: envName(flag), Flag: flag, Msg: fmt.Sprintf(format, args...)}
}

func indexEnv(table []Setting, env string) int {
	for i, s := range table {
		if s.Env == env {
			return i
		}
	}
	return -1
}

// defaultInstanceID is hostname-pid, with characters an instance id may not
// hold replaced by "-".
func defaultInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "herald"
	}
	if len(host) > 100 {
		host = host[:100]
	}
	b := []byte(host)
	for i := range b {
		if !instanceIDByte(b[i]) {
			b[i] = '-'
		}
	}
	return string(b) + "-" + strconv.Itoa(os.Getpid())
}
