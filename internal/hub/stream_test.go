package hub

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/sse"
)

type testServer struct {
	hub   *Hub
	store *fakeStore
	srv   *httptest.Server
	exp   time.Time
}

func newTestServer(t *testing.T, opts StreamOptions) *testServer {
	t.Helper()
	ts := &testServer{hub: New(Options{}), store: newFakeStore()}
	st := NewStreamer(ts.hub, ts.store, opts)
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := st.ServeStream(w, r, r.URL.Query().Get("user"), ts.exp, r.Header.Get("Last-Event-ID"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

type client struct {
	t    *testing.T
	resp *http.Response
	dec  *sse.Decoder
}

func (ts *testServer) connect(t *testing.T, user, lastID string) *client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.srv.URL+"/?user="+user, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	return &client{t: t, resp: resp, dec: sse.NewDecoder(resp.Body)}
}

func (c *client) next() sse.Received {
	c.t.Helper()
	ev, err := c.dec.Next()
	if err != nil {
		c.t.Fatalf("read event: %v", err)
	}
	return ev
}

// expect reads events until one named name and returns it.
func (c *client) expect(name string) sse.Received {
	c.t.Helper()
	for {
		if ev := c.next(); ev.Name == name {
			return ev
		}
	}
}

func TestStreamStartsWithRetryConnectedAndCount(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, StreamOptions{})
	ts.store.unread["u1"] = 3
	c := ts.connect(t, "u1", "")
	ev := c.next()
	if ev.Name != notify.EventConnected || ev.Retry < time.Second || ev.Retry >= 5*time.Second {
		t.Fatalf("first event %+v", ev)
	}
	var data struct{ ClientID, UserID string }
	if err := json.Unmarshal([]byte(ev.Data), &data); err != nil || data.UserID != "u1" || data.ClientID == "" {
		t.Fatalf("connected data %s (%v)", ev.Data, err)
	}
	if _, err := notify.ParseCursor(ev.ID); err != nil {
		t.Fatalf("connected id %q: %v", ev.ID, err)
	}
	if ev := c.next(); ev.Name != notify.EventUnreadCount || ev.Data != `{"count":3}` {
		t.Fatalf("second event %+v", ev)
	}
	if ev := c.next(); ev.Name != notify.EventLive || ev.Data != `{}` {
		t.Fatalf("third event %+v, want live", ev)
	}
}

// TestStreamReplaysInPagesInSpecOrder resumes over a backlog of several
// pages, with events stored under names that may no longer be written
// among them: the replay comes whole and in order, a page per store read,
// the refused events left out but passed by the ids, then unread-count,
// then live.
func TestStreamReplaysInPagesInSpecOrder(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, StreamOptions{})
	const n = 3*replayPage + 5
	refused := map[int64]bool{}
	for i := 1; i <= n; i++ {
		name := "notification"
		if i%40 == 0 || i == n {
			name = []string{"error", "Connected", "live", "bad name"}[i%4] // stored before they were refused
			refused[int64(i)] = true
		}
		ts.store.add("u1", name, fmt.Sprintf(`{"n":%d}`, i))
	}
	c := ts.connect(t, "u1", notify.Cursor{Epoch: "test"}.String())
	c.expect(notify.EventConnected)
	var seqs []int64
	for {
		ev := c.next()
		if ev.Name != "notification" {
			if ev.Name != notify.EventUnreadCount {
				t.Fatalf("got %+v in the replay", ev)
			}
			break
		}
		cur, err := notify.ParseCursor(ev.ID)
		if err != nil || ev.Data != fmt.Sprintf(`{"n":%d}`, cur.User) {
			t.Fatalf("replayed %+v", ev)
		}
		seqs = append(seqs, cur.User)
	}
	if ev := c.next(); ev.Name != notify.EventLive {
		t.Fatalf("after unread-count got %+v, want live", ev)
	}
	var want []int64
	for i := int64(1); i <= n; i++ {
		if !refused[i] {
			want = append(want, i)
		}
	}
	if !slices.Equal(seqs, want) {
		t.Fatalf("replayed seqs %v, want %v", seqs, want)
	}
	ts.store.mu.Lock()
	reads := ts.store.reads
	ts.store.mu.Unlock()
	if reads < n/replayPage {
		t.Fatalf("%d store reads for %d events: not paged by %d", reads, n, replayPage)
	}
	// The last event (refused) still moved the position: a live event
	// right after it is written, not taken for a gap.
	next := ts.store.add("u1", "notification", `{"n":"next"}`)
	ts.hub.Dispatch([]notify.Event{next})
	if ev := c.next(); ev.Data != `{"n":"next"}` || ev.ID != (notify.Cursor{Epoch: "test", Position: notify.Position{User: n + 1}}).String() {
		t.Fatalf("live event after the replay %+v", ev)
	}
}

