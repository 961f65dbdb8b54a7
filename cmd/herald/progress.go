package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// How often the progress is shown: redrawn on a terminal, a line
// otherwise; and the width of the bar.
const (
	progressRedraw = 100 * time.Millisecond
	progressLine   = 5 * time.Second
	progressWidth  = 30
)

// progress shows how far a long command has got, on w: a bar redrawn in
// place when w is a terminal, a plain line now and then when it is not
// (a log, a CI job), nothing when quiet. It is used from one goroutine.
type progress struct {
	w        io.Writer
	tty      bool
	quiet    bool
	total    int64 // bytes to read; 0 when unknown (standard input)
	read     int64
	start    time.Time
	last     time.Time
	drawn    bool // a bar is on the terminal's current line
	counters [4]int
}

func newProgress(w io.Writer, total int64, quiet bool) *progress {
	now := time.Now()
	return &progress{w: w, tty: isTerminal(w), quiet: quiet, total: total, start: now, last: now}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// read records how many bytes of the input have been read.
func (p *progress) readBytes(n int64) { p.read = n }

// count records the counters and shows them if it is time.
func (p *progress) count(lines, imported, skipped, bad int) {
	p.counters = [4]int{lines, imported, skipped, bad}
	every := progressLine
	if p.tty {
		every = progressRedraw
	}
	if p.quiet || time.Since(p.last) < every {
		return
	}
	p.last = time.Now()
	p.show()
}

func (p *progress) show() {
	c := p.counters
	rate := float64(c[0]) / max(time.Since(p.start).Seconds(), 1e-3)
	text := fmt.Sprintf("%d lines: %d imported, %d skipped, %d bad (%.0f lines/s)", c[0], c[1], c[2], c[3], rate)
	if !p.tty {
		_, _ = fmt.Fprintf(p.w, "herald import: %s\n", text)
		return
	}
	bar := ""
	if p.total > 0 {
		done := int(min(p.read, p.total) * progressWidth / p.total)
		bar = fmt.Sprintf("[%s%s] %3d%% ", strings.Repeat("#", done), strings.Repeat(".", progressWidth-done),
			min(p.read, p.total)*100/p.total)
	}
	_, _ = fmt.Fprintf(p.w, "\r\033[K%s%s", bar, text)
	p.drawn = true
}

// clear removes the bar from the terminal's line, so that a message can
// be printed there.
func (p *progress) clear() {
	if p.drawn {
		_, _ = io.WriteString(p.w, "\r\033[K")
		p.drawn = false
	}
}

// done shows the final counts (on a terminal) and ends the bar's line.
func (p *progress) done() {
	if p.quiet || !p.tty {
		return
	}
	p.read = p.total
	p.show()
	_, _ = io.WriteString(p.w, "\n")
	p.drawn = false
}
