package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// The histogram is log-linear, as HDR histograms are: values below
// 2^subBits get a bucket each; above, every power of two is split into
// 2^subBits buckets of equal width. A bucket is therefore never wider than
// 2^-subBits of its lower bound: with subBits = 7, a quantile is exact to
// within 0.8 %.
const (
	subBits    = 7
	subCount   = 1 << subBits
	numBuckets = (63 - subBits + 1) * subCount // covers every non-negative int64
)

// RelativeError is the largest relative error of a quantile that Histogram
// reports: the width of a bucket over its lower bound.
const RelativeError = 1.0 / subCount

// Histogram records durations in nanoseconds in log-linear buckets. Its
// zero value is empty and ready; it must not be copied after first use.
// Record is safe for concurrent use and lock-free; the readers (Quantile,
// Count, Max, Mean) are safe at any time but see a consistent picture only
// once recording has stopped. A Histogram is about 60 KiB.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	total  atomic.Uint64
	sum    atomic.Int64
	max    atomic.Int64
}

// bucketOf returns the index of the bucket holding v ≥ 0.
func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - 1 - subBits
	mantissa := int(v>>shift) - subCount
	return (shift+1)*subCount + mantissa
}

// bucketBounds returns the smallest and largest value of bucket i.
func bucketBounds(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	shift := i/subCount - 1
	mantissa := int64(i % subCount)
	lo = (subCount + mantissa) << shift
	return lo, lo + (int64(1) << shift) - 1
}

// Record adds one observation. A negative duration (a wall clock stepped
// back between two readings) is recorded as 0.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(v)].Add(1)
	h.total.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max returns the largest observation, exactly; 0 when empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Mean returns the arithmetic mean of the observations; 0 when empty.
func (h *Histogram) Mean() time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / int64(n))
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1; 0.99 for p99): the smallest
// recorded value v such that at least q of the observations are ≤ v, to
// within RelativeError (it answers the upper bound of v's bucket, never
// more than Max). Quantile(1) is Max exactly; an empty histogram answers 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	var snap [numBuckets]uint64
	var total uint64
	for i := range snap {
		snap[i] = h.counts[i].Load()
		total += snap[i]
	}
	if total == 0 {
		return 0
	}
	maxV := h.max.Load()
	if q >= 1 {
		return time.Duration(maxV)
	}
	rank := uint64(math.Ceil(max(q, 0) * float64(total)))
	rank = max(rank, 1)
	var cum uint64
	for i, c := range snap {
		cum += c
		if cum >= rank {
			_, hi := bucketBounds(i)
			return time.Duration(min(hi, maxV))
		}
	}
	return time.Duration(maxV)
}

// Summary is a histogram's usual figures in milliseconds, for reports.
type Summary struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

// Summary returns h's count, mean, p50, p90, p99, p99.9 and max.
func (h *Histogram) Summary() Summary {
	return Summary{
		Count: h.Count(),
		Mean:  ms(h.Mean()),
		P50:   ms(h.Quantile(0.50)),
		P90:   ms(h.Quantile(0.90)),
		P99:   ms(h.Quantile(0.99)),
		P999:  ms(h.Quantile(0.999)),
		Max:   ms(h.Max()),
	}
}

// ms converts d to milliseconds with microsecond resolution.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}
