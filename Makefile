# agyn — the two commands: `make run` and `make test` (see README.md).
#   make build   binaries in build/bin/ (agynd, agyn)
#   make run     install missing packages, build, initialize ./var once, serve on :8080
#                (AGYND_FLAGS adds flags to agynd serve)
#   make demo    the README's tour, scripted and offline (scripts/demo.sh): agynd, a private
#                registry with a sample image, a wrong password, a rotation, a running workload
#   make demo-registry  only the tour's private registry, on 127.0.0.1:5000 (user demo)
#   make test    install test packages, build with ASan+UBSan and -Werror, run every test
#                (integration suites on SQLite and PostgreSQL; CTEST_JOBS sets ctest -j)
#   make bench   every benchmark under bench/ (bench/run_all.sh) against a Release build in
#                build-bench/, then one summary table of all their rows (bench/README.md);
#                the scale curve stops at 10,000 secrets unless BENCH_SCALE_MAX=100000
#   make fuzz    every libFuzzer target of tests/fuzz for FUZZ_SECONDS each (new inputs in
#                build-fuzz/new-corpus/, crashes in build-fuzz/); make test runs each briefly
#   make soak    a time-bounded mixed load (SOAK_SECONDS) judging RSS, fds, threads, DB size flat
#   make install-terraform-provider [TERRAFORM_MIRROR=DIR]  the Terraform provider into a
#                filesystem mirror (default ~/.terraform.d/plugins): see docs/terraform.md
#   make format        clang-format every tracked C file in place
#   make format-check  fail when a tracked C file under src/ or tests/ is not clang-formatted
DATA_DIR ?= $(CURDIR)/var
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)
# ctest -j for make test (the integration suites mostly wait on servers; try more than JOBS).
CTEST_JOBS ?= $(JOBS)
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 180
AGYND_FLAGS ?=

.PHONY: install-terraform-provider
.PHONY: all build run demo demo-registry test bench fuzz soak deps-run deps-test format format-check clean

all: build

deps-run:
	@scripts/install-deps.sh run

deps-test:
	@scripts/install-deps.sh test

build: deps-run
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j$(JOBS)

TERRAFORM_MIRROR ?= $(HOME)/.terraform.d/plugins

install-terraform-provider: build
	@scripts/install-terraform-provider.sh build/bin/terraform-provider-agyn "$(TERRAFORM_MIRROR)"

run: build
	@if [ ! -e "$(DATA_DIR)/agyn.db" ]; then \
	  umask 077; \
	  build/bin/agynd init --data-dir "$(DATA_DIR)" > "$(DATA_DIR).admin-token.tmp" \
	    2> "$(DATA_DIR).init.err" || { cat "$(DATA_DIR).init.err" >&2; exit 1; }; \
	  rm -f "$(DATA_DIR).init.err"; \
	  mv "$(DATA_DIR).admin-token.tmp" "$(DATA_DIR)/admin-token" && \
	  echo && echo "The server-admin token (shown once here; kept in $(DATA_DIR)/admin-token):" && \
	  echo && sed 's/^/    /' "$(DATA_DIR)/admin-token" && echo; \
	fi
	@echo "Starting agynd on http://$(LISTEN) (Ctrl-C stops it); it is ready when it logs"
	@echo "\"serving\" (or: curl -sf http://$(LISTEN)/readyz)."
	@exec build/bin/agynd serve --data-dir "$(DATA_DIR)" --listen "$(LISTEN)" $(AGYND_FLAGS)

demo: build
	@scripts/install-deps.sh demo
	@scripts/demo.sh

demo-registry:
	@scripts/install-deps.sh demo
	@scripts/demo_registry.py --port 5000

test: deps-test
	@tests/console/install.sh
	@tests/deploy/install.sh
	@cmake -S . -B build-test -DAGYN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-test -j$(JOBS)
	@cd build-test && ctest --output-on-failure -j$(CTEST_JOBS) --timeout 900

bench:
	@scripts/install-deps.sh bench
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-bench -j$(JOBS) --target agynd agyn-cli
	@AGYND_BIN=$(CURDIR)/build-bench/bin/agynd bench/run_all.sh

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
	rm -rf build build-test build-fuzz build-bench
