#!/usr/bin/env bash
# `npm run bench [-- --quick] [-- --only=part,…]`: prepare the machine, then the pipeline benchmark (issue 2's figure)
# and the report beside the peers and at fleet scale (test/src/bench/report.ts). Both print where they wrote.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
if [[ " $* " != *" --only="* ]]; then node test/dist/bench/pipeline-bench.js "$@"; fi
node test/dist/bench/report.js "$@"
