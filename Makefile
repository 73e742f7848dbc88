# smtpc: a thin wrapper around CMake.
#
#   make            build into build/ (RelWithDebInfo: -O2 -g) -> build/smtpc
#   make check      install test deps, build with ASan+UBSan and -Werror into
#                   build-check/, fuzz each target briefly, then run every
#                   unit and integration test (tests/run.sh; its last line
#                   is the "N passed, N failed" summary)
#   make test       run the tests against build/ (no sanitizers, no deps step)
#   make demo       send a sample message through build/smtpc (scripts/demo.sh);
#                   installs the demo's server (aiosmtpd) first
#   make install    install build/ (PREFIX=/usr/local, DESTDIR honoured)
#   make deb        Debian packages from debian/ into build-deb/, checked with
#                   lintian (scripts/deb.sh)
#   make clean      remove build/ and build-check/
#   make size       Cortex-M4 footprint table into docs/FOOTPRINT.md (scripts/size.sh)
#
# Variables: BUILD_TYPE, PREFIX, JOBS, WERROR=ON (warnings are errors),
# THREADX_DIR, NETXDUO_DIR (sources for the NetX Duo tests),
# CMAKE_ARGS (extra -D options), TESTS (name patterns for tests/run.sh).

BUILD_DIR    ?= build
CHECK_DIR    ?= build-check
BUILD_TYPE   ?= RelWithDebInfo
CHECK_TYPE   ?= Debug
PREFIX       ?= /usr/local
JOBS         ?= $(shell nproc 2>/dev/null || echo 2)
WERROR       ?= OFF
# make check keeps the tree warning-free: a warning fails it.
CHECK_WERROR ?= ON
CMAKE        ?= cmake
CMAKE_ARGS   ?=
TESTS        ?=
# ThreadX and NetX Duo sources for the NetX Duo port's tests (empty: CMake
# looks in ../shared/third_party; not there: those tests skip).
THREADX_DIR  ?=
NETXDUO_DIR  ?=
NETX_ARGS     = $(if $(THREADX_DIR),-DTHREADX_DIR=$(abspath $(THREADX_DIR))) \
                $(if $(NETXDUO_DIR),-DNETXDUO_DIR=$(abspath $(NETXDUO_DIR)))

.PHONY: all build deps-build deps-demo deps-deb deps configure check test demo install deb clean size
# Room for later: fuzz bench

all: build

# Package groups: scripts/packages (build, demo, check, deb).
deps-build:
	@scripts/deps.sh build

deps-demo:
	@scripts/deps.sh build demo

deps-deb:
	@scripts/deps.sh build deb

deps:
	@scripts/deps.sh

configure: deps-build
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DSMTPC_WERROR=$(WERROR) $(NETX_ARGS) $(CMAKE_ARGS)

build: configure
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

check: deps
	$(CMAKE) -S . -B $(CHECK_DIR) -DCMAKE_BUILD_TYPE=$(CHECK_TYPE) \
	  -DSMTPC_SANITIZE=ON -DSMTPC_WERROR=$(CHECK_WERROR) $(NETX_ARGS) $(CMAKE_ARGS)
	$(CMAKE) --build $(CHECK_DIR) -j $(JOBS)
	fuzz/run.sh $(FUZZ_CHECK_SECONDS)
	tests/run.sh $(CHECK_DIR) $(TESTS)

test: build
	tests/run.sh $(BUILD_DIR) $(TESTS)

demo: deps-demo build
	scripts/demo.sh

install: build
	DESTDIR="$(DESTDIR)" $(CMAKE) --install $(BUILD_DIR)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

# Fuzzing (fuzz/run.sh; owned with fuzz/): each libFuzzer target for
# FUZZ_SECONDS; `make check` runs each for FUZZ_CHECK_SECONDS.  Skipped with
# a message when clang's libFuzzer is not installed.
FUZZ_SECONDS       ?= 600
FUZZ_CHECK_SECONDS ?= 30
.PHONY: fuzz
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

DEB_DIR ?= build-deb
deb: deps-deb
	DEB_BUILD_OPTIONS="$${DEB_BUILD_OPTIONS:-parallel=$(JOBS)}" scripts/deb.sh $(DEB_DIR)

clean:
	rm -rf $(BUILD_DIR) $(CHECK_DIR) $(DEB_DIR)

# Cross build of the core for a Cortex-M4: the footprint tables of
# docs/FOOTPRINT.md, budgets from scripts/size/budgets.json (scripts/size.sh).
size:
	scripts/size.sh --features --doc docs/FOOTPRINT.md
