#!/usr/bin/env bash
# Runs docker-compose.yml for real (both services and the e2e flows, each in a container) on a
# machine with no container registry and no running Docker engine, and leaves the machine as it
# found it. The engine and a locally built base image come from ../shared/tools/compose-offline.sh
# (--start-only; --stop-daemon restores docker0, iptables and the FORWARD policy afterwards).
# Prints `compose e2e passed in N s` or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/compose-engine.sh
PROJECT=jwthandoff
T0=$SECONDS

cleanup() {
  local rc=$?
  if [ -n "${DOCKER_HOST:-}" ]; then
    docker-compose --ansi never -p "$PROJECT" down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  compose_engine_stop || echo "compose: could not stop the engine cleanly" >&2
  exit "$rc"
}
trap cleanup EXIT INT TERM

# 1. The engine, the registry-free base image and its Node headers (cached between runs).
compose_engine_start

# 2. Build and run; the e2e container's exit code is the result.
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
