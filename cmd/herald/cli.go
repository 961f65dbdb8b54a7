package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/herald-notify/herald/internal/config"
)

// Exit codes of the process.
const (
	exitOK      = 0
	exitRuntime = 1 // the command ran and failed
	exitUsage   = 2 // bad arguments or settings: nothing was attempted
)

// Env is everything a command may use of the world outside it. run fills
// it from the process; tests fill it with fakes. Commands do not touch os.*
// directly. An Env is not modified once built; commands may share it with
// goroutines they start.
type Env struct {
	Stdin  io.Reader           // input of commands that read "-" (import)
	Stdout io.Writer           // command output: tokens, responses
	Stderr io.Writer           // diagnostics and logs
	Getenv func(string) string // the process environment
	Rand   io.Reader           // source of secrets: crypto/rand.Reader
	Now    func() time.Time
	HTTP   *http.Client // for commands that call a server (send)
	// Open opens a file named on the command line (os.Open).
	Open func(name string) (fs.File, error)
}

// Logger returns the logger of cfg: JSON or text on Stderr at cfg's level,
// every record tagged with the instance id.
func (e *Env) Logger(cfg *config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	var h slog.Handler = slog.NewJSONHandler(e.Stderr, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(e.Stderr, opts)
	}
	return slog.New(h).With(slog.String("instance", cfg.InstanceID))
}

// run is the whole program but for the process: it parses args (without
// the program name), runs the command and returns the exit code. Errors are
// reported on stderr in one line.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: stderr,
		Getenv: getenv,
		Rand:   rand.Reader,
		Now:    time.Now,
		HTTP:   &http.Client{Timeout: 30 * time.Second},
		Open:   func(name string) (fs.File, error) { return os.Open(name) }, //nolint:gosec // G304: the user names the file
	}
	return env.run(ctx, args)
}

func (e *Env) run(ctx context.Context, args []string) int {
	if len(args) > 0 && isHelpFlag(args[0]) {
		return e.help(nil) // `herald --help`: the program's help, not serve's
	}
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		return e.help(args)
	}
	cmd, ok := findCommand(name)
	if !ok {
		e.warnf("herald: unknown command %q (see herald help)\n", name)
		return exitUsage
	}
	err := cmd.run(ctx, e, args)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		if err := writeCommandHelp(e.Stdout, cmd); err != nil {
			return exitRuntime
		}
		return exitOK
	}
	e.warnf("herald %s: %s\n", cmd.name, oneLine(err.Error()))
	if isUsage(err) {
		return exitUsage
	}
	return exitRuntime
}

// warnf writes a diagnostic to e.Stderr. A failed write is dropped: stderr
// is where failures are reported, so there is nowhere left to report it.
func (e *Env) warnf(format string, args ...any) {
	_, _ = fmt.Fprintf(e.Stderr, format, args...)
}

func (e *Env) help(args []string) int {
	if len(args) == 0 || isHelpFlag(args[0]) {
		if err := writeHelp(e.Stdout); err != nil {
			return exitRuntime
		}
		return exitOK
	}
	cmd, ok := findCommand(args[0])
	if !ok {
		e.warnf("herald help: unknown command %q\n", args[0])
		return exitUsage
	}
	if err := writeCommandHelp(e.Stdout, cmd); err != nil {
		return exitRuntime
	}
	return exitOK
}

func isHelpFlag(s string) bool {
	return s == "-h" || s == "--help" || s == "-help"
}

// command is one subcommand. flags defines its own flags (nil for none);
// run receives the arguments after the command name.
type command struct {
	name    string
	args    string // synopsis of the arguments
	summary string
	flags   func(fs *flag.FlagSet)
	run     func(ctx context.Context, e *Env, args []string) error
}

func commands() []command {
	return []command{
		{name: "serve", args: "[--dev] [settings]", run: cmdServe,
			summary: "run the HTTP server: SSE streams, inbox and publish APIs, metrics (the default command)"},
		{name: "worker", args: "[settings]", run: cmdWorker,
			summary: "consume the ingestion queue (HERALD_QUEUE) only; HTTP for health and metrics"},
		{name: "migrate", args: "[settings]", run: cmdMigrate,
			summary: "apply the database migrations and exit"},
		{name: "token", args: "--user ID [--ttl 1h]", run: cmdToken, flags: func(fs *flag.FlagSet) { tokenFlags(fs) },
			summary: "print a subscriber token for a user, signed with HERALD_JWT_SECRET"},
		{name: "send", args: "--user ID|--users A,B|--broadcast --title T [--message M] [--type T] [--data JSON] [--link L] [--url URL]", run: cmdSend,
			flags:   func(fs *flag.FlagSet) { sendFlags(fs, func(string) string { return "" }) },
			summary: "publish a notification through a running server's publish API, with HERALD_PUBLISHER_KEY"},
		{name: "import", args: "FILE|- [--url URL] [--check]", run: cmdImport,
			flags:   func(fs *flag.FlagSet) { importFlags(fs, func(string) string { return "" }) },
			summary: "import existing notifications (JSON Lines, SPEC 6) through a running server's import API, with HERALD_PUBLISHER_KEY"},
		{name: "bench", args: "idle|latency|sweep|broadcast|publish [--url URL] [--conns N] [--rate R] [--duration D] [--json] …", run: cmdBench,
			flags:   func(fs *flag.FlagSet) { benchFlags(fs, func(string) string { return "" }) },
			summary: "load-test a running server: idle stream memory, publish-to-receive latency, publish throughput"},
		{name: "version", run: cmdVersion,
			summary: "print the version, commit and Go version"},
	}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// usageError marks an error in the arguments: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// isUsage reports whether err means the command was not attempted: bad
// flags, arguments or settings.
func isUsage(err error) bool {
	var u usageError
	var c *config.Error
	return errors.As(err, &u) || errors.As(err, &c)
}

// loadConfig loads the settings for command name from e's environment and
// args, with fs holding the command's own flags (may be nil). Positional
// arguments are refused. Flag errors come back as usage errors.
func (e *Env) loadConfig(name string, args []string, fs *flag.FlagSet) (*config.Config, error) {
	if fs == nil {
		fs = flag.NewFlagSet(name, flag.ContinueOnError)
	}
	cfg, rest, err := config.Load(args, e.Getenv, fs)
	var cerr *config.Error
	switch {
	case errors.Is(err, flag.ErrHelp), errors.As(err, &cerr):
		return nil, err
	case err != nil:
		return nil, usagef("%v (see herald help %s)", err, name)
	case len(rest) > 0:
		return nil, usagef("unexpected argument %q (see herald help %s)", rest[0], name)
	}
	return cfg, nil
}

// loadConfigArg is loadConfig for a command that takes one positional
// argument (a file), before its flags or after them; it returns "" when
// there is none.
func (e *Env) loadConfigArg(name string, args []string, fs *flag.FlagSet) (*config.Config, string, error) {
	arg := ""
	switch n := len(args); {
	case n == 0:
	case args[0] == "-" || !strings.HasPrefix(args[0], "-"):
		arg, args = args[0], args[1:]
	case args[n-1] == "-" || !strings.HasPrefix(args[n-1], "-"):
		arg, args = args[n-1], args[:n-1]
	}
	cfg, err := e.loadConfig(name, args, fs)
	return cfg, arg, err
}

// oneLine keeps an error message on one line whatever it wraps.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
