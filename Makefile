# cfcookies. `make check` is what CI runs (.ci/run calls it and nothing else).

GO       ?= go
FUZZTIME ?= 10s

# golangci-lint (staticcheck, gosec, errcheck, bodyclose, revive and more;
# see .golangci.yml) is installed per version under .cache/ (git-ignored),
# so a version bump installs afresh and CI can cache the directory. Outside
# CI a failed install skips the linter with a message; in CI it fails.
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT_DIR     := $(CURDIR)/.cache/golangci-lint-$(GOLANGCI_LINT_VERSION)
GOLANGCI_LINT         := $(GOLANGCI_LINT_DIR)/golangci-lint

# local-kms, the KMS emulator the KMS tests run (kmssigner/kmstest), is built
# once per version into .cache/ by `make localkms`; when it is there the tests
# find it through LOCAL_KMS_BIN, exported here, and build nothing. Keep the
# version equal to kmstest.LocalKMSVersion (internal/integration checks it).
LOCAL_KMS_VERSION ?= v0.0.0-20260228092603-2a5e92d09ab6
LOCAL_KMS_DIR     := $(CURDIR)/.cache/local-kms-$(LOCAL_KMS_VERSION)
ifeq ($(origin LOCAL_KMS_BIN),undefined)
LOCAL_KMS_BIN := $(wildcard $(LOCAL_KMS_DIR)/local-kms)
endif
export LOCAL_KMS_BIN

# The Go modules of the repository: the library (signer/, a module of its own
# so that importing it brings none of the server's dependencies), the KMS key
# (kmssigner/, its own module so that the library needs no AWS client) and the
# server (.), which requires them through replaces. go test ./... stops at a
# nested module, so the Go targets below run in each module's directory,
# nested modules (the libraries) first. Every go.mod found is a module here.
GO_MODULE_DIRS := $(patsubst ./%,%,$(patsubst %/go.mod,%,$(shell find . \( -name .git -o -name .cache -o -name node_modules -o -name testdata \) -prune -o -name go.mod -print)))
MODULES        := $(sort $(filter-out .,$(GO_MODULE_DIRS))) .
# in_modules runs a shell command in every module's directory, stopping at
# the first module where it fails.
in_modules = @set -e; for m in $(MODULES); do echo "== $$m: $(1)"; (cd $$m && $(1)); done

.PHONY: help check test race image vet lint fmt golangci-lint tools download tffmt soak fuzz fips run openssl loadtest localkms js

## help: list the targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## check: everything CI runs: vet, lint, the race-enabled tests, the soak run, a short fuzz of every Fuzz target, the FIPS 140-3 tests, the JavaScript tests
check: vet lint race soak fuzz fips js

## test: the fast path while changing code: the JavaScript tests, the tests of every module without the race detector, the image build, soak and fuzz
test: js
	$(call in_modules,$(GO) test -count=1 ./...)

## race: the tests of every module with the race detector and the container image build and run (tag image), as CI runs them
race:
	$(call in_modules,$(GO) test -race -count=1 -tags image ./...)

## image: build the Dockerfile with buildah and run the image with podman (needs root)
image:
	$(GO) test -count=1 -tags image -run '^TestImage$$' -v ./deploy/

vet:
	$(call in_modules,$(GO) vet ./...)

## lint: gofmt, go vet, golangci-lint (in every module) and terraform fmt
lint: vet fmt golangci-lint tffmt

## tools: install the pinned linters into .cache/
tools: $(GOLANGCI_LINT)

## download: every module's requirements into the module cache
download:
	$(call in_modules,$(GO) mod download)

## localkms: build local-kms, the KMS emulator of the KMS tests, into .cache/ (CI does, so that they never skip)
localkms: $(LOCAL_KMS_DIR)/local-kms

