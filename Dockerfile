# syntax=docker/dockerfile:1
# Connector worker image, used by docker-compose.yml (`docker compose up -d --build`).
# Debian (glibc) rather than Alpine: the Temporal SDK's native core-bridge ships prebuilt for glibc only.

# The supported runtime: the same Node major as package.json engines, .ci/run and scripts/setup-node.js.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: full dependency tree to compile TypeScript into lib/ ------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first so the dependency layer is reused until package*.json change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and compiled output only ----------------------------------------
FROM ${NODE_IMAGE} AS runtime
# The worker's build id for worker versioning (`docker compose build --build-arg BUILD_ID=$(git rev-parse
# --short HEAD)`); empty means the package version, which is enough only while Versioning is off.
ARG BUILD_ID=
ENV NODE_ENV=production
ENV SNOW_CONNECTOR_BUILD_ID=${BUILD_ID}
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# The worker bundles workflow code at start-up from lib/workflows/index.js (webpack, a dependency of
# @temporalio/worker), so lib/ must be copied whole, not just the entry point. Owned by root and run as
# `node`: the process cannot rewrite its own code.
COPY --from=build /app/lib ./lib
# DataDirectory defaults to the relative "data" (local state such as cookies), so it must be writable by the
# unprivileged user; everything else stays read-only to it.
RUN mkdir -p data /data && chown node:node data /data

USER node
ENV WORKER_HEALTH_PORT=8080
# Health endpoint only, probed from inside the container; not meant to be published.
EXPOSE 8080
# Same probe as docker-compose.yml: healthy only while the Temporal worker is RUNNING (200), not 503.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.WORKER_HEALTH_PORT || '8080') + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
CMD ["node", "lib/worker.js"]
