package config

import (
	"io"
	"strings"
)

// WriteHelp writes the settings table for --help: each setting's flag,
// environment variable and default on one line, its help indented below.
func WriteHelp(w io.Writer) error {
	table := Settings()
	flagW, envW := 0, 0
	for _, s := range table {
		flagW = max(flagW, len(s.Flag)+2)
		envW = max(envW, len(s.Env))
	}
	var b strings.Builder
	for _, s := range table {
		b.WriteString("  --")
		b.WriteString(s.Flag)
		b.WriteString(strings.Repeat(" ", flagW-len(s.Flag)))
		b.WriteString(s.Env)
		b.WriteString(strings.Repeat(" ", envW-len(s.Env)+2))
		b.WriteString(defaultText(s))
		b.WriteString("\n      ")
		b.WriteString(s.Help)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// defaultText describes s's default for the help.
func defaultText(s Setting) string {
	var d string
	switch {
	case s.DefaultHelp != "":
		d = s.DefaultHelp
	case s.Secret:
		d = "none"
	case s.Default == "":
		d = "empty"
	default:
		d = s.Default
	}
	if s.DevDefault != "" {
		d += " (" + s.DevDefault + " with --dev)"
	}
	if s.Fallback != "" {
		d += " (else " + s.Fallback + ")"
	}
	return "default: " + d
}
