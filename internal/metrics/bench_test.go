package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-notify/herald/internal/hub"
)

// BenchmarkDelivered is the per-event hot path: one counter add and one
// histogram observation.
func BenchmarkDelivered(b *testing.B) {
	m := New(prometheus.NewRegistry(), "bench")
	b.ReportAllocs()
	for b.Loop() {
		m.Delivered(1, 3*time.Millisecond)
	}
}

func BenchmarkDeliveredParallel(b *testing.B) {
	m := New(prometheus.NewRegistry(), "bench")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Delivered(1, 3*time.Millisecond)
		}
	})
}

func BenchmarkConnectDisconnect(b *testing.B) {
	m := New(prometheus.NewRegistry(), "bench")
	b.ReportAllocs()
	for b.Loop() {
		m.Connected(2)
		m.Disconnected()
	}
}

// BenchmarkEvicted is a pre-resolved label; BenchmarkEvictedUnknown the
// fallback through the vector, for comparison.
func BenchmarkEvicted(b *testing.B) {
	m := New(prometheus.NewRegistry(), "bench")
	b.ReportAllocs()
	for b.Loop() {
		m.Evicted(hub.ReasonError) // last of the known reasons
	}
}

func BenchmarkEvictedUnknown(b *testing.B) {
	m := New(prometheus.NewRegistry(), "bench")
	b.ReportAllocs()
	for b.Loop() {
		m.Evicted(hub.ReasonClosed)
	}
}
