package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/testenv"
)

// TestBrowser runs the browser end-to-end tests of e2e/browser (Node's test
// runner driving the system Chromium through playwright-core) against a
// freshly built herald binary and client bundle. Without node, npm or
// Chromium it skips with instructions, except in CI, where it fails.
//
// CHROMIUM names the browser (default /usr/bin/chromium).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take about half a minute; not with -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", "node not on PATH", "install Node.js 20 or later")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		testenv.Missing(t, "node", "npm not on PATH", "install Node.js 20 or later with npm")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		testenv.Missing(t, "chromium", chromium+" not found", "apt-get install chromium, or set CHROMIUM to a Chromium binary")
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	clientDir, err := filepath.Abs("../clients/js")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{clientDir, "browser"} {
		npmCI(ctx, t, npm, dir)
	}
	runIn(ctx, t, clientDir, node, "build.mjs")
	bin := buildHerald(t)

	figures := filepath.Join(t.TempDir(), "figures.txt")
	cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "--test-reporter=spec")
	cmd.Dir = "browser"
	cmd.Env = append(os.Environ(),
		"HERALD_BIN="+bin,
		"CHROMIUM="+chromium,
		"HERALD_CLIENT_BUNDLE="+filepath.Join(clientDir, "dist", "herald.min.js"),
		"HERALD_E2E_FIGURES="+figures,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("browser tests failed: %v\n%s", err, out)
	}
	t.Logf("browser tests passed\n%s", out)
	if f, err := os.ReadFile(figures); err == nil {
		t.Logf("%s", f)
	}
}

// npmCI installs dir's locked dependencies when node_modules is missing.
// A failure (no network, say) skips the test outside CI.
func npmCI(ctx context.Context, t *testing.T, npm, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		return
	}
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		testenv.Missing(t, "node", "npm ci in "+dir+" failed: "+err.Error()+"\n"+string(out), "check the network or the npm registry settings")
	}
}

// runIn runs a command in dir and fails the test if it fails.
func runIn(ctx context.Context, t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
