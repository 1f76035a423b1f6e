#!/bin/sh
# What a machine offers the tests that skip themselves without it, printed as stable text: Nx hashes this output as
# a runtime input of those test targets (nx.json "cameras", "gpuToolchain", "browser", "ipv6"), so a run that skipped
# for lack of a camera, a GPU, a browser or IPv6 is never replayed as a pass on a machine that has one, nor after the
# TensorRT binding is built.
# Usage: sh tools/jest/machine-probe.sh cameras|gpu|browser|ipv6
case "$1" in
  cameras)
    ls -d /dev/video* 2>/dev/null
    ;;
  gpu)
    # libs/tensorrt-backend/src/testing/machine.ts and probeTensorRt look for these.
    command -v nvcc cc c++ nvidia-smi 2>/dev/null
    ls -d "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" "${CUDA_PATH:-/usr/local/cuda}/bin/nvcc" /dev/nvidia0 /dev/nvhost-ctrl-gpu 2>/dev/null
    ls -l --time-style=+%s libs/tensorrt-backend/native/build/Release/tensorrt_addon.node 2>/dev/null
    ldconfig -p 2>/dev/null | grep -E 'lib(nvinfer|nvonnxparser|cudart|cuda)\.so' | sort
    ;;
  browser)
    # apps/pipeline-e2e/src/preview.spec.ts looks for these (or CHROMIUM_PATH).
    ls -d "$CHROMIUM_PATH" /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome 2>/dev/null
    ;;
  ipv6)
    # libs/zmq-transport/src/lib/on-demand.spec.ts looks for the IPv6 loopback, ::1.
    grep -i '^0\{31\}1 .* lo$' /proc/net/if_inet6 2>/dev/null
    ;;
  *)
    echo "usage: machine-probe.sh cameras|gpu|browser|ipv6" >&2
    exit 2
    ;;
esac
exit 0