$(LOCAL_KMS_DIR)/local-kms:
	@echo "local-kms: installing $(LOCAL_KMS_VERSION) into $(LOCAL_KMS_DIR)"
	@GOBIN=$(LOCAL_KMS_DIR) GOFLAGS= GOWORK=off CGO_ENABLED=0 $(GO) install github.com/nsmithuk/local-kms@$(LOCAL_KMS_VERSION)

$(GOLANGCI_LINT):
	@echo "golangci-lint: installing $(GOLANGCI_LINT_VERSION) into $(GOLANGCI_LINT_DIR)"
	@GOBIN=$(GOLANGCI_LINT_DIR) GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

fmt:
	@out=$$(find . \( -name .git -o -name .cache -o -name node_modules \) -prune -o -name '*.go' -print | xargs gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt: these files need gofmt -w:"; echo "$$out"; exit 1; fi; \
	echo "gofmt: ok"

# --allow-serial-runners: another golangci-lint on this machine (an editor,
# a second checkout) makes this one wait for its lock instead of failing.
golangci-lint:
	@if [ ! -x $(GOLANGCI_LINT) ] && ! $(MAKE) --no-print-directory tools; then \
		if [ "$${CI:-}" = true ]; then echo "golangci-lint: install failed" >&2; exit 1; fi; \
		echo "golangci-lint: SKIPPED: github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) could not be installed"; \
	else \
		set -e; for m in $(MODULES); do \
			echo "== $$m: golangci-lint run ./..."; \
			(cd $$m && $(GOLANGCI_LINT) run --config $(CURDIR)/.golangci.yml --allow-serial-runners ./...); \
		done; \
		echo "golangci-lint: ok"; \
	fi

## soak: a minute of load on the real binary, the issuer's key set hanging mid-run, then SIGTERM under load
soak:
	$(GO) test -tags soak -run '^TestSoak$$' -count=1 -v ./cmd/server/

# terraform fmt works offline; without terraform the check is skipped, loudly.
# A TF_CLI_CONFIG_FILE naming a missing file only makes terraform warn: drop it.
tffmt:
	@if ! command -v terraform >/dev/null; then \
		echo "terraform fmt: SKIPPED: terraform is not installed"; \
	else \
		if [ -n "$${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$$TF_CLI_CONFIG_FILE" ]; then export TF_CLI_CONFIG_FILE=/dev/null; fi; \
		terraform fmt -check -recursive -diff deploy/terraform && echo "terraform fmt: ok"; \
	fi

## fuzz: every Fuzz target in the repository for FUZZTIME (default 10s) each
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz

## fips: the library's tests under GODEBUG=fips140=only (Go's FIPS 140-3 mode, enforced), then the server's round trip in that mode
# The library's whole test suite runs in that mode (tests that need SHA-1
# skip, saying so); the server's FIPS tests rerun themselves, or the binary
# they build, with GODEBUG=fips140=only.
fips:
	cd signer && GODEBUG=fips140=only $(GO) test -count=1 ./...
	$(GO) test -count=1 -run 'FIPS140Only' ./cmd/server/ ./internal/config/

## js: the tests of web/cfcookies.js (Node 20 or later, node:test, no dependencies); without such a node they skip, in CI they fail
js:
	@if ! command -v node >/dev/null || ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then \
		why="node 20 or later is not installed (found: $$(node --version 2>/dev/null || echo none))"; \
		if [ "$${CI:-}" = true ]; then echo "js: $$why" >&2; exit 1; fi; \
		echo "js: SKIPPED: $$why"; \
	else \
		cd web && node --test; \
	fi

## run: the service locally in dev mode, nothing to configure
run:
	$(GO) run ./cmd/server --dev

## openssl: vet and test the openssl build (needs cgo, a C compiler and libcrypto)
openssl:
	CGO_ENABLED=1 $(GO) vet -tags openssl ./...
	CGO_ENABLED=1 $(GO) test -race -count=1 -tags openssl ./internal/opensslkey ./internal/keys ./cmd/server

## loadtest: cfcookies against the Node and Go peers on one core (ROUNDS=3 for medians)
loadtest:
	./scripts/loadtest.sh
