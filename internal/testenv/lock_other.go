//go:build !unix

package testenv

// lockFile is a no-op where advisory file locks are not available: run the
// first install alone (npm ci --prefix test/sqs).
func lockFile(string) (func(), error) { return func() {}, nil }
