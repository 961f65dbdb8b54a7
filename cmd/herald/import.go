package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// importRetries is how often a batch is sent again after a failure that
// is not the batch's fault (the network, a 5xx, 429, 503); re-sending is
// safe because import ids make it idempotent.
const importRetries = 5

// importSenders is how many requests are in flight at once, so that the
// server reads one while it stores the other (it runs
// notify.MaxConcurrentImports at once), and this command reads on.
const importSenders = notify.MaxConcurrentImports

type importOptions struct {
	url   string
	check bool
	quiet bool
}

// importFlags defines the flags of `herald import` on fs; --url defaults to
// HERALD_URL from getenv.
func importFlags(fs *flag.FlagSet, getenv func(string) string) *importOptions {
	o := &importOptions{}
	fs.StringVar(&o.url, "url", or(getenv("HERALD_URL"), defaultURL), "base URL of the Herald server (env HERALD_URL)")
	fs.BoolVar(&o.check, "check", false, "check every line and report the bad ones; send nothing")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on stderr")
	return o
}

// cmdImport sends a JSON Lines file of notifications (SPEC 6) to a running
// server's import API, in requests within the API's limits. Every line is
// checked first, here: bad ones are reported (FILE:LINE: field: message)
// and left out, the good ones imported; lines the server refuses are
// reported the same way. Re-running is safe: lines already imported are
// skipped by their importId. The command fails when any line was bad.
func cmdImport(ctx context.Context, e *Env, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	o := importFlags(fs, e.Getenv)
	cfg, name, err := e.loadConfigArg("import", args, fs)
	if err != nil {
		return err
	}
	if name == "" {
		return usagef("a file is required: herald import FILE (- for standard input)")
	}
	target, err := endpoint(o.url)
	if err != nil {
		return err
	}
	target = strings.TrimSuffix(target, "/api/publish/notifications") + "/api/admin/import"
	if err := cfg.ValidateValues(); err != nil {
		return err
	}
	if !o.check {
		if err := cfg.Require("HERALD_PUBLISHER_KEY"); err != nil {
			return err
		}
	}
	in, size, label, err := openImport(e, name)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	imp := &importer{
		e: e, url: target, key: string(cfg.PublisherKey), label: label, check: o.check,
		progress: newProgress(e.Stderr, size, o.quiet), start: e.Now(),
	}
	if err := imp.run(ctx, in); err != nil {
		imp.progress.done()
		return err
	}
	imp.progress.done()
	return imp.summary()
}

// openImport opens the file to import ("-": standard input) and returns its
// size (0 when unknown) and the name to report lines under.
func openImport(e *Env, name string) (io.ReadCloser, int64, string, error) {
	if name == "-" {
		return io.NopCloser(e.Stdin), 0, "stdin", nil
	}
	f, err := e.Open(name)
	if err != nil {
		return nil, 0, "", err
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, name, nil
}

// importer sends one file: run reads and checks it on the calling
// goroutine and hands batches to importSenders goroutines.
type importer struct {
	e        *Env
	url, key string
	label    string
	check    bool
	start    time.Time

	mu                            sync.Mutex // guards what follows, and writes to Stderr
	progress                      *progress
	lines, imported, skipped, bad int
}

// pending is one request's worth of good lines.
type pending struct {
	lines   [][]byte
	numbers []int          // each line's number in the file
	ids     map[string]int // import id → line number
	bytes   int
}

func newPending() *pending { return &pending{ids: make(map[string]int)} }

// run reads the file, checks each line and sends the good ones in batches,
// importSenders at a time. The first failure to send stops the run.
func (imp *importer) run(ctx context.Context, in io.Reader) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan *pending)
	var wg sync.WaitGroup
	for range importSenders {
		wg.Go(func() {
			for b := range batches {
				if err := imp.send(ctx, b); err != nil {
					cancel(err)
				}
			}
		})
	}
	err := imp.read(ctx, in, batches)
	close(batches)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause // a send failed: read stopped because of it
	}
	return err
}

