#!/usr/bin/env bash
# `npm start`: prepare the machine, then run every service and one local agent in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}" PGDATABASE="${PGDATABASE:-tangerine}"
export LOG_FORMAT="${LOG_FORMAT:-pretty}" HOST_ID="${HOST_ID:-local}"
# The README's examples mount from /tmp and the state directory, and run local processes (as AGENT_PROCESS_USER).
STATE_DIR="${TANGERINE_STATE_DIR:-/var/tmp/tangerine}"
export VOLUMES_ALLOWED="${VOLUMES_ALLOWED-$STATE_DIR,/tmp}" AGENT_VOLUMES="${AGENT_VOLUMES-$STATE_DIR,/tmp}"
export AGENT_EXECUTORS="${AGENT_EXECUTORS:-docker,process}"
# One process, one identity: every service and the local agent (bound to HOST_ID at the first start).
IDENTITIES="${TANGERINE_IDENTITIES:-$STATE_DIR/nats-identities}"
export NATS_NKEY_FILE="${NATS_NKEY_FILE:-$IDENTITIES/seeds/tangerine.nk}" NATS_INBOX_PREFIX="${NATS_INBOX_PREFIX:-_INBOX_tangerine}"
# Secret env values are sealed in the ledger with the key prepare.sh made (unless SECRETS_KEY is given).
[ -n "${SECRETS_KEY:-}" ] || export SECRETS_KEY_FILE="${SECRETS_KEY_FILE:-$STATE_DIR/secrets.key}"
# The HTTP API on API_PORT (8080) with the write token prepare.sh made, unless API_TOKENS(_FILE) or API_AUTH=off is given.
[ -n "${API_TOKENS:-}" ] || [ "${API_AUTH:-on}" = off ] || export API_TOKENS_FILE="${API_TOKENS_FILE:-$STATE_DIR/api-tokens}"
API_TOKEN=""
if [ -n "${API_TOKENS_FILE:-}" ] && [ -r "$API_TOKENS_FILE" ]; then
  API_TOKEN=$(awk '!/^[[:space:]]*(#|$)/ && $2 == "write" { print $1; exit }' "$API_TOKENS_FILE")
fi
cat >&2 <<EOF
[start] HTTP API: http://127.0.0.1:${API_PORT:-8080}/v1 (token list: ${API_TOKENS_FILE:-API_TOKENS}); to submit with curl:
[start]   curl -H "Authorization: Bearer ${API_TOKEN:-<token>}" -H 'Content-Type: application/json' \\
[start]     -d '{"name":"hello-http","executor":"process","command":["echo","hi"]}' http://127.0.0.1:${API_PORT:-8080}/v1/tasks
[start] status page: http://127.0.0.1:${API_PORT:-8080}/ (it asks for the token; API_READ_OPEN=true shows it without one)
EOF
# AUTOSCALER_PROVIDER=local: the autoscaler starts and stops agent processes on this machine as the queue asks
# (LOCAL_SCALE_LIMIT of them at most, LOCAL_AGENT_SLOTS slots each), with the pool's identities prepare.sh made.
if [ "${AUTOSCALER_PROVIDER:-}" = local ]; then
  [ "${TANGERINE_NATS_AUTH:-on}" = off ] || export LOCAL_AGENT_IDENTITIES="${LOCAL_AGENT_IDENTITIES:-$IDENTITIES}"
  export LOCAL_STATE_DIR="${LOCAL_STATE_DIR:-$STATE_DIR/autoscaler-local}"
  echo "[start] autoscaling: up to ${LOCAL_SCALE_LIMIT:-4} local agents (${LOCAL_HOST_PREFIX:-auto}-1…), their lines in $LOCAL_STATE_DIR/<host>.log" >&2
fi
cat >&2 <<EOF
[start] NATS identities: $IDENTITIES (seeds in seeds/, nats-server's auth.conf beside them)
[start] to submit with the nats CLI:  export NATS_NKEY=$IDENTITIES/seeds/submitter.nk
[start]                              nats pub tasks.submit '{"name":"hello","executor":"process","command":["echo","hi"]}'
[start] operator (drain, dead letters): seeds/operator.nk; add an agent: npm run identities -- agent $IDENTITIES <host>
EOF
exec node services/combined/dist/main.js
