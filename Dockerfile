# syntax=docker/dockerfile:1
# Protogate's image: `protogate serve` on compiled JavaScript, production dependencies only, as a
# non-root user. The config is /etc/protogate/gateway.yaml and the generated folder
# /srv/protogate/generated; both are baked in (a placeholder config and the demo's generated
# folder) and meant to be replaced: mount your own over them, or build FROM this image and COPY
# yours (README, "Deployment"). deploy/kubernetes/ mounts its ConfigMap at /etc/protogate.
# test/deploy/manifests.test.ts checks this file against the gateway's schema and the manifests.
ARG NODE_IMAGE=node:22-bookworm-slim

# Build: all dependencies, then `npm run build` compiles src/ and codegen/ into dist/.
# --ignore-scripts everywhere: no dependency needs its install script (protobufjs's only prints a
# version notice, @scarf/scarf's is telemetry), and npm 11 refuses scripts it is not told to allow.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ scripts/
COPY src/ src/
COPY codegen/ codegen/
COPY generated/ generated/
RUN npm run build

# Production dependencies only, from the same lock file (buf, ts-proto and google-proto-files are
# optional peers: `generate` is not needed to serve).
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /opt/protogate
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /opt/protogate
# Everything root-owned and read-only to the user that runs it. No src/: bin/protogate.js then
# runs dist/, the compiled code (it runs the TypeScript sources only in a checkout).
COPY --from=prod-deps /opt/protogate/node_modules/ node_modules/
COPY package.json ./
COPY bin/protogate.js bin/
COPY --from=build /src/dist/ dist/
COPY generated/ /srv/protogate/generated/
COPY deploy/docker/gateway.yaml /etc/protogate/gateway.yaml
# Numeric, so Kubernetes' runAsNonRoot can verify it (the image's `node` user).
USER 1000:1000
# The public listener and the admin listener (health, readiness, metrics) of the baked config.
EXPOSE 8080 9901
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9901/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `node` itself, so the serving V8 flags of src/cli/node-flags.ts must be given here (the #! line
# of bin/protogate.js is not read). Node is PID 1 and handles SIGTERM itself (drain, exit 0).
ENTRYPOINT ["node", "--no-memory-reducer", "/opt/protogate/bin/protogate.js"]
CMD ["serve", "--config", "/etc/protogate/gateway.yaml"]
