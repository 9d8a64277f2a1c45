# syntax=docker/dockerfile:1
#
# The Packr registry (apps/registry). Build from the repo root, which is the build context:
#
#   docker build -f infra/registry.Dockerfile -t packr-registry .
#
# With no configuration the container runs the embedded default (PGlite + blobs under /data).
# Set DATABASE_URL, REDIS_URL and S3_* for the scale-out shape; see infra/README.md.
#
# There is no compile step: the registry runs its TypeScript through tsx, exactly as `pnpm start`
# does, so the image runs the same code path the tests exercise.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build

# The version must match the root packageManager field so the lockfile is read as it was written.
# COREPACK_INTEGRITY_KEYS=0: the corepack bundled with Node 20 can lag behind npm's signing keys
# and refuse a valid pnpm download; the lockfile still pins every dependency's integrity.
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0 \
    COREPACK_INTEGRITY_KEYS=0
RUN corepack enable pnpm && corepack prepare pnpm@10.34.8 --activate

WORKDIR /app

# Download step keyed on the lockfile alone, so editing source never re-downloads dependencies.
# The store stays in this (discarded) build stage rather than a cache mount: a cache mount can be
# pruned while this layer stays cached, and the --offline install below would then fail.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch --prod --store-dir /pnpm/store

# The whole workspace (trimmed by .dockerignore) so --frozen-lockfile sees every importer the
# lockfile lists; the filter then links only the registry and its workspace dependencies.
# tsx is a regular dependency of @packr/registry, so --prod keeps it: it is the runtime loader.
COPY . .
RUN pnpm install --offline --frozen-lockfile --prod --store-dir /pnpm/store \
      --filter "@packr/registry..."

# ---------------------------------------------------------------------------------------------
# Packr serves its own clients (packr-cli, @packr/agent, @packr/agent-schemas, @packr/mcp-server):
# their builds bundle and `pnpm pack` them, and the registry publishes the tarballs at start.
# Their own stage, with dev dependencies (tsdown, tsc), so the runtime install stays --prod.
FROM ${NODE_IMAGE} AS clients
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0 \
    COREPACK_INTEGRITY_KEYS=0
RUN corepack enable pnpm && corepack prepare pnpm@10.34.8 --activate
WORKDIR /app
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch --store-dir /pnpm/store
COPY . .
RUN pnpm install --offline --frozen-lockfile --store-dir /pnpm/store \
      --filter "@packr/agent-schemas..." --filter "@packr/agent..." \
      --filter "@packr/mcp-server..." --filter "packr-cli..." \
 && pnpm --filter @packr/agent-schemas --filter @packr/agent --filter @packr/mcp-server \
      --filter packr-cli run build \
 && mkdir -p /clients && cp packages/*/.pack/*.tgz /clients/

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

# tini as PID 1 forwards SIGTERM to node and reaps zombies; node itself as PID 1 ignores
# signals it has no handler for, turning every `docker stop` into a 10 s wait and a SIGKILL.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# HOST=0.0.0.0: the registry defaults to loopback, which is unreachable from outside a container.
# PACKR_DATA_DIR is absolute so it does not depend on the working directory.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4873 \
    PACKR_DATA_DIR=/data

WORKDIR /app

# Owned by root and not writable by the runtime user: the server can never rewrite its own code.
# The workspace layout is kept as is (node_modules symlinks are relative, tsx reads the tsconfig
# chain up to tsconfig.base.json, core finds its migrations in packages/core/drizzle).
COPY --from=build /app ./
COPY --from=clients /clients /app/clients
ENV PACKR_CLIENTS_DIR=/app/clients

# /data is created owned by the runtime user before VOLUME, so a fresh named volume (Docker
# copies the image's ownership into it) and a Fly volume (mounted for the image's USER) are
# writable without running as root. Bind mounts must be writable by uid 1000 on the host.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]

# The official image's unprivileged user (uid/gid 1000).
USER node

# Run from the registry's own directory, as its `start` script does: `--import tsx` resolves tsx
# from the working directory, and the filtered --prod install links tsx into
# apps/registry/node_modules only (the root's copy is a devDependency and is not installed).
WORKDIR /app/apps/registry

EXPOSE 4873

# Node's built-in fetch, so the slim image needs no curl. Loopback works because HOST=0.0.0.0
# binds every interface. start-period covers migrations applied at boot.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4873)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "src/server.ts"]
