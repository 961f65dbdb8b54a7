package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/herald-notify/herald/internal/config"
)

const intro = `Herald is a real-time notification server: your application publishes
notifications for its users over HTTP or SQS, Herald stores them and pushes
them to every open browser tab over Server-Sent Events.
`

const quickStart = `Quick start:
  herald serve --dev                  # prints generated secrets; open http://127.0.0.1:8080
  export HERALD_PUBLISHER_KEY=...     # in a second shell: the key serve printed
  herald send --user u1 --title hi    # appears in u1's inbox at once
  herald token --user u1              # needs HERALD_JWT_SECRET, printed by serve too
`

// writeHelp writes the program's help: what it is, the commands, a quick
// start and every setting.
func writeHelp(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nUsage:\n  herald [command] [flags]\n\nCommands:\n", intro)
	cmds := commands()
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.name))
	}
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(&b, "  %-*s  %s\n", width, "help", "this text; herald help COMMAND for one command")
	fmt.Fprintf(&b, "\n%s\n", quickStart)
	writeSettingsHelp(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSettingsHelp(b *strings.Builder) {
	b.WriteString("Settings, for every command: each has a flag and an environment variable;\n" +
		"a flag wins over the environment, which wins over the default. Prefer the\n" +
		"environment for secrets: other users of the machine can read command lines.\n")
	_ = config.WriteHelp(b) // a strings.Builder does not fail
	b.WriteString("\nherald send, import and bench also read HERALD_URL (--url), the server to\n" +
		"talk to; default " + defaultURL + ".\n")
	b.WriteString("\nExit status: 0 success, 1 failure, 2 bad arguments or settings.\n")
}

// writeCommandHelp writes the help of one command: its synopsis and
// summary, its own flags, and a pointer to the settings.
func writeCommandHelp(w io.Writer, c command) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: herald %s", c.name)
	if c.args != "" {
		fmt.Fprintf(&b, " %s", c.args)
	}
	fmt.Fprintf(&b, "\n\n%s%s.\n", strings.ToUpper(c.summary[:1]), c.summary[1:])
	if c.flags != nil {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.flags(fs)
		b.WriteString("\nFlags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(&b, "  --%-16s %s", f.Name, f.Usage)
			if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(&b, " (default %s)", f.DefValue)
			}
			b.WriteByte('\n')
		})
	}
	switch {
	case c.name == "version":
	case c.flags != nil:
		b.WriteString("\nEvery setting listed by herald help is accepted too, as a flag or an\nenvironment variable.\n")
	default:
		b.WriteString("\n")
		writeSettingsHelp(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