func TestStreamResumesAndRepairsGaps(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, StreamOptions{})
	for i := 0; i < 5; i++ {
		ts.store.add("u1", "notification", `{"n":`+string(rune('1'+i))+`}`)
	}
	ts.store.add("u2", "notification", `{"secret":true}`) // another user's
	c := ts.connect(t, "u1", notify.Cursor{Epoch: "test", Position: notify.Position{User: 2}}.String())
	c.expect(notify.EventConnected)
	for want := int64(3); want <= 5; want++ {
		ev := c.next()
		cur, err := notify.ParseCursor(ev.ID)
		if err != nil || ev.Name != "notification" || cur.User != want {
			t.Fatalf("replayed %+v, want seq %d", ev, want)
		}
	}
	c.expect(notify.EventUnreadCount)
	c.expect(notify.EventLive)

	// Live: 6 is lost by the bus, 7 arrives: 6 must be read from the store.
	ts.store.add("u1", "notification", `{"n":6}`)
	e7 := ts.store.add("u1", "notification", `{"n":7}`)
	ts.hub.Dispatch([]notify.Event{e7})
	for _, want := range []string{`{"n":6}`, `{"n":7}`} {
		if ev := c.next(); ev.Data != want {
			t.Fatalf("got %+v, want data %s", ev, want)
		}
	}
	// A late duplicate of 6 and a repeat of 7 are skipped; 8 follows 7.
	e8 := ts.store.add("u1", "notification", `{"n":8}`)
	ts.hub.Dispatch([]notify.Event{{UserID: "u1", Seq: 6, Name: "notification", Data: []byte(`{"n":6}`)}, e7, e8})
	if ev := c.next(); ev.Data != `{"n":8}` {
		t.Fatalf("after duplicates got %+v, want n=8", ev)
	}
}

func TestStreamResetsOnUnusableIDs(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, StreamOptions{ReplayLimit: 3})
	for i := 0; i < 5; i++ {
		ts.store.add("u1", "notification", `{}`)
	}
	for _, tc := range []struct{ name, id, reason string }{
		{"malformed", "not-a-cursor", "malformed event id"},
		{"foreign epoch", "other.1.0", "event id from another database"},
		{"beyond head", "test.99.0", "event id too old or unknown"},
		{"too many to replay", "test.0.0", "too many events to replay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ts.connect(t, "u1", tc.id)
			conn := c.expect(notify.EventConnected)
			ev := c.next()
			if ev.Name != notify.EventReset || !strings.Contains(ev.Data, tc.reason) {
				t.Fatalf("got %+v, want reset %q", ev, tc.reason)
			}
			if cur, _ := notify.ParseCursor(conn.ID); cur.User != 5 {
				t.Fatalf("after reset the stream starts at %q, want the head", conn.ID)
			}
		})
	}
}

func TestStreamSendsPings(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, StreamOptions{PingInterval: 20 * time.Millisecond})
	c := ts.connect(t, "u1", "")
	r := bufio.NewReader(c.resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == ": ping\n" {
			return
		}
	}
}

func TestStreamEndsAtTokenExpiry(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, StreamOptions{})
	ts.exp = time.Now().Add(300 * time.Millisecond)
	c := ts.connect(t, "u1", "")
	c.expect(notify.EventConnected)
	for {
		if _, err := c.dec.Next(); err != nil {
			break // the server ended the stream
		}
	}
	// ServeStream unregisters before it returns, before the body ends.
	if n := ts.hub.Connections(); n != 0 {
		t.Fatalf("%d connections left after expiry", n)
	}
}

func TestStreamEndsOnDrain(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, StreamOptions{})
	c := ts.connect(t, "u1", "")
	c.expect(notify.EventConnected)
	ts.hub.Drain(context.Background(), 0)
	for {
		if _, err := c.dec.Next(); err != nil {
			break
		}
	}
}

