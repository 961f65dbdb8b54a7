# Herald — the two commands a newcomer needs:
#   make run    runs Herald in developer mode on the embedded SQLite store
#   make test   runs every test: the JS client's checks, then Go's with -race
GO ?= go

.PHONY: run test build vet lint fuzz bench ci helm

run:
	$(GO) run ./cmd/herald serve --dev

test: helm
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

# helm, for the chart's tests (e2e/helm_test.go: helm lint and helm
# template of deploy/helm/herald), built from the Go module proxy at a
# pinned version into bin/helm-VERSION/ when missing; bin/helm points to it.
HELM_VERSION ?= v3.22.0
HELM := $(CURDIR)/bin/helm-$(HELM_VERSION)/helm

helm: $(HELM)
	ln -sfn helm-$(HELM_VERSION)/helm $(CURDIR)/bin/helm

$(HELM):
	GOBIN=$(dir $(HELM)) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

# A short fuzzing pass over the SSE encoder and decoder, the publish body
# decoder and the SSE id (Last-Event-ID) parser.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzRoundTrip -fuzztime=30s ./internal/sse/
	$(GO) test -run='^$$' -fuzz=FuzzPublishDecode -fuzztime=20s ./internal/notify/
	$(GO) test -run='^$$' -fuzz=FuzzParseCursor -fuzztime=10s ./internal/notify/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/sse/ ./internal/hub/ ./internal/store/sqlite/

# What CI runs: checks, then the same test command as the README.
ci: vet lint test
