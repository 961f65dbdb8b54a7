#!/usr/bin/env bash
# Runs the JavaScript client's own checks (type check and vitest) in
# clients/js. Without npm it says so and stops, unless CI is set, where a
# missing tool is a failure.
set -euo pipefail
cd "$(dirname "$0")/../clients/js"
if ! command -v npm >/dev/null; then
	if [ -n "${CI:-}" ]; then
		echo "test-js: npm is required in CI but missing" >&2
		exit 1
	fi
	echo "test-js: npm not found: JavaScript client tests skipped (install Node.js 20+ with npm)"
	exit 0
fi
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npm run --silent typecheck
npm test --silent
