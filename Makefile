# scf-janitor build, test and packaging.
GO ?= go
FUNCTIONS := cancel-task cancel-live-audit stop-transcription sweep-tasks

# Where `make package` writes: $(DIST)/<function>.zip (one binary each, for the
# console or tccli) and $(DIST)/bundle/ (all four, the code package serverless.yml uploads).
DIST ?= dist
# SCF Go1 runs linux/amd64; static, stripped, without paths, build ids or VCS
# stamps, and without GOFLAGS from the environment, so the same source gives the same bytes.
PKG_ENV := CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOFLAGS=
PKG_FLAGS := -trimpath -buildvcs=false -ldflags "-s -w -buildid="

.PHONY: all build test quick lint fmt-check vet staticcheck unit unit-race unit-norace package deploy clean run $(FUNCTIONS:%=build-%)

all: build

# build compiles everything and each function for this machine into bin/<function>.
build: $(FUNCTIONS:%=build-%)
	$(GO) build ./...

$(FUNCTIONS:%=build-%): build-%:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/$* ./functions/$*

# test is the command CI runs (see README.md).
test: fmt-check vet staticcheck unit

# quick runs the unit tests without the slow ones (builds of the functions,
# long end-to-end runs: they skip under -short); under a minute on a warm
# build cache. Run it while working; run `make test` before pushing.
quick:
	$(GO) test -short ./...

lint: fmt-check vet staticcheck

fmt-check:
	@out="$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...

# unit runs two passes at once, each printed when it ends: every test under the
# race detector, and the byte-heavy ones without it (the deploy of the four real
# packages, the 6 MB invocations: deflate, base64 and JSON of megabytes cost 14
# times the CPU under -race, so they skip there; internal/testkit/racecheck).
#
# Most slow tests wait (on processes, timers, the network) rather than compute,
# so twice as many test binaries and parallel tests as cores keep the machine busy.
TEST_JOBS ?= $(shell echo $$(( 2 * $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) )))
unit:
	@$(MAKE) --no-print-directory -j2 --output-sync=target unit-race unit-norace

unit-race:
	$(GO) test -race -count=1 -p $(TEST_JOBS) -parallel $(TEST_JOBS) ./...

unit-norace:
	$(GO) test -count=1 -run '^(TestDeployRepositoryToEmulator|TestSDKInvoke)$$' ./cmd/scf-deploy ./internal/emulator

# package writes the deployable code packages.
package: $(FUNCTIONS:%=$(DIST)/%.zip)

# The binaries are always rebuilt (the go command caches, so this is cheap);
# the zip is rewritten only when its binary changed.
$(DIST)/bundle/%: FORCE
	@mkdir -p $(DIST)/bundle
	$(PKG_ENV) $(GO) build $(PKG_FLAGS) -o $@.tmp ./functions/$*
	@chmod 0755 $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

$(DIST)/%.zip: $(DIST)/bundle/%
	$(GO) run ./cmd/zipfn -o $@ $<

.PRECIOUS: $(DIST)/bundle/%
FORCE:

# deploy creates or updates the functions of serverless.yml on Tencent Cloud
# (roles, code, timers, Function URLs) from .env; see docs/deploy.md.
deploy:
	$(GO) run ./cmd/scf-deploy apply

# run starts the local runner (same as `go run ./cmd/scf-local`).
run:
	$(GO) run ./cmd/scf-local

clean:
	rm -rf $(DIST) bin
