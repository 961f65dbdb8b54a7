// This directory holds no Go code. This file makes it a module of its own,
// so that `go test ./...` from the root never walks its node_modules.
module herald.invalid/examples-nextjs
