# strata — build, test, demo and benchmarks. Run `make help` for the targets.
GO        ?= go
BIN       ?= bin/strata
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
TESTFLAGS ?= -race -count=1 -timeout 80m
TOFU_VERSION ?= v1.12.6
TOFU         ?= bin/tofu
FUZZTIME     ?= 60s
# helm renders the chart in examples/deploy's tests; built once from the Go
# module proxy into the user's cache, where those tests look for it.
HELM_VERSION ?= v3.22.0
HELM         ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/strata/tools/helm-$(HELM_VERSION)/helm

.PHONY: help build test demo bench fuzz lint tofu helm clean

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

fuzz: ## run every fuzz target for FUZZTIME (default 60s) each, one after another
	@set -e; for file in $$(git grep -l '^func Fuzz' -- '*_test.go'); do \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
			echo "fuzz: $$name in ./$$(dirname $$file) for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$(dirname $$file); \
		done; \
	done

lint: ## gofmt, go vet, no Go file over 500 lines, no tracked file over 1 MiB
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@big=$$(git ls-files -z | xargs -0 stat -c '%s %n' 2>/dev/null | awk '$$1 > 1048576 {print $$2}'); \
	if [ -n "$$big" ]; then echo "tracked files over 1 MiB (build outputs?):"; echo "$$big"; exit 1; fi
	@long=$$(git ls-files '*.go' | xargs wc -l | awk '$$2 != "total" && $$1 > 500 {print $$2 " (" $$1 " lines)"}'); \
	if [ -n "$$long" ]; then echo "Go files over 500 lines; split them by responsibility:"; echo "$$long"; exit 1; fi

tofu: ## build OpenTofu from source through the Go module proxy into bin/tofu (~11 CPU-minutes)
	@mkdir -p $(dir $(TOFU))
	@set -e; \
	src=$$(cd / && $(GO) mod download -json github.com/opentofu/opentofu@$(TOFU_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	test -n "$$src"; \
	tmp=$$(mktemp -d); trap 'chmod -R u+w "$$tmp"; rm -rf "$$tmp"' EXIT; \
	cp -R "$$src"/. "$$tmp"/; chmod -R u+w "$$tmp"; \
	cd "$$tmp" && CGO_ENABLED=0 GOFLAGS=-mod=readonly $(GO) build -trimpath \
		-ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
		-o $(abspath $(TOFU)) ./cmd/tofu
	$(TOFU) version

helm: ## build helm from the Go module proxy into the cache, once (a few CPU-minutes)
	@test -x $(HELM) || (cd / && GOBIN=$(dir $(HELM)) GOFLAGS=-mod=mod $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION))
	@$(HELM) version --short

clean: ## remove build output
	rm -rf bin
