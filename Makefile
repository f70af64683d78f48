# CORS Quick Check. `make run` and `make test` do all the set-up a fresh Debian machine with Go needs.
GO      ?= go
BIN     := bin/corscheck
PKGS    := ./...
# The version corscheck and the gadget it builds report (corscheck version): the commit as git
# describes it. Outside a git checkout it is empty, and the binary falls back to the module
# version go recorded, else "devel".
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
# Chromium drives the conformance and end-to-end tests (certutil, from libnss3-tools, makes it
# trust the tests' certificate authorities), Firefox ESR the Firefox conformance suite and the
# recorded Firefox HARs, PostgreSQL backs the store tests of the
# scale option; `make deps` installs them from Debian when missing and we are root (CI and fresh
# machines), and otherwise says what to install.
DEBS    := chromium firefox-esr libnss3-tools postgresql nginx-light

.PHONY: all build run test deps vet fmt lint generate bench fuzz clean gadget-test screenshots templ-check fill

all: build

build:
	$(GO) build -ldflags "-X main.buildVersion=$(VERSION)" -o $(BIN) .

# make run LISTEN=127.0.0.1:9090 chooses the service's address; without it the demo takes
# 127.0.0.1:8080, or a free port when that one is taken.
run: build
	./$(BIN) demo $(if $(LISTEN),--listen $(LISTEN))

deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v firefox-esr >/dev/null 2>&1 || [ -x /usr/bin/firefox-esr ] || missing="$$missing firefox-esr"; \
	command -v certutil >/dev/null 2>&1 || missing="$$missing libnss3-tools"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$$missing nginx-light"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "missing:$$missing (sudo apt-get install $(DEBS)); their tests will be skipped"; \
		fi; \
	fi

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

lint: vet templ-check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

generate:
	$(GO) tool templ generate

# The committed *_templ.go files must be what the pinned templ generates from the .templ files.
templ-check:
	$(GO) tool templ fmt -fail web
	$(GO) tool templ generate -path web
	git diff --exit-code -- web
	test -z "$$(git ls-files --others --exclude-standard -- web)"

test: deps lint gadget-test
	$(GO) test -count=1 -timeout 20m $(PKGS)

# The gadget's pure logic and DOM rendering, with Node's test runner (linkedom for the DOM).
gadget-test:
	[ -d node_modules/linkedom ] || npm ci --silent --no-audit --no-fund
	for f in gadget/*.js gadget/messages/*.js; do node --check "$$f" || exit 1; done
	node --test gadget/test/

# Screenshots of the gadget in the desktop simulator and of the admin UI, for docs/. The Korean
# screenshot and the simulator's 한국어 link need a CJK font (Debian's fonts-noto-cjk).
screenshots:
	@fc-list :lang=ko 2>/dev/null | grep -q . || { echo "no Korean font: install fonts-noto-cjk (sudo apt-get install fonts-noto-cjk)"; exit 1; }
	SCREENSHOT_DIR=docs/img $(GO) test -count=1 -run 'TestGadgetInSimulator|TestAdminInBrowser|TestDemoDashboardInBrowser' .

# Benchmarks report ratios against a baseline measured in the same run (see docs/benchmarks.md).
# The admin pages' scale figure needs a store of 10 million results: `make fill` makes it once
# (about 5 minutes and 5.3 GB on 2 cores) in FILL_DIR and later runs find it there.
bench: deps build fill
	CORSCHECK_BENCH_STORE=$(FILL_DIR) $(GO) test -run '^$$' -bench AdminPages -benchtime 50x ./server/admin/
	$(GO) test -run '^$$' -bench . -benchtime 2000x ./server/probe/
	$(GO) test -run '^$$' -bench . ./server/cors/
	$(GO) test -run '^$$' -bench . -benchtime 3x ./server/explain/
	$(GO) test -run '^$$' -bench . -benchtime 20000x ./server/store/
	$(GO) test -run '^$$' -bench . -benchtime 2x ./server/api/
	$(GO) test -run '^$$' -bench GadgetThreeNodes -benchtime 5x .
	$(GO) test -run '^$$' -bench Round -benchtime 3x ./server/monitor/
	$(GO) test -run '^$$' -bench RSS -benchtime 1x ./server/monitor/
	$(GO) test -run '^$$' -bench AlertLatency -benchtime 5x ./server/monitor/

# A store of synthetic results for the scale benchmarks (docs/benchmarks.md): 10 million by
# default, in a data directory outside the repository (or FILL_DIR=postgres://…). Run again, it
# adds nothing; interrupted, it resumes.
FILL_DIR     ?= $(HOME)/.cache/corscheck/bench-10m
FILL_RESULTS ?= 10000000
fill:
	$(GO) run ./server/synth/fill -data $(FILL_DIR) -results $(FILL_RESULTS)

# A short fuzzing pass over the parsers; `make fuzz FUZZTIME=10m` for a longer one.
FUZZTIME ?= 15s
fuzz:
	@for f in $$($(GO) test -list 'Fuzz.*' ./server/cors/ | grep ^Fuzz); do \
		$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./server/cors/ || exit 1; \
	done

clean:
	rm -rf bin