// read checks each line of in and hands full batches, then the last one,
// to batches.
func (imp *importer) read(ctx context.Context, in io.Reader, batches chan<- *pending) error {
	lr := notify.NewLineReader(in, notify.MaxImportLineBytes)
	batch := newPending()
	hand := func() error {
		select {
		case batches <- batch:
			batch = newPending()
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	for {
		n, line, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		switch {
		case errors.Is(err, notify.ErrLineTooLong):
			imp.report(n, "line", fmt.Sprintf("longer than %d bytes", notify.MaxImportLineBytes))
			continue
		case err != nil:
			return fmt.Errorf("read %s: %w", imp.label, err)
		case len(bytes.TrimSpace(line)) == 0:
			continue
		}
		imp.mu.Lock()
		imp.lines++
		imp.progress.readBytes(lr.Bytes())
		imp.progress.count(imp.lines, imp.imported, imp.skipped, imp.bad)
		imp.mu.Unlock()
		parsed, err := notify.ParseImportLine(line, imp.e.Now(), 0)
		if err != nil {
			imp.reportErr(n, err)
			continue
		}
		if first, ok := batch.ids[parsed.ImportID]; ok {
			imp.report(n, "importId", fmt.Sprintf("repeats line %d", first))
			continue
		}
		if len(batch.lines) == notify.MaxImportLines || batch.bytes+len(line)+1 > notify.MaxImportBytes {
			if err := hand(); err != nil {
				return err
			}
		}
		batch.lines = append(batch.lines, bytes.Clone(line))
		batch.numbers = append(batch.numbers, n)
		batch.ids[parsed.ImportID] = n
		batch.bytes += len(line) + 1
	}
	if len(batch.lines) == 0 {
		return nil
	}
	return hand()
}

// send imports a batch. Lines the server refuses (it names them) are
// reported and the rest sent again; other failures are retried, then end
// the run.
func (imp *importer) send(ctx context.Context, batch *pending) error {
	if imp.check || len(batch.lines) == 0 {
		return nil
	}
	lines, numbers := batch.lines, batch.numbers
	for refusals := 0; len(lines) > 0; refusals++ {
		res, bad, err := imp.post(ctx, bytes.Join(lines, []byte("\n")))
		if err != nil {
			return err
		}
		if bad == nil {
			imp.mu.Lock()
			imp.imported += res.Imported
			imp.skipped += res.Skipped
			imp.progress.count(imp.lines, imp.imported, imp.skipped, imp.bad)
			imp.mu.Unlock()
			return nil
		}
		if len(bad.Lines) == 0 || refusals == 2 {
			return fmt.Errorf("server refused lines %d to %d: %s", numbers[0], numbers[len(numbers)-1], bad.Message)
		}
		drop := make(map[int]bool, len(bad.Lines))
		for _, l := range bad.Lines {
			if l.Line >= 1 && l.Line <= len(numbers) {
				drop[l.Line-1] = true
				imp.report(numbers[l.Line-1], l.Field, l.Message)
			}
		}
		var keptLines [][]byte
		var keptNumbers []int
		for i := range lines {
			if !drop[i] {
				keptLines, keptNumbers = append(keptLines, lines[i]), append(keptNumbers, numbers[i])
			}
		}
		lines, numbers = keptLines, keptNumbers
	}
	return nil
}

// importRefusal is the error body of a 400 from the import API.
type importRefusal struct {
	Message string             `json:"message"`
	Lines   []notify.LineError `json:"lines"`
}

// post sends one request body, retrying what is worth retrying. A 400 is
// returned as bad, not as an error.
func (imp *importer) post(ctx context.Context, body []byte) (notify.ImportResult, *importRefusal, error) {
	var last error
	for attempt := range importRetries + 1 {
		if attempt > 0 {
			wait := min(time.Second<<(attempt-1), 30*time.Second)
			var ra retryAfter
			if errors.As(last, &ra) && ra.d > 0 {
				wait = ra.d
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return notify.ImportResult{}, nil, ctx.Err()
			case <-t.C:
			}
		}
		res, bad, err := imp.postOnce(ctx, body)
		if err == nil || !retryable(err) {
			return res, bad, err
		}
		last = err
	}
	return notify.ImportResult{}, nil, fmt.Errorf("%w (after %d attempts; running the import again is safe: imported lines are skipped)",
		last, importRetries+1)
}

func (imp *importer) postOnce(ctx context.Context, body []byte) (notify.ImportResult, *importRefusal, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, imp.url, bytes.NewReader(body))
	if err != nil {
		return notify.ImportResult{}, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/jsonl")
	req.Header.Set("Authorization", "Bearer "+imp.key)
	ver, _ := buildVersion()
	req.Header.Set("User-Agent", "herald-import/"+ver)
	resp, err := imp.e.HTTP.Do(req)
	if err != nil {
		return notify.ImportResult{}, nil, transient{err}
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return notify.ImportResult{}, nil, transient{fmt.Errorf("read response: %w", err)}
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var res notify.ImportResult
		if err := json.Unmarshal(answer, &res); err != nil {
			return res, nil, fmt.Errorf("server answered %q", answer)
		}
		return res, nil, nil
	case resp.StatusCode == http.StatusBadRequest:
		var e struct {
			Error importRefusal `json:"error"`
		}
		if json.Unmarshal(answer, &e) != nil || e.Error.Message == "" {
			return notify.ImportResult{}, nil, fmt.Errorf("server answered %s: %s", resp.Status, serverMessage(answer))
		}
		return notify.ImportResult{}, &e.Error, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		err := fmt.Errorf("server answered %s: %s", resp.Status, serverMessage(answer))
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
			return notify.ImportResult{}, nil, retryAfter{transient{err}, time.Duration(s) * time.Second}
		}
		return notify.ImportResult{}, nil, transient{err}
	}
	return notify.ImportResult{}, nil, fmt.Errorf("server answered %s: %s", resp.Status, serverMessage(answer))
}

// transient marks a failure worth retrying; retryAfter one whose server
// said when.
type transient struct{ error }

func (t transient) Unwrap() error { return t.error }

type retryAfter struct {
	transient
	d time.Duration
}

func retryable(err error) bool {
	var t transient
	var ra retryAfter
	return errors.As(err, &t) || errors.As(err, &ra)
}

// reportErr reports a line refused by the local check.
func (imp *importer) reportErr(line int, err error) {
	field, msg, ok := strings.Cut(notify.ErrorMessage(err), ": ")
	if !ok {
		field, msg = "line", field
	}
	imp.report(line, field, msg)
}

// report prints one bad line as FILE:LINE: field: message.
func (imp *importer) report(line int, field, msg string) {
	imp.mu.Lock()
	defer imp.mu.Unlock()
	imp.bad++
	imp.progress.clear()
	imp.e.warnf("%s:%d: %s: %s\n", imp.label, line, field, msg)
}

// summary prints the totals and fails when a line was bad.
func (imp *importer) summary() error {
	elapsed := imp.e.Now().Sub(imp.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(imp.lines) / elapsed.Seconds()
	}
	verb := "imported"
	if imp.check {
		verb = "checked"
		imp.imported = imp.lines - imp.bad
	}
	if _, err := fmt.Fprintf(imp.e.Stdout, "%s %d, skipped %d (imported before), bad %d, of %d lines in %s (%.0f lines/s)\n",
		verb, imp.imported, imp.skipped, imp.bad, imp.lines, elapsed.Round(time.Millisecond), rate); err != nil {
		return err
	}
	if imp.bad > 0 {
		return fmt.Errorf("%d bad lines were not imported (reported above): fix them and run the same import again; the lines already imported are skipped", imp.bad)
	}
	return nil
}
