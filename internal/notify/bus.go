package notify

import "context"

// Bus carries events between the instances that share a store. It is a
// doorbell, not a log: it may drop or reorder events (a Redis reconnect, a
// full buffer), and receivers repair that from the Store using Seq. It never
// invents or alters events.
//
// Implementations: internal/bus/memory (one instance), internal/bus/redis.
// All methods are safe for concurrent use.
type Bus interface {
	// Publish hands evs to the sink of every subscribed instance, this one
	// included. A nil error means handed to the transport, not delivered.
	Publish(ctx context.Context, evs []Event) error

	// Subscribe sets the function that receives every event published on
	// any instance, in the order each publisher published them. It is
	// called once, before the first Publish. The sink must not block: it
	// runs on the bus's delivery path.
	Subscribe(sink func([]Event)) error

	// Ping reports whether the transport is reachable.
	Ping(ctx context.Context) error

	// Close stops delivery; Publish after Close returns an error.
	Close() error
}
