# The TensorRT binding: `npx nx run tensorrt-backend:build-native` (see ../README.md). Needs the CUDA toolkit
# (nvcc) and TensorRT's headers and libraries (libnvinfer, libnvonnxparser), as NVIDIA's TensorRT and L4T images
# and JetPack have them. Paths can be moved with CUDA_HOME and TENSORRT_ROOT (a TensorRT tarball's folder), or
# TENSORRT_INCLUDE_DIR and TENSORRT_LIB_DIR one by one (the header-build test points them at NVIDIA's public headers
# and at link stubs it builds). CUDA's and TensorRT's headers are system headers (-isystem): the build log shows
# warnings from our sources only.
{
  "variables": {
    "cuda_home%": "<!(node -p \"process.env.CUDA_HOME || '/usr/local/cuda'\")",
    "tensorrt_include%": "<!(node -p \"process.env.TENSORRT_INCLUDE_DIR || (process.env.TENSORRT_ROOT ? process.env.TENSORRT_ROOT + '/include' : '')\")",
    "tensorrt_lib%": "<!(node -p \"process.env.TENSORRT_LIB_DIR || (process.env.TENSORRT_ROOT ? process.env.TENSORRT_ROOT + '/lib' : '')\")",
  },
  "targets": [
    {
      "target_name": "tensorrt_addon",
      "sources": ["src/addon.cc", "src/trt_engine.cc", "src/preprocess.cu"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-ffp-contract=off", "-Wall", "-Wextra", "-isystem", "<(cuda_home)/include"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++14", "-std=gnu++1y", "-fno-exceptions"],
      "libraries": ["-L<(cuda_home)/lib64", "-lnvinfer", "-lnvonnxparser", "-lcudart"],
      "ldflags": ["-Wl,-rpath,<(cuda_home)/lib64"],
      "conditions": [
        ["tensorrt_include != ''", {
          "cflags_cc": ["-isystem", "<(tensorrt_include)"],
        }],
        ["tensorrt_lib != ''", {
          "libraries": ["-L<(tensorrt_lib)"],
          "ldflags": ["-Wl,-rpath,<(tensorrt_lib)"],
        }],
      ],
      "rules": [
        {
          # node-gyp knows no CUDA: .cu files go through nvcc into objects that are linked with the rest.
          "rule_name": "nvcc",
          "extension": "cu",
          "inputs": ["<(RULE_INPUT_PATH)", "src/preprocess.h", "src/cuda_buffers.h"],
          "outputs": ["<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"],
          "process_outputs_as_sources": 1,
          "action": [
            "<(cuda_home)/bin/nvcc", "-std=c++17", "--fmad=false", "-O3",
            "-Xcompiler", "-fPIC,-ffp-contract=off",
            "<!@(node nvcc-arch-flags.js <(cuda_home)/bin/nvcc)",
            "-c", "<(RULE_INPUT_PATH)", "-o", "<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"
          ],
          "message": "nvcc <(RULE_INPUT_PATH)"
        }
      ]
    }
  ]
}
