package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

func TestUnknownRouteIsJSON404(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, target := range []string{"/api/nope", "/nope", "/api/notifications/", "/api/notifications/x/y/z"} {
		wantError(t, h.do("GET", target, ""), http.StatusNotFound, notify.CodeNotFound, "no such route")
	}
}

func TestWrongMethodIsJSON405(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := map[string]string{
		"POST /healthz":                     "GET, HEAD",
		"DELETE /api/publish/notifications": "POST",
		"PUT /api/notifications/read-all":   "DELETE, POST", // DELETE: read-all could be an {id}
		"POST /api/notifications/sse":       "DELETE, GET, HEAD",
	}
	for req, allow := range cases {
		method, path, _ := strings.Cut(req, " ")
		rec := h.do(method, path, "", auth(pubKey)...)
		wantError(t, rec, http.StatusMethodNotAllowed, codeMethodNotAllowed, "method "+method)
		if got := rec.Header().Get("Allow"); got != allow {
			t.Errorf("%s: Allow = %q, want %q", req, got, allow)
		}
	}
}

func TestOptionalHandlers(t *testing.T) {
	t.Parallel()
	write := func(w http.ResponseWriter, s string) {
		if _, err := io.WriteString(w, s); err != nil {
			t.Error(err)
		}
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { write(w, "demo "+r.URL.Path) })
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { write(w, "# metrics") })
	h := newHarness(t, func(o *Options) { o.Web, o.Metrics = page, metrics })
	if rec := h.do("GET", "/", ""); rec.Body.String() != "demo /" {
		t.Errorf("GET /: %s", rec.Body)
	}
	if rec := h.do("GET", "/app.js", ""); rec.Body.String() != "demo /app.js" {
		t.Errorf("GET /app.js: %s", rec.Body)
	}
	if rec := h.do("GET", "/metrics", ""); rec.Body.String() != "# metrics" {
		t.Errorf("GET /metrics: %s", rec.Body)
	}
	// The API keeps its own JSON answers.
	wantError(t, h.do("GET", "/api/nope", ""), http.StatusNotFound, notify.CodeNotFound, "")
	wantError(t, h.do("POST", "/", ""), http.StatusNotFound, notify.CodeNotFound, "")

	bare := newHarness(t)
	wantError(t, bare.do("GET", "/", ""), http.StatusNotFound, notify.CodeNotFound, "")
	wantError(t, bare.do("GET", "/metrics", ""), http.StatusNotFound, notify.CodeNotFound, "")
}

func TestPathCleaningRedirectKept(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := h.do("GET", "/api/../healthz", "")
	if rec.Code != http.StatusTemporaryRedirect && rec.Code != http.StatusMovedPermanently {
		t.Errorf("unclean path: %d %s", rec.Code, rec.Body)
	}
}

func TestPanicBecomes500(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.streams.mu.Lock()
	h.streams.panic = true
	h.streams.mu.Unlock()
	rec := h.do("GET", "/api/notifications/sse", "", auth(aliceToken)...)
	wantError(t, rec, http.StatusInternalServerError, notify.CodeInternal, "internal error")
	if !strings.Contains(h.logs.String(), "streamer exploded") {
		t.Error("panic not logged")
	}
}
