# scf-janitor build, test and packaging.
GO ?= go
FUNCTIONS := cancel-task cancel-live-audit stop-transcription sweep-tasks

.PHONY: all build test lint fmt-check vet staticcheck unit

all: build

build:
	$(GO) build ./...

# test is the command CI runs (see README.md).
test: fmt-check vet staticcheck unit

lint: fmt-check vet staticcheck

fmt-check:
	@out="$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...

unit:
	$(GO) test -race -count=1 ./...