func TestResyncCatchesUpWithoutALaterEvent(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, StreamOptions{})
	c := ts.connect(t, "u1", "")
	c.expect(notify.EventConnected)
	c.expect(notify.EventUnreadCount)
	// Stored, but the bus lost the doorbell, and nothing follows it.
	ts.store.add("u1", "notification", `{"lost":true}`)
	ts.hub.Resync()
	if ev := c.expect("notification"); ev.Data != `{"lost":true}` {
		t.Fatalf("after resync got %+v", ev)
	}
}

// A counted event's share changes the count the stream writes right after
// it, with no store read: own and broadcast shares add up per connection.
func TestStreamWritesCountsFromEventShares(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, StreamOptions{})
	ts.store.unread["u1"] = 3
	c := ts.connect(t, "u1", "")
	c.expect(notify.EventConnected)
	if ev := c.next(); ev.Data != `{"count":3}` {
		t.Fatalf("initial count %+v", ev)
	}
	c.expect(notify.EventLive)
	reads := ts.store.stateCalls()
	steps := []struct {
		ev   notify.Event
		want string
	}{
		{notify.Event{UserID: "u1", Seq: 1, Name: notify.EventNotification, Data: []byte(`{}`), Unread: 4, Counted: true}, `{"count":4}`},
		{notify.Event{UserID: notify.BroadcastStream, Seq: 1, Name: notify.EventNotification, Data: []byte(`{}`), Unread: 2, Counted: true}, `{"count":6}`},
		{notify.Event{UserID: "u1", Seq: 2, Name: notify.EventRead, Data: []byte(`{"ids":["x"]}`), Unread: 3, Counted: true}, `{"count":5}`},
	}
	for _, step := range steps {
		ts.hub.Dispatch([]notify.Event{step.ev})
		if ev := c.next(); ev.Name != step.ev.Name {
			t.Fatalf("got %+v, want %s", ev, step.ev.Name)
		}
		if ev := c.next(); ev.Name != notify.EventUnreadCount || ev.Data != step.want {
			t.Fatalf("after %s: got %+v, want count %s", step.ev.Name, ev, step.want)
		}
	}
	// A system event that changes no count writes no count.
	ts.hub.Dispatch([]notify.Event{{UserID: "u1", Seq: 3, Name: "sys", Data: []byte(`{}`), Unread: 3, Counted: true}})
	ts.hub.Dispatch([]notify.Event{{UserID: "u1", Seq: 4, Name: notify.EventNotification, Data: []byte(`{}`), Unread: 4, Counted: true}})
	for _, want := range []string{"sys", notify.EventNotification, notify.EventUnreadCount} {
		if ev := c.next(); ev.Name != want {
			t.Fatalf("got %+v, want %s", ev, want)
		}
	}
	if n := ts.store.stateCalls(); n != reads {
		t.Fatalf("%d store reads for counted events", n-reads)
	}
}

// TestGapRepairPagesAndGivesUpBeyondTheLimit: a gap of several pages is
// filled from the store in order, a page per read; a gap beyond the
// replay limit ends the stream (the client resumes and is told to reset).
func TestGapRepairPagesAndGivesUpBeyondTheLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, StreamOptions{ReplayLimit: 4 * replayPage})
	c := ts.connect(t, "u1", "")
	c.expect(notify.EventLive)
	ts.store.mu.Lock()
	before := ts.store.reads
	ts.store.mu.Unlock()

	const gap = 3*replayPage + 1
	var last notify.Event
	for i := 1; i <= gap; i++ {
		last = ts.store.add("u1", "notification", fmt.Sprintf(`{"n":%d}`, i))
	}
	ts.hub.Dispatch([]notify.Event{last}) // the bus lost all the others
	for want := int64(1); want <= gap; want++ {
		ev := c.next()
		if cur, _ := notify.ParseCursor(ev.ID); cur.User != want || ev.Data != fmt.Sprintf(`{"n":%d}`, want) {
			t.Fatalf("repaired %+v, want seq %d", ev, want)
		}
	}
	ts.store.mu.Lock()
	reads := ts.store.reads - before
	ts.store.mu.Unlock()
	if reads < gap/replayPage {
		t.Fatalf("%d store reads for a gap of %d: not paged", reads, gap)
	}

	for i := 0; i <= 4*replayPage; i++ {
		last = ts.store.add("u1", "notification", `{}`)
	}
	ts.hub.Dispatch([]notify.Event{last})
	for {
		if _, err := c.dec.Next(); err != nil {
			break // the stream ended
		}
	}
}
