package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// Every stream, publisher and in-process server a test starts is gone by
// the end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
