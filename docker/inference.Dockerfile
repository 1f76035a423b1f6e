# The inference module: text detection on the frames from capture (ONNX Runtime on the CPU; the CUDA
# variant starts from NVIDIA's TensorRT images). Build it from the workspace root with
#   npx nx docker inference --arch amd64|arm64 [--cuda] [--jetpack 5|6] [--decoders]      (see docker/README.md)
# --decoders (build arg DECODERS=ffmpeg, tags <version>-<platform>.decoders) adds capture's ffmpeg and GStreamer, for
# an inference that decodes its cameras itself (CAPTURE_SOURCES): ~500 MB more, so the default image goes without.

# Node.js for the build stages; the runtime takes only its binary, so any Debian or Ubuntu base can carry it.
ARG NODE_IMAGE=node:24-bookworm-slim
# The CPU base: any Debian or Ubuntu image, e.g. one made locally with debootstrap (--base-image).
ARG BASE_IMAGE=debian:bookworm-slim
ARG TENSORRT_IMAGE=nvcr.io/nvidia/tensorrt:24.08-py3
# Jetson: JetPack 6.1/6.2 (L4T R36.4, TensorRT 10.3, CUDA 12.6, Ubuntu 22.04), the release Orin modules ship with;
# or JetPack 5.1 (L4T R35.2, TensorRT 8.5, CUDA 11.4, Ubuntu 20.04), the last for Xavier: JETPACK=5 (--jetpack 5).
# The TensorRT binding is compiled against TensorRT's headers and nvcc, which L4T's runtime images lack: each
# JetPack has a devel image for that.
ARG JETPACK=6
ARG L4T_TENSORRT_JETPACK6_IMAGE=nvcr.io/nvidia/l4t-tensorrt:r10.3.0-runtime
ARG L4T_TENSORRT_DEVEL_JETPACK6_IMAGE=nvcr.io/nvidia/l4t-tensorrt:r10.3.0-devel
ARG L4T_TENSORRT_JETPACK5_IMAGE=nvcr.io/nvidia/l4t-tensorrt:r8.5.2-runtime
ARG L4T_TENSORRT_DEVEL_JETPACK5_IMAGE=nvcr.io/nvidia/l4t-tensorrt:r8.5.2.2-devel
ARG TARGETARCH
ARG CUDA_SUPPORT=nocuda
ARG DECODERS=none

FROM ${NODE_IMAGE} AS node

# One base per architecture and GPU support, picked the way the original sample picks them; BuildKit
# skips the stages it does not need.
FROM ${BASE_IMAGE} AS base-amd64-nocuda
FROM ${BASE_IMAGE} AS base-arm64-nocuda
# x86-64 with an NVIDIA GPU: TensorRT 10.3, CUDA 12.6, Ubuntu 22.04.
FROM ${TENSORRT_IMAGE} AS base-amd64-cuda
# NVIDIA Jetson: the TensorRT runtime of the JetPack chosen.
FROM ${L4T_TENSORRT_JETPACK5_IMAGE} AS l4t-tensorrt-jetpack5
FROM ${L4T_TENSORRT_JETPACK6_IMAGE} AS l4t-tensorrt-jetpack6
FROM l4t-tensorrt-jetpack${JETPACK} AS base-arm64-cuda

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
COPY apps/inference apps/inference
RUN npx nx build inference

# The TensorRT binding (libs/tensorrt-backend/native), built on the target architecture against the TensorRT and
# CUDA of the runtime base: NVIDIA's TensorRT image itself on x86-64, the JetPack's L4T development image on Jetson.
FROM ${TENSORRT_IMAGE} AS native-base-amd64
FROM ${L4T_TENSORRT_DEVEL_JETPACK5_IMAGE} AS l4t-tensorrt-devel-jetpack5
FROM ${L4T_TENSORRT_DEVEL_JETPACK6_IMAGE} AS l4t-tensorrt-devel-jetpack6
FROM l4t-tensorrt-devel-jetpack${JETPACK} AS native-base-arm64
FROM native-base-${TARGETARCH} AS native
# node-gyp needs Python, make and a C++ compiler; Node.js's headers come with its image, so nothing is downloaded.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/include/node /usr/local/include/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
WORKDIR /workspace
COPY --from=build /workspace/node_modules/node-addon-api node_modules/node-addon-api
COPY libs/tensorrt-backend/native libs/tensorrt-backend/native
RUN node libs/tensorrt-backend/native/build.mjs rebuild \
 && mkdir -p /addon && cp libs/tensorrt-backend/native/build/Release/tensorrt_addon.node /addon/

# What goes beside main.js: the binding in the CUDA variant (the backend looks there first), nothing otherwise.
FROM ${NODE_IMAGE} AS addon-nocuda
RUN mkdir -p /addon
FROM native AS addon-cuda
FROM addon-${CUDA_SUPPORT} AS addon

# Production dependencies from the package.json Nx generates for the app, installed on the target
# architecture for the native addons (zeromq, onnxruntime-node).
FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY --from=build /workspace/dist/apps/inference/package.json /workspace/dist/apps/inference/package-lock.json ./
COPY docker/prune-node-modules.mjs /usr/local/lib/iev/
# Only this platform's native binaries, no types, source maps or docs (see the script).
RUN npm ci --omit=dev --no-audit --no-fund && node /usr/local/lib/iev/prune-node-modules.mjs node_modules

FROM base AS runtime
# The decoders of CAPTURE_SOURCES (--decoders), as the capture image has them, or none. (A stage per choice, picked
# by FROM decoders-${DECODERS}, does not resolve in buildah when the stage has no instruction of its own.)
ARG DECODERS
RUN if [ "$DECODERS" = ffmpeg ]; then \
      apt-get update \
   && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav \
   && rm -rf /var/lib/apt/lists/*; \
    elif [ "$DECODERS" != none ]; then echo "DECODERS is ffmpeg or none, not $DECODERS" >&2; exit 1; fi
# Group video gives the GPU on Jetson and the cameras (/dev/video*) a deployment hands in; the cache folder is where
# the deployment mounts the TensorRT engine volume.
RUN useradd --system --uid 10001 --user-group --groups video --home-dir /app --no-create-home iev \
 && mkdir -p /var/cache/iev/tensorrt && chown iev:iev /var/cache/iev/tensorrt
WORKDIR /app
COPY --from=production-dependencies /app/node_modules node_modules
COPY --from=build /workspace/dist/apps/inference ./
COPY --from=addon /addon/ ./
# Each preset's detection model (seed: the sample's; default: PP-OCRv4's), and PP-OCRv4's recognition model and dictionary.
COPY models/ch_pp_inf_dynamic.onnx models/ch_PP-OCRv4_det_infer.onnx models/ch_PP-OCRv4_rec_infer.onnx models/ppocr_keys_v1.txt models/
COPY docker/healthcheck.mjs /usr/local/lib/iev/healthcheck.mjs
# LISTEN_HOST: inside the container the other modules, port mappings and the health check reach the module, so
# it listens on all interfaces (outside a container the default is 127.0.0.1).
ENV NODE_ENV=production METRICS_PORT=9102 LISTEN_HOST=0.0.0.0 TENSORRT_CACHE_DIR=/var/cache/iev/tensorrt
USER iev
EXPOSE 5556 9102
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/usr/local/lib/iev/healthcheck.mjs"]
CMD ["node", "main.js"]
