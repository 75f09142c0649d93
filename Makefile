# cfcookies. `make check` is what CI runs (.ci/run calls it and nothing else).

GO       ?= go
FUZZTIME ?= 10s

# staticcheck is installed per version under .cache/ (git-ignored), so a
# version bump installs afresh and CI can cache the directory.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK_DIR     := $(CURDIR)/.cache/staticcheck-$(STATICCHECK_VERSION)
STATICCHECK         := $(STATICCHECK_DIR)/staticcheck

.PHONY: help check test race vet lint fmt staticcheck fuzz run

## help: list the targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## check: everything CI runs: vet, lint, the race-enabled tests, a short fuzz of every Fuzz target
check: vet lint race fuzz

## test: the tests, without the race detector
test:
	$(GO) test -count=1 ./...

## race: the tests with the race detector, as CI runs them
race:
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

## lint: gofmt, go vet and staticcheck
lint: vet fmt staticcheck

fmt:
	@out=$$(find . \( -name .git -o -name .cache -o -name node_modules \) -prune -o -name '*.go' -print | xargs gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt: these files need gofmt -w:"; echo "$$out"; exit 1; fi; \
	echo "gofmt: ok"

staticcheck:
	@if [ ! -x $(STATICCHECK) ]; then \
		echo "staticcheck: installing $(STATICCHECK_VERSION) into $(STATICCHECK_DIR)"; \
		GOBIN=$(STATICCHECK_DIR) GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) || \
			rm -f $(STATICCHECK); \
	fi; \
	if [ -x $(STATICCHECK) ]; then \
		$(STATICCHECK) ./... && echo "staticcheck: ok"; \
	else \
		echo "staticcheck: SKIPPED: honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) could not be installed"; \
	fi

## fuzz: every Fuzz target in the repository for FUZZTIME (default 10s) each
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz

## run: the service locally in dev mode, nothing to configure
run:
	$(GO) run ./cmd/server --dev
