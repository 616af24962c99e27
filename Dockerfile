# gridwatch gateway (and the simulator CLI, same sources). Two stages: the build stage has the
# compiler toolchain better-sqlite3 falls back to when no prebuilt binary matches; the runtime
# stage has only Node, the production dependencies and the sources.
#
# The gateway runs its TypeScript through tsx, which is a production dependency, so
# `npm ci --omit=dev` is enough: no compiler, test runner or linter in the image.

FROM node:20.20.2-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production \
    GRIDWATCH_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY gateway ./gateway
COPY broker ./broker
COPY simulators ./simulators
# The image's unprivileged `node` user (uid 1000) owns only the data directory.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080 1883
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# tsx as a loader inside one node process (no npx wrapper), so signals reach the gateway directly.
CMD ["node", "--import", "tsx", "gateway/src/app/main.ts"]
