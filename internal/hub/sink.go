package hub

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// sink is where a stream's bytes go: the connection taken over from
// net/http (the usual case), or the http.ResponseWriter itself where the
// connection cannot be taken over (HTTP/2, test recorders).
type sink interface {
	// write writes buf whole, under the per-write deadline.
	write(buf []byte) error
	// close releases the connection; idempotent.
	close()
}

// httpSink writes through the ResponseWriter, flushing each write. Its
// handler goroutine must stay in ServeStream for as long as the stream.
type httpSink struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

// write sets the deadline for this write and clears it after: over HTTP/2 a
// write deadline (the server's response timeout included) resets the stream
// when it passes, even while nothing is being written, and a stream is idle
// for a ping interval at a time.
func (s *httpSink) write(buf []byte) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := s.w.Write(buf); err != nil {
		return err
	}
	if err := s.rc.Flush(); err != nil {
		return err
	}
	if err := s.rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func (s *httpSink) close() {}

// connSink writes to a hijacked connection. The response is delimited by
// closing the connection (Connection: close), so bytes go out as written,
// with no chunk framing and no buffer of net/http's held per stream.
type connSink struct {
	conn    net.Conn
	timeout time.Duration
}

func (s *connSink) write(buf []byte) error {
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil {
		return err
	}
	_, err := s.conn.Write(buf)
	return err
}

func (s *connSink) close() { _ = s.conn.Close() }

// hijack takes the connection over from net/http so that the handler can
// return and free everything net/http holds per request (its goroutines,
// buffers and the request), leaving a stream two small goroutines and its
// queue. It returns the response head to write first, and a context that
// ends when the client closes the connection (noticed by a goroutine that
// blocks reading it). A client sends nothing on a stream (SPEC 3), so any
// byte from it ends the stream too: that read is of one byte, so a client
// that keeps sending costs one system call, not one per byte, and an idle
// stream holds no read buffer. ok is false when the connection cannot be
// taken over; then nothing has happened and the caller streams through w.
func hijack(w http.ResponseWriter, timeout time.Duration) (s *connSink, head []byte, gone context.Context, ok bool) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, nil, false
	}
	sent := brw.Reader.Buffered() > 0 // bytes after the request, read ahead by net/http
	// The server's read and response deadlines (SPEC 6) bound the request,
	// not the stream: clear whatever of them the connection still carries.
	// Each write sets its own deadline.
	_ = conn.SetDeadline(time.Time{})
	h := w.Header()
	h.Set("Connection", "close")
	head = append(head, "HTTP/1.1 200 OK\r\n"...)
	hb := headerBuffer{b: head}
	_ = h.Write(&hb) // writing to memory cannot fail
	head = append(hb.b, "\r\n"...)

	ctx, cancel := context.WithCancel(context.Background())
	if sent {
		cancel()
		return &connSink{conn: conn, timeout: timeout}, head, ctx, true
	}
	go func() {
		// Returns when the client closes the connection, the stream closes
		// it, or the client sends a byte.
		var b [1]byte
		_, _ = conn.Read(b[:])
		cancel()
	}()
	return &connSink{conn: conn, timeout: timeout}, head, ctx, true
}

type headerBuffer struct{ b []byte }

func (h *headerBuffer) Write(p []byte) (int, error) {
	h.b = append(h.b, p...)
	return len(p), nil
}
