#!/bin/sh
# The e2e container of docker-compose.production.yml (the Dockerfile's e2e-production target).
# Production mode has no demo users, so alice and bob are created first, with the server1 account
# command, on server1's PostgreSQL (DATABASE_URL) and with the run's password (E2E_DEMO_PASSWORD);
# --if-missing leaves them as they are on a second run. Then the end-to-end flows through nginx
# (SERVER1_URL, SERVER2_URL), then the replica properties (test/topology). Fails on the first
# failure.
set -eu
add_account() {
  node services/server1/dist/cli/users.js add "$1" --name "$2" --email "$3" \
    --password-env E2E_DEMO_PASSWORD --if-missing
}
add_account alice 'Alice Liddell' alice@example.test
add_account bob 'Bob Marley' bob@example.test
npx vitest run --config vitest.e2e.config.ts
npx vitest run --config vitest.topology.config.ts
