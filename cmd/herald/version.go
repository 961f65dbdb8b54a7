package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)" ./cmd/herald
//
// These are the only package-level variables of the program, and only the
// linker writes them. When unset, the module version and VCS data that the
// go command records are used.
var (
	version string
	commit  string
)

// buildVersion returns the version and commit of this binary.
func buildVersion() (ver, rev string) {
	ver, rev = version, commit
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return or(ver, "unknown"), or(rev, "unknown")
	}
	if ver == "" {
		ver = info.Main.Version // "(devel)" for a build from a checkout
	}
	if rev == "" {
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" && modified {
			rev += " (modified)"
		}
	}
	return or(ver, "unknown"), or(rev, "unknown")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func cmdVersion(_ context.Context, e *Env, args []string) error {
	if len(args) > 0 {
		if isHelpFlag(args[0]) {
			return flag.ErrHelp
		}
		return usagef("unexpected argument %q", args[0])
	}
	ver, rev := buildVersion()
	_, err := fmt.Fprintf(e.Stdout, "herald %s\ncommit %s\ngo     %s %s/%s\n", ver, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
