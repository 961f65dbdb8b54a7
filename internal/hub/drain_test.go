package hub

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestDrainSpreadsClosesOverTheWindow checks, on a fake clock, that the
// connections are ended evenly over the window rather than all at once.
func TestDrainSpreadsClosesOverTheWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Options{})
		var conns []*Conn
		for range 10 {
			c, _ := h.Register("u")
			conns = append(conns, c)
		}
		closed := func() int {
			n := 0
			for _, c := range conns {
				select {
				case <-c.Done():
					n++
				default:
				}
			}
			return n
		}
		done := make(chan struct{})
		go func() {
			h.Drain(context.Background(), 10*time.Second)
			close(done)
		}()
		synctest.Wait()
		if n := closed(); n != 1 {
			t.Fatalf("%d of 10 ended at the start of a 10s drain, want 1", n)
		}
		time.Sleep(5*time.Second + time.Millisecond)
		synctest.Wait()
		if n := closed(); n != 6 {
			t.Fatalf("%d of 10 ended half way, want 6", n)
		}
		<-done
		if n := closed(); n != 10 {
			t.Fatalf("%d of 10 ended after the drain", n)
		}
	})
}

func TestDrainEndsTheRestWhenItsContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Options{})
		var conns []*Conn
		for range 5 {
			c, _ := h.Register("u")
			conns = append(conns, c)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		h.Drain(ctx, time.Hour)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("drain took %v after its context ended", d)
		}
		for _, c := range conns {
			if c.Reason() != ReasonShutdown {
				t.Fatalf("reason %q", c.Reason())
			}
		}
	})
}
