// Package memory is the single-instance notify.Bus: Publish hands events
// straight to the local sink, synchronously and in order.
package memory

import (
	"context"
	"errors"
	"sync"

	"github.com/herald-notify/herald/internal/notify"
)

var _ notify.Bus = (*Bus)(nil)

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("memory bus: closed")

// Bus delivers within one process. The zero value is not usable; use New.
type Bus struct {
	mu     sync.RWMutex
	sink   func([]notify.Event)
	closed bool
}

// New returns an empty Bus.
func New() *Bus { return &Bus{} }

// Publish calls the sink with evs before returning. Events published before
// Subscribe are dropped (there is no subscriber to ring).
func (b *Bus) Publish(_ context.Context, evs []notify.Event) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	if b.sink != nil {
		b.sink(evs)
	}
	return nil
}

// Subscribe sets the sink. A second call replaces the first.
func (b *Bus) Subscribe(sink func([]notify.Event)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sink = sink
	return nil
}

// Ping always succeeds until Close.
func (b *Bus) Ping(context.Context) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	return nil
}

// Close stops delivery.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}
