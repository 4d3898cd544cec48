# strata — build, test, demo and benchmarks. Run `make help` for the targets.
GO        ?= go
BIN       ?= bin/strata
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
TESTFLAGS ?= -race -count=1 -timeout 80m

.PHONY: help build test demo bench lint tofu clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/strata
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/strata

test: ## run every test with the race detector
	$(GO) test $(TESTFLAGS) ./...

demo: build ## run strata on a throwaway copy of examples/monorepo
	STRATA=$(abspath $(BIN)) ./examples/demo.sh

bench: ## run the benchmarks and print their figures
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean: ## remove build output
	rm -rf bin
