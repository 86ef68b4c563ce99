# agyn — the two commands: `make run` and `make test` (see README.md).
#   make build   binaries in build/bin/ (agynd, agyn)
#   make run     install missing packages, build, initialize ./var once, serve on :8080
#   make test    install test packages, build with ASan+UBSan and -Werror, run every test
#   make bench   the benchmarks under bench/
DATA_DIR ?= $(CURDIR)/var
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)

.PHONY: all build run test bench deps-run deps-test format clean

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

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-test
