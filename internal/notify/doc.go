// Package notify is Herald's domain: what a notification and an event are,
// how a reader's place in its streams is named, what may be published, and
// the interfaces of the adapters that store and carry them. It imports only
// the standard library; every adapter imports it, never the reverse.
//
// # Publishing
//
// [Service] is the one entry point that changes state, for every adapter
// (HTTP, the queue). A [Publication] or [SystemEvent] is validated (SPEC 5;
// an error of [CodeInvalid] names the field), then stored by the [Store] —
// nothing is acknowledged before the store has committed — and only then
// handed to the [Bus]. The bus is a doorbell: when it fails, the publish is
// still acknowledged (the store has it), the failure is counted through
// [Observer] as kind "bus" and logged at most once a second, and streams
// recover the events from the store.
//
// # Streams and cursors
//
// Each user has one ordered stream of durable events and all users share
// the broadcast stream; a durable [Event] has a position (Seq) in its
// stream, gap-free and assigned by the store. A [Position] is a reader's
// place in both, and a [Cursor] (a position plus the store's epoch) is the
// SSE event id clients hold. [ParseCursor] accepts only the canonical form
// [Cursor.String] produces. [Store.ReadEvents] reads the two streams a page
// at a time ([EventPage]), merged by creation time.
//
// # What may reach a stream
//
// Event names and user ids travel outside an event's JSON data (an SSE
// "event:" field; routing and logs), so they are checked wherever they
// enter: [ValidSystemEventName] and [ReservedEventName] on publish,
// [ValidUserID] for publish, tokens and the admin API, and [Event.Validate]
// for events read back from the store or received from the bus, which are
// skipped, never written, when they fail it. Text must be valid UTF-8;
// [DecodeJSON] is the strict decoder for publish bodies from any adapter.
//
// # Errors
//
// An [*Error] carries a [Code] that each adapter maps to its protocol's
// status in one place, and a message safe to show to the caller.
package notify
