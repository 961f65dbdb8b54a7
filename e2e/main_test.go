package e2e

import (
	"testing"

	"go.uber.org/goleak"
)

// Every server a test starts is stopped by its cleanup: after the last test
// no goroutine of Herald's may remain.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
