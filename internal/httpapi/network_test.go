package httpapi

import (
	"bufio"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// deadlineStreamer checks that a Streamer behind the middleware reaches the
// real connection: write deadlines and flushes through http.ResponseController.
type deadlineStreamer struct{}

func (deadlineStreamer) ServeStream(w http.ResponseWriter, r *http.Request, userID string, _ time.Time, _ string) error {
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err // ErrNotSupported would mean the middleware hides the connection
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("event: connected\ndata: {\"userId\":\"" + userID + "\"}\n\n"))
	if err := rc.Flush(); err != nil {
		return err
	}
	<-r.Context().Done() // held open until the client goes
	return nil
}

func TestStreamOverTheNetwork(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.Streams = deadlineStreamer{} })
	ts := httptest.NewServer(h.srv)
	defer ts.Close()

	req, err := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/api/notifications/sse", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+aliceToken)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// The first event arrives while the handler is still running: it was flushed.
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "event: connected" {
		t.Fatalf("first line %q, %v", line, err)
	}
	if err := resp.Body.Close(); err != nil && !errors.Is(err, http.ErrBodyReadAfterClose) {
		t.Fatal(err)
	}
}

func TestStreamRefusesHEAD(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := h.do("HEAD", "/api/notifications/sse", "", auth(aliceToken)...)
	if rec.Code != http.StatusMethodNotAllowed || len(h.streams.callList()) != 0 {
		t.Errorf("HEAD: %d, %d streams", rec.Code, len(h.streams.callList()))
	}
}
