#!/usr/bin/env bash
# Installs the deploy tests' Node packages (kubernetes-models and yaml, exactly as
# package-lock.json pins them) into tests/deploy/node_modules for validate_manifests.mjs.
# Needs Node.js 18 or later with npm. Does nothing when node_modules is current.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f node_modules/.package-lock.json ] && [ -d node_modules/kubernetes-models ] &&
   [ -d node_modules/yaml ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
