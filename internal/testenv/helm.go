package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

const helmHow = "make helm (installs the pinned helm into bin/ with go install), or set HERALD_TEST_HELM to a helm binary"

// Helm returns the helm binary the chart tests use: HERALD_TEST_HELM, else
// the pinned one that `make helm` installs into bin/, else helm on PATH.
// Without one the test ends through Missing.
func Helm(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("HERALD_TEST_HELM"); p != "" {
		return p
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		p := filepath.Join(filepath.Dir(file), "..", "..", "bin", "helm")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("helm")
	if err != nil {
		Missing(t, "helm", "no helm in bin/ or on PATH: "+err.Error(), helmHow)
	}
	return p
}
