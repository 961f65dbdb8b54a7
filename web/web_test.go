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

// serve GETs target as the developer's browser on this machine would.
func serve(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, devRequest(target))
	return rec
}

func devRequest(target string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr, r.Host = "127.0.0.1:50123", "127.0.0.1:8080"
	return r
}

// TestSessionOnlyForThisMachine: the dev session (the publisher key and any
// user's token) is handed to loopback clients naming a loopback host, with
// no Origin but a loopback one; DNS rebinding (a foreign Host), a page on
// another host (a foreign Origin) and other machines get 403 and nothing.
func TestSessionOnlyForThisMachine(t *testing.T) {
	t.Parallel()
	m := &minter{}
	h := Handler(Options{Mint: m.mint, PublisherKey: testKey})
	tests := []struct {
		name, remote, host, origin string
		want                       int
	}{
		{"127.0.0.1", "127.0.0.1:5000", "127.0.0.1:8080", "", http.StatusOK},
		{"localhost, same origin", "127.0.0.1:5000", "localhost:8080", "http://localhost:8080", http.StatusOK},
		{"127.x", "127.8.9.10:5000", "127.8.9.10", "", http.StatusOK},
		{"ipv6 loopback", "[::1]:5000", "[::1]:8080", "http://[::1]:8080", http.StatusOK},
		{"another local dev server", "127.0.0.1:5000", "localhost:8080", "http://localhost:3000", http.StatusOK},
		{"upper case", "127.0.0.1:5000", "LOCALHOST:8080", "", http.StatusOK},
		{"another machine", "192.0.2.7:5000", "127.0.0.1:8080", "", http.StatusForbidden},
		{"DNS rebinding", "127.0.0.1:5000", "evil.example:8080", "http://evil.example:8080", http.StatusForbidden},
		{"rebinding without origin", "127.0.0.1:5000", "rebind.evil.example", "", http.StatusForbidden},
		{"a page elsewhere", "127.0.0.1:5000", "127.0.0.1:8080", "https://evil.example", http.StatusForbidden},
		{"opaque origin", "127.0.0.1:5000", "127.0.0.1:8080", "null", http.StatusForbidden},
		{"localhost-looking host", "127.0.0.1:5000", "localhost.evil.example", "", http.StatusForbidden},
		{"ipv4 mapped remote", "[::ffff:127.0.0.1]:5000", "127.0.0.1:8080", "", http.StatusOK},
		{"unspecified host", "127.0.0.1:5000", "0.0.0.0:8080", "", http.StatusForbidden},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/dev/session?user=u1", nil)
		r.RemoteAddr, r.Host = tt.remote, tt.host
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != tt.want {
			t.Errorf("%s: status %d, want %d; body %s", tt.name, rec.Code, tt.want, rec.Body)
		}
		if tt.want == http.StatusForbidden && (strings.Contains(rec.Body.String(), testKey) || !strings.Contains(rec.Body.String(), `"forbidden"`)) {
			t.Errorf("%s: body %s", tt.name, rec.Body)
		}
	}
	want := 0
	for _, tt := range tests {
		if tt.want == http.StatusOK {
			want++
		}
	}
	if n := len(m.calls()); n != want {
		t.Errorf("%d tokens minted, want %d (none for refused requests)", n, want)
	}
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
