#!/usr/bin/env bash
# Installs the Console tests' Node packages (playwright-core and axe-core, exactly as package-lock.json pins
# it) into tests/console/node_modules. Needs Node.js 20 or later with npm (the machine image
# has them; Debian 12's own nodejs is 18, too old for playwright-core) and, to run the tests,
# Debian's chromium (apt-get install -y chromium). playwright-core downloads no browser; the
# tests drive /usr/bin/chromium. Does nothing when node_modules is current.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f node_modules/.package-lock.json ] && [ -d node_modules/playwright-core ] && [ -d node_modules/axe-core ] &&
   [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
