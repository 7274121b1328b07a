# wirefeed: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin
PKGS  := ./...

.PHONY: help build demo demo-serve test test-short test-e2e lint fmt vet fuzz bench bench-textfix bench-pipeline bench-sink up down status run topics clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## build the four binaries into bin/
	$(GO) build -o $(BIN)/ ./cmd/...

demo: ## run the whole pipeline on an embedded broker and ./data, print a summary
	$(GO) run ./cmd/devstack

demo-serve: ## the demo, kept running with metrics on :9101-9103
	$(GO) run ./cmd/devstack --serve

test: ## unit and integration tests (embedded broker, local folder), race detector on; alert rule tests
	$(GO) test -race -count=1 $(PKGS)
	bash deploy/prometheus/test-rules.sh

test-short: ## the tests without the race detector, for a quick look
	$(GO) test -count=1 $(PKGS)

test-e2e: ## bring the real stack up, run the suite and the end-to-end tests on it, tear down
	bash deploy/local/e2e.sh

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	bash deploy/lint.sh

fuzz: ## run every fuzz target for FUZZTIME (default 20s) each
	bash deploy/local/fuzz.sh $${FUZZTIME:-20s}

bench: ## go benchmarks of every package
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

bench-textfix: ## pkg/textfix against ftfy on the same inputs, into docs/benchmarks.md
	bash bench/textfix/run.sh

bench-pipeline: ## 50k items through the real stack next to the broker's ceiling (kcat), into docs/benchmarks.md
	bash bench/pipeline/run.sh

bench-sink: ## the sink into the real S3 server next to raw PUTs of the same bytes, into docs/benchmarks.md
	bash bench/sink/run.sh

up: ## start Apache Kafka, the S3 server and Prometheus on 127.0.0.1
	bash deploy/local/up.sh

down: ## stop what `make up` started
	bash deploy/local/down.sh

status: ## show the local stack
	bash deploy/local/status.sh

run: ## the three services as processes against the local stack (after make up)
	bash deploy/local/run.sh

clean: ## remove build output and demo data
	rm -rf $(BIN) data
