# One Dockerfile for both services and the end-to-end runner, with a target per image
# (`docker build --target server1 .`). They share the first stage, so the workspace is
# installed and compiled once, and each service image is the same small runtime stage.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: every dependency, then the compiled workspace -----------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 is a native addon, compiled here against the image's own Node headers rather
# than downloaded, so the build needs no host but the package registries.
RUN if ! (command -v g++ && command -v make && command -v python3) >/dev/null; then \
      apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY shared/package.json shared/
COPY services/server1/package.json services/server1/
COPY services/server2/package.json services/server2/
COPY test/kit/package.json test/kit/
COPY tools/attack/package.json tools/attack/
COPY examples/billing/package.json examples/billing/
RUN npm_config_nodedir=/usr/local npm_config_build_from_source=true npm ci --no-audit --no-fund
COPY shared shared
COPY services services
COPY test/kit test/kit
COPY tools tools
COPY examples examples
RUN npx tsc -b

# ---- prod: the same tree without development dependencies -----------------------------------
FROM build AS prod
RUN npm prune --omit=dev --no-audit --no-fund

# ---- runtime: what a service needs to run, as the unprivileged user `node` ------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 DATA_DIR=/data
WORKDIR /app
COPY --from=prod /app/package.json ./
COPY --from=prod /app/node_modules node_modules
COPY --from=prod /app/shared/package.json shared/
COPY --from=prod /app/shared/dist shared/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# Both services answer /readyz on their own PORT (each target sets it); images built from this
# stage inherit the check.
HEALTHCHECK --interval=2s --timeout=2s --start-period=5s --retries=30 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

FROM runtime AS server1
COPY --from=prod /app/services/server1/package.json services/server1/
COPY --from=prod /app/services/server1/dist services/server1/dist
ENV PORT=4001
EXPOSE 4001
CMD ["node", "services/server1/dist/main.js"]

FROM runtime AS server2
COPY --from=prod /app/services/server2/package.json services/server2/
COPY --from=prod /app/services/server2/dist services/server2/dist
ENV PORT=4002
EXPOSE 4002
CMD ["node", "services/server2/dist/main.js"]

# ---- e2e: the end-to-end flows, then the attack self-test (npm run attack), both run against
#      the services named by SERVER1_URL/SERVER2_URL; the container fails if either does ----
FROM build AS e2e
COPY vitest.config.ts vitest.e2e.config.ts ./
COPY test/e2e test/e2e
CMD ["sh", "-c", "npx vitest run --config vitest.e2e.config.ts && node tools/attack/dist/main.js --server1 \"$SERVER1_URL\" --server2 \"$SERVER2_URL\" --password \"$E2E_DEMO_PASSWORD\""]

# ---- e2e-production: the e2e container of docker-compose.production.yml. Through nginx over
#      https: the same flows, then the replica properties of test/topology (both services run
#      twice, on PostgreSQL and Redis). It creates the accounts the flows sign in with first. ----
FROM build AS e2e-production
COPY vitest.config.ts vitest.e2e.config.ts vitest.topology.config.ts ./
# All of test/: the topology suite's setup also holds the code that starts a local topology
# (test/postgres, test/redis, test/proxy), which it imports whether it starts one or not.
COPY test test
CMD ["sh", "test/e2e/production-topology.sh"]
