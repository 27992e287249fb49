#!/usr/bin/env bash
# Runs docker-compose.yml for real (both services and the e2e flows, each in a container) on a
# machine with no container registry and no running Docker engine, and leaves the machine as it
# found it. The engine and a locally built base image come from ../shared/tools/compose-offline.sh
# (--start-only; --stop-daemon restores docker0, iptables and the FORWARD policy afterwards).
# Prints `compose e2e passed in N s` or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOL=${COMPOSE_OFFLINE:-../shared/tools/compose-offline.sh}
PROJECT=jwthandoff
T0=$SECONDS

cleanup() {
  local rc=$?
  if [ -n "${DOCKER_HOST:-}" ]; then
    docker-compose --ansi never -p "$PROJECT" down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  bash "$TOOL" --stop-daemon >/dev/null 2>&1 || echo "compose: could not stop the engine cleanly" >&2
  exit "$rc"
}
trap cleanup EXIT INT TERM

# 1. The engine and the registry-free base image (cached between runs).
exports=$(bash "$TOOL" --start-only)
eval "$exports"

# 2. The official node image ships Node's C headers in /usr/local/include/node; the local base
#    image is only node and npm, so add this machine's headers (they match its node binary) for
#    better-sqlite3's native build. Cached by its tag.
HEADERS_IMAGE="$NODE_IMAGE-headers"
node_include="$(npm config get nodedir 2>/dev/null)/include/node"
[ -f "$node_include/node_version.h" ] || node_include="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
if ! docker image inspect "$HEADERS_IMAGE" >/dev/null 2>&1; then
  ctx=$(mktemp -d)
  cp -a "$node_include" "$ctx/node"
  printf 'FROM %s\nCOPY node /usr/local/include/node\n' "$NODE_IMAGE" >"$ctx/Dockerfile"
  docker build -q -t "$HEADERS_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
fi
export NODE_IMAGE="$HEADERS_IMAGE"

# 3. Build and run; the e2e container's exit code is the result.
docker-compose --ansi never -p "$PROJECT" down -v --remove-orphans >/dev/null 2>&1 || true
set +e
timeout 1200 docker-compose --ansi never -p "$PROJECT" up --build --no-color --abort-on-container-exit \
  --exit-code-from e2e >"${COMPOSE_LOG:-/tmp/jwt-handoff-compose.log}" 2>&1
rc=$?
set -e
grep -E '^e2e_1 ' "${COMPOSE_LOG:-/tmp/jwt-handoff-compose.log}" | tail -25 || true
if [ "$rc" -ne 0 ]; then
  echo "compose e2e failed (exit $rc) in $((SECONDS - T0)) s; full log: ${COMPOSE_LOG:-/tmp/jwt-handoff-compose.log}"
  tail -40 "${COMPOSE_LOG:-/tmp/jwt-handoff-compose.log}"
  exit "$rc"
fi
# The e2e container's vitest summary, for CI's totals: "Tests  N passed (N)".
passed=$(sed 's/\x1b\[[0-9;]*m//g' "${COMPOSE_LOG:-/tmp/jwt-handoff-compose.log}" | grep -oE 'Tests +[0-9]+ passed' | grep -oE '[0-9]+' | tail -1)
if [ -z "$passed" ] || [ "$passed" -eq 0 ]; then
  echo "compose e2e ran no test" >&2
  exit 1
fi
echo "compose e2e passed in $((SECONDS - T0)) s"
echo "$passed passed, 0 failed"
