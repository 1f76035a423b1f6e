// The oldest TensorRT the binding builds against: 8.5 (JetPack 5.1), the first with enqueueV3 and the name-based
// tensor API (setInputShape / setTensorAddress). Included before TensorRT's own headers so older ones stop the build
// with this one message rather than a page of unknown names. tensorrt-addon.ts and the README name the same version.
#pragma once

#include <NvInferVersion.h>

#if !defined(NV_TENSORRT_MAJOR) || NV_TENSORRT_MAJOR < 8 || (NV_TENSORRT_MAJOR == 8 && NV_TENSORRT_MINOR < 5)
#error "the TensorRT binding needs TensorRT 8.5 or later (JetPack 5.1+, or TensorRT 10/11 on x86-64); these TensorRT headers are older"
#endif
