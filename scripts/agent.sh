#!/usr/bin/env bash
# `npm run agent -- --host h2 --labels zone=b --slots 2`: one more agent on this machine, pointed at the same NATS.
set -euo pipefail
cd "$(dirname "$0")/.."
while [ $# -gt 0 ]; do
  case "$1" in
    --host) export HOST_ID="$2"; shift 2 ;;
    --labels) export HOST_LABELS="$2"; shift 2 ;;
    --slots) export HOST_SLOTS="$2"; shift 2 ;;
    --executors) export AGENT_EXECUTORS="$2"; shift 2 ;;
    *) echo "unknown option $1 (use --host, --labels, --slots, --executors)" >&2; exit 2 ;;
  esac
done
[ -f services/agent/dist/main.js ] || npx turbo run build --output-logs=errors-only
export LOG_FORMAT="${LOG_FORMAT:-pretty}"
# Like the agent of `npm start`: local processes on, and mounts from its state directory and /tmp.
STATE_DIR="${TANGERINE_STATE_DIR:-/var/tmp/tangerine}"
export AGENT_EXECUTORS="${AGENT_EXECUTORS:-docker,process}" AGENT_VOLUMES="${AGENT_VOLUMES-$STATE_DIR,/tmp}"
exec node services/agent/dist/main.js
