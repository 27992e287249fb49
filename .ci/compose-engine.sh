# Sourced by .ci/compose.sh and .ci/compose-production.sh: the Docker engine and the node base
# image on a machine with no container registry and no running engine, from
# ../shared/tools/compose-offline.sh (or $COMPOSE_OFFLINE).
#
#   compose_engine_start   starts the engine (--start-only) and exports DOCKER_HOST, LOCAL_BASE_IMAGE
#                          (the registry-free Debian base with node and npm) and NODE_IMAGE (that
#                          base plus this machine's Node C headers, for better-sqlite3's build)
#   compose_engine_stop    stops the engine and restores the machine (--stop-daemon)
COMPOSE_OFFLINE_TOOL=${COMPOSE_OFFLINE:-../shared/tools/compose-offline.sh}

compose_engine_start() {
  local exports
  exports=$(bash "$COMPOSE_OFFLINE_TOOL" --start-only)
  eval "$exports"
  export LOCAL_BASE_IMAGE="$NODE_IMAGE"
  # The official node image ships Node's C headers in /usr/local/include/node; the local base
  # image is only node and npm, so add this machine's headers (they match its node binary).
  # Cached by its tag, and shared by both compose runs.
  local headers_image="$NODE_IMAGE-headers" node_include ctx
  node_include="$(npm config get nodedir 2>/dev/null)/include/node"
  [ -f "$node_include/node_version.h" ] ||
    node_include="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
  if ! docker image inspect "$headers_image" >/dev/null 2>&1; then
    ctx=$(mktemp -d)
    cp -a "$node_include" "$ctx/node"
    printf 'FROM %s\nCOPY node /usr/local/include/node\n' "$NODE_IMAGE" >"$ctx/Dockerfile"
    docker build -q -t "$headers_image" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
  export NODE_IMAGE="$headers_image"
}

compose_engine_stop() {
  bash "$COMPOSE_OFFLINE_TOOL" --stop-daemon >/dev/null 2>&1
}
