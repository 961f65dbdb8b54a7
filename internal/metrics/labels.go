package metrics

import "github.com/prometheus/client_golang/prometheus"

// labeledCounter is a CounterVec with one label whose expected values are
// resolved to their counters once, at construction. Looking up a known value
// is a short linear scan of string comparisons: no hashing, no map, no
// allocation. Known values are also exported at 0 from the start, so that
// rate() and absent() work before the first occurrence.
//
// Values outside the known set still count, through the vector's own
// (slower) look-up. Callers pass constants from code, never user input, so
// the label's cardinality stays bounded.
//
// A labeledCounter is immutable after construction and safe for concurrent
// use.
type labeledCounter struct {
	vec    *prometheus.CounterVec
	values []string
	series []prometheus.Counter
}

func newLabeledCounter(vec *prometheus.CounterVec, known ...string) labeledCounter {
	lc := labeledCounter{
		vec:    vec,
		values: known,
		series: make([]prometheus.Counter, len(known)),
	}
	for i, v := range known {
		lc.series[i] = vec.WithLabelValues(v)
	}
	return lc
}

// with returns the counter for value.
func (lc *labeledCounter) with(value string) prometheus.Counter {
	for i, v := range lc.values {
		if v == value {
			return lc.series[i]
		}
	}
	return lc.vec.WithLabelValues(value)
}

// add adds n to the series for value; n <= 0 is ignored (a Prometheus
// counter only goes up, and Add panics on a negative value).
func (lc *labeledCounter) add(value string, n int) {
	if n <= 0 {
		return
	}
	lc.with(value).Add(float64(n))
}
