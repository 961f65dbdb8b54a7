// Package testenv gives tests the real services they need (PostgreSQL, an
// SQS-compatible server, Chromium, …) and decides what happens when one is
// missing: on a developer's machine the test is skipped with a message that
// says how to get the service; in CI (CI set, or HERALD_TEST_REQUIRE naming
// the service or "all") it fails, so a missing service never passes silently.
package testenv

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// Required reports whether tests must fail rather than skip when service is
// unavailable.
func Required(service string) bool {
	if os.Getenv("CI") != "" {
		return true
	}
	req := strings.Split(os.Getenv("HERALD_TEST_REQUIRE"), ",")
	return slices.Contains(req, service) || slices.Contains(req, "all")
}

// Missing ends the test because service is unavailable (why): a failure
// where the service is required, a skip otherwise. how tells the developer
// how to provide it.
func Missing(t testing.TB, service, why, how string) {
	t.Helper()
	if Required(service) {
		t.Fatalf("%s is required here (CI or HERALD_TEST_REQUIRE) but unavailable: %s; %s", service, why, how)
	}
	t.Skipf("%s unavailable (%s): skipped; %s", service, why, how)
}
