# agyn — the two commands: `make run` and `make test` (see README.md).
#   make build   binaries in build/bin/ (agynd, agyn)
#   make run     install missing packages, build, initialize ./var once, serve on :8080
#   make test    install test packages, build with ASan+UBSan and -Werror, run every test
#   make bench   the benchmarks under bench/
#   make fuzz    every libFuzzer target of tests/fuzz for FUZZ_SECONDS each (new inputs in
#                build-fuzz/new-corpus/, crashes in build-fuzz/); make test runs each briefly
#   make soak    a time-bounded mixed load (SOAK_SECONDS) reporting RSS, fds, threads, DB size
#   make format        clang-format every tracked C file in place
#   make format-check  fail when a tracked C file under src/ or tests/ is not clang-formatted
DATA_DIR ?= $(CURDIR)/var
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 180

.PHONY: all build run test bench fuzz soak deps-run deps-test format format-check clean

all: build

deps-run:
	@scripts/install-deps.sh run

deps-test:
	@scripts/install-deps.sh test

build: deps-run
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j$(JOBS)

run: build
	@if [ ! -e "$(DATA_DIR)/agyn.db" ]; then \
	  umask 077; \
	  build/bin/agynd init --data-dir "$(DATA_DIR)" > "$(DATA_DIR).admin-token.tmp" && \
	  mv "$(DATA_DIR).admin-token.tmp" "$(DATA_DIR)/admin-token" && \
	  echo "Server-admin token (also in $(DATA_DIR)/admin-token):" && \
	  cat "$(DATA_DIR)/admin-token"; \
	fi
	@echo "agynd serving on http://$(LISTEN)  (Ctrl-C stops it)"
	@exec build/bin/agynd serve --data-dir "$(DATA_DIR)" --listen "$(LISTEN)"

test: deps-test
	@tests/console/install.sh
	@cmake -S . -B build-test -DAGYN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-test -j$(JOBS)
	@cd build-test && ctest --output-on-failure -j$(JOBS) --timeout 900

bench: build
	@scripts/install-deps.sh bench
	@bench/api.sh
	@bench/pull.sh
	@bench/isolation.py

fuzz: deps-test
	@cmake -S tests/fuzz -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-fuzz -j$(JOBS)
	@mkdir -p build-fuzz/new-corpus
	@for target in build-fuzz/fuzz_*; do \
	  name=$$(basename $$target); \
	  FUZZ_NEW_CORPUS=build-fuzz/new-corpus FUZZ_ARTIFACTS=build-fuzz \
	    tests/fuzz/run.sh $$target tests/fuzz/corpus/$$name $(FUZZ_SECONDS) || exit 1; \
	done

soak: build
	@scripts/install-deps.sh test
	@AGYND_BIN=build/bin/agynd AGYN_SOURCE_DIR=$(CURDIR) python3 tests/soak/soak.py --seconds $(SOAK_SECONDS)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@scripts/check_format.sh

clean:
	rm -rf build build-test build-fuzz
