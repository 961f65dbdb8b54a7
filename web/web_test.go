package web

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const testKey = "pub-key-123"

// minter records the users it minted tokens for.
type minter struct {
	mu    sync.Mutex
	users []string
	err   error
}

func (m *minter) mint(userID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users = append(m.users, userID)
	if m.err != nil {
		return "", m.err
	}
	return "token-for-" + userID, nil
}

func (m *minter) calls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.users...)
}

func serve(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestPageAndAssets(t *testing.T) {
	t.Parallel()
	h := Handler(Options{Mint: (&minter{}).mint, PublisherKey: testKey})
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script type="module" src="app.js">`},
		{"/", "text/html; charset=utf-8", `aria-live="polite"`},
		{"/app.js", "text/javascript; charset=utf-8", "/api/notifications/sse/ticket"},
		{"/style.css", "text/css; charset=utf-8", "prefers-color-scheme: dark"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, h, tc.path)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200", tc.path, rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != tc.contentType {
				t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
			}
			if !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
			}
		})
	}
}

func TestUnknownAssetIs404(t *testing.T) {
	t.Parallel()
	h := Handler(Options{Mint: (&minter{}).mint, PublisherKey: testKey})
	if rec := serve(t, h, "/nope.js"); rec.Code != http.StatusNotFound {
		t.Fatalf("GET /nope.js: status %d, want 404", rec.Code)
	}
}

func TestSession(t *testing.T) {
	t.Parallel()
	m := &minter{}
	h := Handler(Options{Mint: m.mint, PublisherKey: testKey})
	rec := serve(t, h, "/dev/session?user=u1")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q, want application/json", got)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store (the answer holds secrets)", got)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decode %q: %v", rec.Body, err)
	}
	want := map[string]string{"token": "token-for-u1", "publisherKey": testKey, "userId": "u1"}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %q, want %q", k, body[k], v)
		}
	}
	if got := m.calls(); len(got) != 1 || got[0] != "u1" {
		t.Errorf("Mint called with %q, want [u1]", got)
	}
}

func TestSessionUnicodeUser(t *testing.T) {
	t.Parallel()
	m := &minter{}
	h := Handler(Options{Mint: m.mint, PublisherKey: testKey})
	user := "zoë@example.com/Ωmega"
	rec := serve(t, h, "/dev/session?user="+url.QueryEscape(user))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", rec.Code, rec.Body)
	}
	if got := m.calls(); len(got) != 1 || got[0] != user {
		t.Errorf("Mint called with %q, want [%q]", got, user)
	}
}

func TestSessionBadUser(t *testing.T) {
	t.Parallel()
	for name, query := range map[string]string{
		"missing":       "",
		"empty":         "?user=",
		"too long":      "?user=" + strings.Repeat("a", 257),
		"control char":  "?user=" + url.QueryEscape("a\nb"),
		"nul":           "?user=a%00b",
		"invalid utf-8": "?user=%ff%fe",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := &minter{}
			h := Handler(Options{Mint: m.mint, PublisherKey: testKey})
			rec := serve(t, h, "/dev/session"+query)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			var body struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("decode %q: %v", rec.Body, err)
			}
			if body.Error.Code != "invalid" || !strings.HasPrefix(body.Error.Message, "user") {
				t.Errorf("error = %+v, want code invalid and a message naming user", body.Error)
			}
			if strings.Contains(rec.Body.String(), testKey) {
				t.Error("a refused session leaks the publisher key")
			}
			if got := m.calls(); len(got) != 0 {
				t.Errorf("Mint called with %q for an invalid user", got)
			}
		})
	}
}

func TestSessionMintError(t *testing.T) {
	t.Parallel()
	h := Handler(Options{Mint: (&minter{err: errors.New("boom")}).mint, PublisherKey: testKey})
	rec := serve(t, h, "/dev/session?user=u1")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	var body struct {
		Error struct{ Code string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "internal" {
		t.Errorf("body %q: want a JSON error with code internal (err %v)", rec.Body, err)
	}
	if strings.Contains(rec.Body.String(), "boom") || strings.Contains(rec.Body.String(), testKey) {
		t.Errorf("body %q leaks the cause or the key", rec.Body)
	}
}

func TestSessionOnlyGET(t *testing.T) {
	t.Parallel()
	m := &minter{}
	h := Handler(Options{Mint: m.mint, PublisherKey: testKey})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/dev/session?user=u1", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /dev/session: status %d, want 405", rec.Code)
	}
	if got := m.calls(); len(got) != 0 {
		t.Errorf("Mint called on POST: %q", got)
	}
}

// TestScriptsNeverParseHTML guards the page's safety rule: server text is
// rendered with textContent, so no script may hand strings to the HTML
// parser.
func TestScriptsNeverParseHTML(t *testing.T) {
	t.Parallel()
	banned := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"}
	err := fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".js") {
			return err
		}
		src, err := fs.ReadFile(static, path)
		if err != nil {
			return err
		}
		for _, b := range banned {
			if strings.Contains(string(src), b) {
				t.Errorf("%s uses %s", path, b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
