package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	t.Parallel()
	// Every bucket's bounds map back to it, and buckets tile the line.
	var prevHi int64 = -1
	for i := range numBuckets {
		lo, hi := bucketBounds(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d,%d]: bucketOf gives %d and %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if hi > lo && float64(hi-lo+1)/float64(lo) > RelativeError {
			t.Fatalf("bucket %d [%d,%d] wider than the relative error", i, lo, hi)
		}
		prevHi = hi
	}
	if prevHi != math.MaxInt64 {
		t.Fatalf("last bucket ends at %d, want MaxInt64", prevHi)
	}
}

// exactQuantile is the definition Quantile approximates.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return sorted[rank-1]
}

func TestQuantilesWithinBucketError(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() time.Duration{
		"uniform":     func() time.Duration { return time.Duration(rng.Int64N(int64(50 * time.Millisecond))) },
		"exponential": func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond)) },
		"lognormal": func() time.Duration {
			return time.Duration(math.Exp(rng.NormFloat64()*2 + 12)) // a heavy tail, ~160µs median
		},
		"small": func() time.Duration { return time.Duration(rng.IntN(300)) },
	}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			var h Histogram
			vals := make([]time.Duration, 100_000)
			for i := range vals {
				vals[i] = gen()
				h.Record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1} {
				got, want := h.Quantile(q), exactQuantile(vals, q)
				if got < want || float64(got-want) > RelativeError*float64(want) {
					t.Errorf("q%v = %v, exact %v: outside [exact, exact·(1+%.4f)]", q, got, want, RelativeError)
				}
			}
			if h.Max() != vals[len(vals)-1] {
				t.Errorf("max %v, want %v", h.Max(), vals[len(vals)-1])
			}
			if h.Count() != uint64(len(vals)) {
				t.Errorf("count %d, want %d", h.Count(), len(vals))
			}
		})
	}
}

func TestHistogramEdges(t *testing.T) {
	t.Parallel()
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram should answer 0")
	}
	h.Record(-5) // a clock stepped back
	h.Record(time.Duration(math.MaxInt64))
	if got := h.Quantile(0.5); got != 0 {
		t.Errorf("median of {0, max} = %v, want 0", got)
	}
	if got := h.Quantile(1); got != time.Duration(math.MaxInt64) {
		t.Errorf("q1 = %v, want MaxInt64", got)
	}
	var one Histogram
	one.Record(1234567)
	for _, q := range []float64{0, 0.5, 1} {
		if got := one.Quantile(q); got != 1234567 {
			t.Errorf("single value: q%v = %v, want it exactly (clamped to max)", q, got)
		}
	}
}

func TestHistogramConcurrentRecord(t *testing.T) {
	t.Parallel()
	var h Histogram
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				h.Record(time.Duration(g*1000 + i))
			}
		})
	}
	wg.Wait()
	if h.Count() != 8000 {
		t.Fatalf("count %d, want 8000", h.Count())
	}
	if h.Max() != 7999 {
		t.Fatalf("max %v, want 7999ns", h.Max())
	}
	if got := h.Mean(); got != 3999 { // (0+7999)/2 rounded down
		t.Fatalf("mean %d, want 3999", got)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.RunParallel(func(pb *testing.PB) {
		v := time.Duration(12345)
		for pb.Next() {
			h.Record(v)
			v = v*7%(50*time.Millisecond) + 1
		}
	})
}
