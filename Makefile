# Herald — the two commands a newcomer needs:
#   make run    runs Herald in developer mode on the embedded SQLite store
#   make test   runs every test: the JS client's checks, then Go's with -race
GO ?= go

.PHONY: run test build vet lint fuzz bench ci

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

# golangci-lint with the strict list in .golangci.yml, installed into bin/
# (gitignored) at a pinned version when missing.
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT := $(CURDIR)/bin/golangci-lint

lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

$(GOLANGCI_LINT):
	GOBIN=$(CURDIR)/bin $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

# A short fuzzing pass over the SSE encoder and decoder.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzRoundTrip -fuzztime=30s ./internal/sse/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/sse/ ./internal/hub/ ./internal/store/sqlite/

# What CI runs: checks, then the same test command as the README.
ci: vet lint test
