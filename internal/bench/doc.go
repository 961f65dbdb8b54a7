// Package bench is the load generator behind `herald bench`: it drives a
// running Herald over real HTTP and reports what the server does under load.
//
// Three scenarios:
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
//   - Publish measures closed-loop publish throughput and latency at several
//     concurrency levels.
//
// The client is kept lean (small buffers, one goroutine per stream besides
// the transport's) and can spread its connections over several local
// addresses so that ephemeral ports do not run out. Latencies are recorded
// in Histogram, a lock-free log-linear histogram.
package bench
