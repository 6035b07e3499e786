#!/usr/bin/env bash
# `npm test`: the same preparation as `npm start`, then every suite (unit, integration, end to end), then the
# unit and pipeline suites again on Node 22 and 24 (TANGERINE_SKIP_NODE_LINES=1 skips those).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
# The lint first, so a violation fails in minutes, before the long suites; it needs the build (for the types).
node --test --test-reporter=spec scripts/lint.test.mjs
npm run lint
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
status=0
if [ "${TANGERINE_SKIP_NODE_LINES:-}" != 1 ]; then bash scripts/node-lines.sh || status=1; fi
# The full run last, so its summary closes the output.
node scripts/run-tests.mjs all || status=1
exit $status
