# The interface to Lattice for developers and CI. Every target works from a fresh clone:
# it installs what it needs (npm packages, the pinned Go-built control plane, Docker, images).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/bin:$(PATH)

NODE_DEPS := node_modules/.package-lock.json

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(NODE_DEPS): package-lock.json package.json */package.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: $(NODE_DEPS) ## install the npm workspaces (npm ci)

.PHONY: tools
tools: ## build the pinned control-plane binaries into bin/ (quick when current)
	hack/build-tools

.PHONY: docker
docker: ## make sure Docker answers, start the local registry, build the base images
	hack/docker all

.PHONY: up
up: deps tools docker ## run the whole platform locally; PROVIDERS=N: N provider machines behind NAT
	hack/cluster up
	PROVIDERS=$(PROVIDERS) hack/up

.PHONY: down
down: ## stop everything `make up` started (data is kept in .lattice/)
	hack/down

.PHONY: images
images: deps tools docker ## build Lattice's release images (operator, console, agent) into the local registry
	hack/docker release-images

.PHONY: test
test: deps tools docker test-deps images ## every test: lint, unit, integration, end-to-end (starts what it needs)
	hack/cluster up
	hack/test

.PHONY: bench
bench: deps tools docker ## benchmarks, with figures against baselines measured in the same run
	hack/cluster up
	hack/bench

.PHONY: lint
lint: deps ## eslint and the TypeScript type check
	npx eslint .
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p console/tsconfig.json --noEmit

.PHONY: crds
crds: deps ## regenerate the CRD manifests and the API reference from the zod schemas
	npm run -w crds generate

.PHONY: test-deps
test-deps: ## Chromium and psql for the browser and database tests
	hack/test-deps
