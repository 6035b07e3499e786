#!/bin/sh
# Entrypoint of the PostgreSQL image built by scripts/images.sh (deploy/images/postgres/Dockerfile): what the stack
# needs of postgres:16's docker-entrypoint.sh. On the first start (no $PGDATA/PG_VERSION), initdb with superuser
# POSTGRES_USER (default postgres) and the password read from POSTGRES_PASSWORD_FILE (or POSTGRES_PASSWORD), then
# create POSTGRES_DB (default the user's name) in single-user mode, so no server listens before the password is
# set. Every later start uses the data as it is: the secret is read only when the data directory is made.
set -eu

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
# The stack's command is the public image's: ["postgres", "-c", "max_connections=200"].
if [ "${1:-}" = postgres ]; then shift; fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    [ -r "$POSTGRES_PASSWORD_FILE" ] || { echo "postgres-entrypoint: POSTGRES_PASSWORD_FILE $POSTGRES_PASSWORD_FILE is not readable" >&2; exit 1; }
    password="$(cat "$POSTGRES_PASSWORD_FILE")"
  else
    password="${POSTGRES_PASSWORD:-}"
  fi
  [ -n "$password" ] || { echo "postgres-entrypoint: no password: set POSTGRES_PASSWORD_FILE (a file, non-empty) or POSTGRES_PASSWORD" >&2; exit 1; }
  case "$user$db" in *[!A-Za-z0-9_-]*) echo "postgres-entrypoint: POSTGRES_USER and POSTGRES_DB may hold letters, digits, _ and - only" >&2; exit 1 ;; esac
  pwfile="$(mktemp)"
  trap 'rm -f "$pwfile"' EXIT
  printf '%s\n' "$password" >"$pwfile"
  initdb -D "$PGDATA" --username="$user" --pwfile="$pwfile" --auth-local=scram-sha-256 --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  if [ "$db" != postgres ]; then
    printf 'CREATE DATABASE "%s";\n' "$db" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "postgres-entrypoint: made the data directory $PGDATA (user $user, database $db)" >&2
fi

exec postgres -D "$PGDATA" "$@"
