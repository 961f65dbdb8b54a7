//go:build !unix

package bench

import "math"

// RaiseFileLimit does nothing on this system and reports no limit.
func RaiseFileLimit() (uint64, error) { return math.MaxUint64, nil }
