package hub

import "time"

// Metrics receives the hub's and the streams' measurements. Implementations
// must be safe for concurrent use and cheap: they are called per event.
type Metrics interface {
	// Connected counts a new connection; userConns is that user's number of
	// connections on this instance afterwards.
	Connected(userConns int)
	// Disconnected counts a connection that ended.
	Disconnected()
	// Rejected counts a refused connection: "user_limit", "global_limit", "draining".
	Rejected(reason string)
	// Evicted counts a connection ended by the server.
	Evicted(reason Reason)
	// Delivered counts events written to a stream; latency is from the
	// event's creation to the write, for live events.
	Delivered(n int, latency time.Duration)
	// Replayed counts events written from the store on resume or gap repair.
	Replayed(n int)
}

type nopMetrics struct{}

func (nopMetrics) Connected(int)                {}
func (nopMetrics) Disconnected()                {}
func (nopMetrics) Rejected(string)              {}
func (nopMetrics) Evicted(Reason)               {}
func (nopMetrics) Delivered(int, time.Duration) {}
func (nopMetrics) Replayed(int)                 {}
