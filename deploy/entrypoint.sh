#!/bin/sh
# Entrypoint of the Tangerine image (deploy/Dockerfile): `node "$@"` after three adjustments for Docker Swarm.
#
# 1. Swarm secrets are files, but `pg` reads the password from PGPASSWORD. When PGPASSWORD is unset and the secret
#    file is readable, export its content (trailing newlines dropped). The file is PGPASSWORD_FILE, by default
#    /run/secrets/tangerine_pg_password, the secret deploy/docker-stack.yml gives the ledger services.
# 2. HOST_ID must match [A-Za-z0-9][A-Za-z0-9_-]*, and the stack sets it to the node's hostname, which may be a
#    dotted name: every other character becomes "-" (node1.example.com -> node1-example-com), the same rule
#    Tangerine applies to the hostname when HOST_ID is unset.
# 3. An agent connects to NATS as agent-<HOST_ID> and may read replies only under _INBOX_agent-<HOST_ID>; a global
#    swarm service has one environment for every node, so the stack cannot write that prefix. The stack marks the
#    agent with TANGERINE_ROLE=agent (not its command's path: a copy of the service, or a wrapper, keeps the mark);
#    for it, when NATS_INBOX_PREFIX is unset or empty, export _INBOX_agent-<HOST_ID>, HOST_ID after step 2 or, when
#    unset, the hostname under the same rule (what the agent takes as its id then). Other containers are left alone.
set -eu

secret_file="${PGPASSWORD_FILE:-/run/secrets/tangerine_pg_password}"
if [ -z "${PGPASSWORD:-}" ] && [ -r "$secret_file" ]; then
  PGPASSWORD="$(cat "$secret_file")"
  export PGPASSWORD
fi
unset PGPASSWORD_FILE

if [ -n "${HOST_ID:-}" ]; then
  HOST_ID="$(printf '%s' "$HOST_ID" | sed 's/[^A-Za-z0-9_-]/-/g')"
  export HOST_ID
fi

if [ "${TANGERINE_ROLE:-}" = agent ] && [ -z "${NATS_INBOX_PREFIX:-}" ]; then
  host="${HOST_ID:-$(uname -n | sed 's/[^A-Za-z0-9_-]/-/g')}"
  NATS_INBOX_PREFIX="_INBOX_agent-$host"
  export NATS_INBOX_PREFIX
fi

exec node "$@"
