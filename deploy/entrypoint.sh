#!/bin/sh
# Entrypoint of the Tangerine image (deploy/Dockerfile): `node "$@"` after two adjustments for Docker Swarm.
#
# 1. Swarm secrets are files, but `pg` reads the password from PGPASSWORD. When PGPASSWORD is unset and the secret
#    file is readable, export its content (trailing newlines dropped). The file is PGPASSWORD_FILE, by default
#    /run/secrets/tangerine_pg_password, the secret deploy/docker-stack.yml gives the ledger services.
# 2. HOST_ID must match [A-Za-z0-9][A-Za-z0-9_-]*, and the stack sets it to the node's hostname, which may be a
#    dotted name: every other character becomes "-" (node1.example.com -> node1-example-com), the same rule
#    Tangerine applies to the hostname when HOST_ID is unset.
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

exec node "$@"
