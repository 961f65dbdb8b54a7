# Herald — the two commands a newcomer needs:
#   make run    runs Herald in developer mode on the embedded SQLite store
#   make test   runs every test: Go with the race detector, then the JS client's
GO ?= go

.PHONY: run test build vet fuzz bench ci

run:
	$(GO) run ./cmd/herald serve --dev

test:
	scripts/test-js.sh
	$(GO) test -race -timeout 20m ./...

build:
	$(GO) build -o bin/herald ./cmd/herald

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)

# A short fuzzing pass over the SSE encoder and decoder.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzRoundTrip -fuzztime=30s ./internal/sse/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/sse/ ./internal/hub/ ./internal/store/sqlite/

# What CI runs: checks, then the same test command as the README.
ci: vet test
