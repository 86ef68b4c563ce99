#!/usr/bin/env bash
# Installs the Debian packages a make target needs, only when some are missing.
# Usage: scripts/install-deps.sh run|demo|test|bench   (as root, or with sudo available)
set -euo pipefail

BUILD_PACKAGES="build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev
  libcurl4-openssl-dev libssl-dev ca-certificates libnghttp2-dev libprotobuf-c-dev
  protobuf-c-compiler libmsgpack-dev libyaml-dev"
TEST_PACKAGES="$BUILD_PACKAGES libcmocka-dev python3 docker-registry skopeo apache2-utils openssl
  docker.io busybox-static podman
  chromium fonts-liberation clang clang-format gdb postgresql-15 python3-yaml"
# gnuplot-nox: bench/scale.sh draws its curves as SVG (no X needed).
BENCH_PACKAGES="$TEST_PACKAGES wrk nginx-light time gnuplot-nox"
# make demo and the README's tour: the private registry, its sample image, curl and jq.
DEMO_PACKAGES="$BUILD_PACKAGES python3 docker-registry skopeo apache2-utils busybox-static curl jq"

case "${1:-run}" in
  run) wanted=$BUILD_PACKAGES ;;
  demo) wanted=$DEMO_PACKAGES ;;
  test) wanted=$TEST_PACKAGES ;;
  bench) wanted=$BENCH_PACKAGES ;;
  *) echo "usage: $0 run|demo|test|bench" >&2; exit 2 ;;
esac

# The Console tests also need Node.js 20+ with npm, which come with the machine image (Debian's
# nodejs 18 is too old for playwright-core); tests/integration/test_console.py says so if not.

missing=()
for pkg in $wanted; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing missing packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# nginx and docker-registry must not start system services of their own; tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
