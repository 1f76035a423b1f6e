# The preview module: a live page of each source with its boxes drawn (optional; see deployment/README.md).
# Build it from the workspace root with
#   npx nx docker preview --arch amd64|arm64 [--cuda] [--jetpack 5|6]      (see docker/README.md)

# Node.js for the build stages; the runtime takes only its binary, so any Debian or Ubuntu base can carry it.
ARG NODE_IMAGE=node:24-bookworm-slim
# The CPU base: any Debian or Ubuntu image, e.g. one made locally with debootstrap (--base-image).
ARG BASE_IMAGE=debian:bookworm-slim
ARG TARGETARCH
ARG CUDA_SUPPORT=nocuda
# Jetson's JetPack (--jetpack), given to every module's build: preview's Debian image is the same on each.
ARG JETPACK=6

FROM ${NODE_IMAGE} AS node

# One base per architecture and GPU support, picked the way the original sample picks them. Preview does
# no GPU work, so its CUDA variant is the CPU image: one --cuda still covers a whole deployment.
FROM ${BASE_IMAGE} AS base-amd64-nocuda
FROM ${BASE_IMAGE} AS base-arm64-nocuda
FROM ${BASE_IMAGE} AS base-amd64-cuda
FROM ${BASE_IMAGE} AS base-arm64-cuda

FROM base-${TARGETARCH}-${CUDA_SUPPORT} AS base
COPY --from=node /usr/local/bin/node /usr/local/bin/node

# The Nx build runs on the build machine's own architecture: its output is plain JavaScript.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /workspace
# onnxruntime-node's install script would download CUDA libraries; its CPU build ships in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY nx.json tsconfig.base.json ./
# Nx infers the build target (webpack) and loads the workspace plugin named in nx.json.
COPY tools/nx-plugin tools/nx-plugin
COPY tools/webpack tools/webpack
COPY libs libs
COPY apps/preview apps/preview
RUN npx nx build preview

# Production dependencies from the package.json Nx generates for the app, installed on the target
# architecture for the native addons (zeromq, and sharp's libvips from its per-platform @img package).
FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY --from=build /workspace/dist/apps/preview/package.json /workspace/dist/apps/preview/package-lock.json ./
COPY docker/prune-node-modules.mjs /usr/local/lib/iev/
# Only this platform's native binaries, no types, source maps or docs (see the script).
RUN npm ci --omit=dev --no-audit --no-fund && node /usr/local/lib/iev/prune-node-modules.mjs node_modules

FROM base AS runtime
# Labels are drawn as text (SVG through sharp's librsvg): without fonts they come out as empty boxes. fontconfig's
# install builds the system font cache, so the unprivileged user needs no writable cache of its own.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fontconfig fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home iev
WORKDIR /app
COPY --from=production-dependencies /app/node_modules node_modules
COPY --from=build /workspace/dist/apps/preview ./
COPY docker/healthcheck.mjs /usr/local/lib/iev/healthcheck.mjs
# LISTEN_HOST: inside the container the other modules, port mappings and the health check reach the module, so
# it listens on all interfaces (outside a container the default is 127.0.0.1).
# MALLOC_ARENA_MAX: glibc gives each thread that allocates (libuv's workers, where sharp encodes; libvips', V8's,
# ZeroMQ's) an arena of its own, up to 8 per core, and an arena keeps what it freed: watched, the preview's RSS rose
# 16-17 MB more than with 2 arenas, at no CPU cost measured (docs/performance-log.md, 2026-12-07). Its threads are
# as many on any device (16 watched on 2 cores: libuv's 4, V8's 4, libvips' 3 as sharp runs at concurrency 1 under
# glibc, ZeroMQ's 2, Node's 3), and 2 cores' cap of 16 arenas already about covers them: more cores add little.
ENV NODE_ENV=production METRICS_PORT=9104 PREVIEW_PORT=8080 LISTEN_HOST=0.0.0.0 MALLOC_ARENA_MAX=2
USER iev
EXPOSE 8080 9104
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/usr/local/lib/iev/healthcheck.mjs"]
CMD ["node", "main.js"]
