// Package bench is the load generator behind `herald bench`: it drives a
// running Herald over real HTTP and reports what the server does under load.
//
// Five scenarios:
//
//   - Idle opens many SSE streams, waits until each has received its
//     connected event, and reads the server's resident memory (from
//     /proc/PID/status) and goroutine count (from /metrics) before and after,
//     to give the cost of one idle connection.
//   - Latency holds one stream per user and publishes at a fixed rate on an
//     open-loop schedule; each notification carries its scheduled send time,
//     so publish-to-receive latency is measured on one clock and a slow
//     server cannot hide its slowness by slowing the publisher down
//     (coordinated omission).
//   - Sweep runs Latency's publishing phase at several target rates on the
//     same streams and finds the best rate kept with p99 under 100 ms and
//     nothing lost; it can draw the result as an SVG chart.
//   - Broadcast publishes broadcasts at an interval and measures how long
//     each takes to reach every stream.
//   - Publish measures closed-loop publish throughput and latency at several
//     concurrency levels.
//
// With the server's process id (same machine), Latency, Sweep and
// Broadcast also report the server's CPU time per delivered event, read
// from /proc/PID/stat: steadier than throughput on a shared machine.
//
// The client is kept lean (small buffers, one goroutine per stream besides
// the transport's) and can spread its connections over several local
// addresses so that ephemeral ports do not run out. Latencies are recorded
// in Histogram, a lock-free log-linear histogram.
package bench
