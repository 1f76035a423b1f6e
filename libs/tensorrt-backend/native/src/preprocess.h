// PaddleOCR DB preprocessing on the GPU: 8-bit BGR frames (any row stride) in, the network's normalized CHW
// float32 input out. It computes what the CPU Preprocessor of @iev/text-detection computes, bit for bit:
// OpenCV's fixed-point INTER_LINEAR for 8-bit images (half-pixel centers, clamped borders) and PaddleOCR's
// NormalizeImage in float32.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cuda_buffers.h"

namespace iev {

struct ImageSize {
  int width = 0;
  int height = 0;
  bool operator==(const ImageSize& other) const { return width == other.width && height == other.height; }
  bool operator!=(const ImageSize& other) const { return !(*this == other); }
};

/** One destination index along an axis: the two source indices it blends and their 11-bit weights. */
struct LinearTap {
  int32_t first;
  int32_t second;
  int32_t firstWeight;
  int32_t secondWeight;
};

/** OpenCV treats the axes differently at the borders (see linearTaps in preprocess.cu). */
enum class TapAxis { Columns, Rows };

std::vector<LinearTap> linearTaps(int sourceSize, int destinationSize, TapAxis axis);

/** `(value * scale - mean[c]) / std[c]` per BGR channel, in float32. */
struct Normalization {
  float scale;
  float mean[3];
  float std[3];
};

/**
 * What one frame geometry goes through. With an intermediate size the frame is first resized to it as 8-bit BGR
 * (the seed preset's squash to 960x960, rounded to bytes as cv2.resize does), then resized again to the input
 * size while normalizing; two passes, because the byte rounding in between is part of the result. Without one,
 * the frame goes to the input size in one pass. Equal sizes give an exact copy, so a pass to the size a frame
 * already has only normalizes.
 */
struct PreprocessPlan {
  ImageSize source;
  int sourceStride = 0;
  bool hasIntermediate = false;
  ImageSize intermediate;
  ImageSize input;
  Normalization normalize{};
};

/** Bytes a frame of this plan spans: every row but the last at full stride. */
std::size_t frameByteLength(const PreprocessPlan& plan);

/**
 * Runs a plan on the GPU, all on the caller's stream. Tap tables are uploaded when the geometry changes, device buffers grow only when a
 * frame needs more, so frames of one geometry allocate and upload nothing but the frame. Not thread-safe.
 */
class GpuPreprocessor {
 public:
  /** Copies the frame (host memory; pinned for an asynchronous copy) to the GPU and writes the CHW tensor. */
  void enqueue(const PreprocessPlan& plan, const uint8_t* hostFrame, float* deviceTensor, cudaStream_t stream);

 private:
  struct Pass {
    ImageSize from;
    ImageSize to;
    DeviceBuffer<LinearTap> columns;
    DeviceBuffer<LinearTap> rows;
  };
  void prepare(Pass& pass, ImageSize from, ImageSize to, cudaStream_t stream);

  Pass squash_;
  Pass toInput_;
  DeviceBuffer<uint8_t> frame_;
  DeviceBuffer<uint8_t> intermediate_;
};

/**
 * The same per-pixel arithmetic on the CPU, for checking the tap tables and the arithmetic on machines without
 * a GPU. `tensor` holds 3 * input.width * input.height floats.
 */
void preprocessOnHost(const PreprocessPlan& plan, const uint8_t* frame, float* tensor);

}  // namespace iev
