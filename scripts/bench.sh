#!/usr/bin/env bash
# `npm run bench [-- --quick]`: prepare the machine, then run the benchmarks (see test/src/bench/).
set -euo pipefail
cd "$(dirname "$0")/.."
TANGERINE_SKIP_DOCKER="${TANGERINE_SKIP_DOCKER:-1}" bash scripts/prepare.sh
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
node test/dist/bench/pipeline-bench.js "$@"
