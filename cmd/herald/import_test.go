package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// importServer imitates the import API: it checks each line as the server
// does, refuses importIds listed in refuse (400 naming the lines), answers
// 503 to the first failures requests, and records what it imported.
type importServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []int // lines per request
	imported map[string]bool
	refuse   map[string]bool
	failures int
}

func newImportServer(t *testing.T) *importServer {
	t.Helper()
	s := &importServer{imported: map[string]bool{}, refuse: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/admin/import" || r.Header.Get("Authorization") != "Bearer "+testPublisherKey ||
			r.Header.Get("Content-Type") != "application/jsonl" {
			http.Error(w, "bad request line", http.StatusNotFound)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.failures > 0 {
			s.failures--
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":{"code":"unavailable","message":"database unavailable"}}`, http.StatusServiceUnavailable)
			return
		}
		var (
			ids []string
			bad []notify.LineError
		)
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(nil, notify.MaxImportLineBytes+2)
		for n := 1; sc.Scan(); n++ {
			imp, err := notify.ParseImportLine(sc.Bytes(), time.Now(), 0)
			if err != nil {
				t.Errorf("line %d sent though bad: %v", n, err)
			}
			if s.refuse[imp.ImportID] {
				bad = append(bad, notify.LineError{Line: n, Field: "createdAt", Message: "older than the retention"})
			}
			ids = append(ids, imp.ImportID)
		}
		s.requests = append(s.requests, len(ids))
		w.Header().Set("Content-Type", "application/json")
		if bad != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
				"code": "invalid", "message": "line …", "lines": bad}})
			return
		}
		var res notify.ImportResult
		for _, id := range ids {
			if s.imported[id] {
				res.Skipped++
			} else {
				s.imported[id] = true
				res.Imported++
			}
		}
		_ = json.NewEncoder(w).Encode(res)
	}))
	t.Cleanup(s.Close)
	return s
}

const testPublisherKey = "import-test-publisher-key"

// importLine is a good line for import id id.
func importLine(id string) string {
	return fmt.Sprintf(`{"userId":"u1","type":"comment","title":"t","importId":%q,"createdAt":"2026-01-01T10:00:00Z"}`, id)
}

func writeLines(t *testing.T, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notifications.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportSendsBatchesAndReportsEveryBadLine(t *testing.T) {
	t.Parallel()
	srv := newImportServer(t)
	srv.refuse["refused"] = true
	var lines []string
	for i := range notify.MaxImportLines + 5 {
		lines = append(lines, importLine(fmt.Sprint(i)))
	}
	lines[2] = `{"userId":"u1","type":"comment","title":"t","importId":"x"}` // line 3: no createdAt
	lines[4] = `{"userId":"u1","type":"BAD","title":"t"}`                    // line 5
	lines[6] = importLine("5")                                               // line 7: repeats line 6
	lines[8] = ""                                                            // line 9: blank, fine
	lines[notify.MaxImportLines+2] = importLine("refused")                   // refused by the server
	lines = append(lines, `{"userId":"u1","type":"comment","title":"t","importId":"y","createdAt":"yesterday"}`)
	path := writeLines(t, lines)
	env := map[string]string{"HERALD_PUBLISHER_KEY": testPublisherKey}

	r := herald(t, env, "import", "--url", srv.URL, path)
	if r.code != exitRuntime {
		t.Fatalf("exit %d, want %d; stderr %s", r.code, exitRuntime, r.stderr)
	}
	for _, want := range []string{
		path + ":3: createdAt: required\n",
		path + ":5: type: must be",
		path + ":7: importId: repeats line 6\n",
		fmt.Sprintf("%s:%d: createdAt: older than the retention\n", path, notify.MaxImportLines+3),
		fmt.Sprintf("%s:%d: createdAt: must be an RFC 3339 time", path, notify.MaxImportLines+6),
		"5 bad lines were not imported",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	good := notify.MaxImportLines + 5 - 5 // 10,005 lines, one blank, four bad here
	if len(srv.imported) != good {
		t.Errorf("server imported %d lines, want %d", len(srv.imported), good)
	}
	for _, n := range srv.requests {
		if n > notify.MaxImportLines {
			t.Errorf("a request of %d lines", n)
		}
	}
	if !strings.HasPrefix(r.stdout, fmt.Sprintf("imported %d, skipped 0 (imported before), bad 5, of %d lines", good, len(lines)-1)) {
		t.Errorf("summary %q", r.stdout)
	}

	// Run again, from standard input, with the bad lines fixed: nothing is
	// imported twice.
	srv.refuse = map[string]bool{}
	fixed := []string{importLine("0"), importLine("refused"), importLine("x")}
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"import", "--url", srv.URL, "-"}, func(k string) string { return env[k] },
		strings.NewReader(strings.Join(fixed, "\n")), &out, &errOut)
	if code != exitOK || !strings.HasPrefix(out.String(), "imported 2, skipped 1 (imported before), bad 0, of 3 lines") {
		t.Errorf("second run: exit %d, %q, %q", code, out.String(), errOut.String())
	}
}

func TestImportRetriesWhatIsNotTheFilesFault(t *testing.T) {
	t.Parallel()
	srv := newImportServer(t)
	srv.failures = 2
	path := writeLines(t, []string{importLine("a"), importLine("b")})
	r := herald(t, map[string]string{"HERALD_PUBLISHER_KEY": testPublisherKey}, "import", path, "--url", srv.URL)
	if r.code != exitOK || len(srv.imported) != 2 || len(srv.requests) != 1 {
		t.Fatalf("exit %d, %d imported in %d requests; stderr %s", r.code, len(srv.imported), len(srv.requests), r.stderr)
	}
}

func TestImportUsage(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HERALD_PUBLISHER_KEY": testPublisherKey}
	herald(t, env, "import").wantOneLineError(t, exitUsage, "a file is required")
	herald(t, map[string]string{}, "import", "x.jsonl").wantOneLineError(t, exitUsage, "HERALD_PUBLISHER_KEY")
	herald(t, env, "import", "--url", "ftp://x", "x.jsonl").wantOneLineError(t, exitUsage, "--url")
	herald(t, env, "import", filepath.Join(t.TempDir(), "missing.jsonl")).wantOneLineError(t, exitRuntime, "no such file")

	// --check needs no server and no key.
	path := writeLines(t, []string{importLine("a"), `{"userId":"u1"}`})
	r := herald(t, map[string]string{}, "import", "--check", path)
	if r.code != exitRuntime || !strings.Contains(r.stderr, path+":2: type: required") ||
		!strings.HasPrefix(r.stdout, "checked 1, skipped 0 (imported before), bad 1, of 2 lines") {
		t.Errorf("--check: %d %q %q", r.code, r.stdout, r.stderr)
	}
}
