#!/usr/bin/env bash
# Runs docker-compose.production.yml for real: PostgreSQL, Redis, two replicas of each service and
# nginx terminating TLS, each in a container, then its e2e container (the end-to-end flows, then
# test/topology's replica properties, through nginx over https). Built without a registry: the
# engine and the local Debian base image come from ../shared/tools/compose-offline.sh
# (--start-only), and every image, PostgreSQL's, Redis's and nginx's included, is built FROM that
# base with Debian's packages (BASE_IMAGE build arguments). Leaves the machine as it found it
# (--stop-daemon). Prints `compose production e2e passed in N s`, then `N passed, 0 failed`
# summed over the e2e container's vitest runs, or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/compose-engine.sh
PROJECT=jwthandoffprod
LOG=${COMPOSE_PRODUCTION_LOG:-/tmp/jwt-handoff-compose-production.log}
T0=$SECONDS
dc() { docker-compose --ansi never -p "$PROJECT" -f docker-compose.production.yml --profile e2e "$@"; }

cleanup() {
  local rc=$?
  if [ -n "${DOCKER_HOST:-}" ]; then
    dc down -v --remove-orphans >/dev/null 2>&1 || true
    # Images a rebuild replaced; the engine's data directory is kept between runs.
    docker image prune -f >/dev/null 2>&1 || true
  fi
  compose_engine_stop || echo "compose-production: could not stop the engine cleanly" >&2
  exit "$rc"
}
trap cleanup EXIT INT TERM

# 1. The engine, the registry-free base image and its Node headers (cached between runs).
compose_engine_start
# PostgreSQL, Redis, nginx and the certificate maker on the plain Debian base: their Dockerfiles
# install Debian's packages where the base lacks the binaries.
export CERTS_BASE_IMAGE="$LOCAL_BASE_IMAGE" POSTGRES_BASE_IMAGE="$LOCAL_BASE_IMAGE" \
  REDIS_BASE_IMAGE="$LOCAL_BASE_IMAGE" NGINX_BASE_IMAGE="$LOCAL_BASE_IMAGE"
# Secrets made for this run, the test-only X-Upstream-Addr header on, and nginx on free host ports.
export POSTGRES_PASSWORD=$(openssl rand -hex 16) REDIS_PASSWORD=$(openssl rand -hex 16) \
  SESSION_SECRET=$(openssl rand -base64 32) E2E_DEMO_PASSWORD=$(openssl rand -hex 12) \
  METRICS_TOKEN=$(openssl rand -hex 32) \
  NGINX_UPSTREAM_HEADER=on HTTPS_PUBLISHED_PORT= HTTP_PUBLISHED_PORT=

# 2. Build, start, and wait for the e2e container; its exit code is the result. Not `up
#    --abort-on-container-exit`: docker-compose 1.29 would stop everything when the one-shot
#    `certs` service exits. `up -d` starts each service once its depends_on conditions hold.
dc down -v --remove-orphans >/dev/null 2>&1 || true
deadline=$((SECONDS + ${COMPOSE_PRODUCTION_TIMEOUT:-1200}))
left() { echo $((deadline - SECONDS > 1 ? deadline - SECONDS : 1)); }
set +e
t_build=$SECONDS
# In parallel: PostgreSQL's, Redis's and nginx's images spend most of their build in apt-get.
timeout "$(left)" docker-compose --ansi never -p "$PROJECT" -f docker-compose.production.yml --profile e2e \
  build --parallel >"$LOG" 2>&1
rc=$?
echo "compose production: images built in $((SECONDS - t_build)) s"
if [ "$rc" -eq 0 ]; then
  timeout "$(left)" docker-compose --ansi never -p "$PROJECT" -f docker-compose.production.yml --profile e2e \
    up -d >>"$LOG" 2>&1
  rc=$?
fi
if [ "$rc" -eq 0 ]; then
  e2e=$(dc ps -q e2e)
  rc=$(timeout "$(left)" docker wait "$e2e")
  [ -n "$rc" ] || rc=124
fi
dc logs --no-color >>"$LOG" 2>&1
set -e
plain=$(sed 's/\x1b\[[0-9;]*m//g' "$LOG")
grep -E '^e2e_1 ' <<<"$plain" | grep -E 'Test Files|Tests |FAIL|✗|×|user ' | tail -20 || true
if [ "$rc" -ne 0 ]; then
  echo "compose production e2e failed (exit $rc) in $((SECONDS - T0)) s; full log: $LOG"
  grep -E '^e2e_1 ' "$LOG" | tail -60 || tail -60 "$LOG"
  exit "$rc"
fi
# One "Tests  N passed (N)" line per vitest run of the e2e container: the flows, the topology.
summaries=$(grep -E '^e2e_1 ' <<<"$plain" | grep -oE 'Tests +[0-9]+ passed' | grep -oE '[0-9]+' || true)
runs=$(grep -c . <<<"$summaries" || true)
if [ "$runs" -ne 2 ]; then
  echo "compose production e2e: expected 2 vitest summaries (flows, topology), found $runs" >&2
  exit 1
fi
passed=$(awk '{sum += $1} END {print sum + 0}' <<<"$summaries")
echo "compose production e2e passed in $((SECONDS - T0)) s"
echo "$passed passed, 0 failed"
