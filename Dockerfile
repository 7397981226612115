# One image for the API and the worker (the command picks which). These
# machines have no Docker engine: CI runs this file's COPY, ENV and RUN steps
# outside Docker in a fresh directory (scripts/check-image-steps.sh), so keep
# to the instructions that script knows.
FROM node:20-bookworm-slim
WORKDIR /app
ENV SKIP_TEMPORAL_TOOLS=1 NODE_ENV=production
# Two malloc arenas instead of glibc's 8 per core: the worker's threads (libuv,
# V8, Temporal's Rust core) each held an arena of their own; its peak RSS at
# 20,000 leads fell by about 40 MiB (npm run start:worker does the same).
ENV MALLOC_ARENA_MAX=2
COPY package.json package-lock.json ./
# `npm ci` runs the project's postinstall step, so its scripts must be here
# already (SKIP_TEMPORAL_TOOLS makes the tools step a no-op: the image uses a
# real Temporal; the console build waits for the sources, copied next).
COPY scripts/install-tools.mjs scripts/build-console.mjs scripts/
RUN npm ci --no-audit --no-fund
COPY . .
# The operator console's script and stylesheet (dist/console), served by the API at /.
RUN node scripts/build-console.mjs
# Production dependencies only: fail the build if a command's modules do not
# load or the worker's workflow bundle cannot be built. The bundle stays in
# .cache/workflow-bundle, where the worker finds it fresh at start (it rebuilds
# it there only if the sources differ: worker/workflow-bundle.ts).
RUN npx tsx scripts/check-image-load.ts
CMD ["npx", "tsx", "api/server.ts"]
