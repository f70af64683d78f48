# CORS Quick Check. `make run` and `make test` do all the set-up a fresh Debian machine with Go needs.
GO      ?= go
BIN     := bin/corscheck
PKGS    := ./...
# Chromium drives the conformance and end-to-end tests; `make deps` installs it from Debian when
# it is missing and we are root (CI and fresh machines), and otherwise says what to install.
DEBS    := chromium

.PHONY: all build run test deps vet fmt lint generate bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) .

run: build
	./$(BIN) demo

deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBS) >/dev/null; \
		else \
			echo "missing:$$missing (sudo apt-get install $(DEBS)); browser tests will be skipped"; \
		fi; \
	fi

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

generate:
	$(GO) tool templ generate

test: deps lint
	$(GO) test -count=1 $(PKGS)

# Benchmarks report ratios against a baseline measured in the same run (see docs/benchmarks.md).
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2000x ./server/probe/
	$(GO) test -run '^$$' -bench . ./server/cors/

# A short fuzzing pass over the parsers; `make fuzz FUZZTIME=10m` for a longer one.
FUZZTIME ?= 15s
fuzz:
	@for f in $$($(GO) test -list 'Fuzz.*' ./server/cors/ | grep ^Fuzz); do \
		$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./server/cors/ || exit 1; \
	done

clean:
	rm -rf bin
