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
// blocks reading it). ok is false when the connection cannot be taken over;
// then nothing has happened and the caller streams through w.
func hijack(w http.ResponseWriter, timeout time.Duration) (s *connSink, head []byte, gone context.Context, ok bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, nil, false
	}
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
	go func() {
		// A client sends nothing on a stream; a read returns only when it
		// closes the connection (or the stream closes it).
		var b [1]byte
		for {
			if _, err := conn.Read(b[:]); err != nil {
				cancel()
				return
			}
		}
	}()
	return &connSink{conn: conn, timeout: timeout}, head, ctx, true
}

type headerBuffer struct{ b []byte }

func (h *headerBuffer) Write(p []byte) (int, error) {
	h.b = append(h.b, p...)
	return len(p), nil
}
