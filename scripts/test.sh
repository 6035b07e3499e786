#!/usr/bin/env bash
# `npm test`: the same preparation as `npm start`, then every suite (unit, integration, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
node scripts/run-tests.mjs all
