// The TensorRT side of the binding, free of N-API: builds an engine from the ONNX model, deserializes one, and
// runs it on a CUDA stream through the name-based tensor API (setInputShape / setTensorAddress / enqueueV3).
// TensorRT's own headers stay in trt_engine.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "preprocess.h"

namespace iev::trt {

/** A model input [batch, 3, height, width]: both PaddleOCR models (detection, recognition) take 3-channel images. */
struct InputShape {
  int batch = 0;
  int height = 0;
  int width = 0;
  bool operator==(const InputShape& other) const { return batch == other.batch && height == other.height && width == other.width; }
  bool operator!=(const InputShape& other) const { return !(*this == other); }
  /** Floats in a tensor of this shape. */
  std::size_t elements() const { return 3 * static_cast<std::size_t>(batch) * height * width; }
};

/** The model inputs an engine accepts: TensorRT's optimization profile, min <= opt <= max in every dimension. */
struct ShapeRange {
  InputShape min;
  InputShape opt;
  InputShape max;
};

struct GpuInfo {
  std::string name;
  int computeMajor;
  int computeMinor;
  /** Streaming multiprocessors: Orin modules all report "Orin" 8.7 and differ here and in memory. */
  int multiprocessors;
  std::size_t totalMemoryBytes;
};

/** The CUDA devices visible to this process; throws CudaError (cudaErrorNoDevice, cudaErrorInsufficientDriver, ...). */
std::vector<GpuInfo> cudaDevices();

/** The version of the CUDA runtime this process loaded, e.g. "12.6"; needs no driver. */
std::string cudaRuntimeVersion();

/** The version and build of the libnvinfer this process loaded, e.g. "10.3.0.30". */
std::string tensorRtVersion();

/** One report of TensorRT's builder: a phase (inside `parent`, empty for none) at `step` of `steps`. */
struct BuildProgress {
  std::string phase;
  std::string parent;
  int step;
  int steps;
};

struct BuildOptions {
  bool fp16 = false;
  ShapeRange profile;
  /** Builder workspace limit; 0 leaves TensorRT's default (the device's memory). */
  std::size_t workspaceBytes = 0;
  /** Called from TensorRT's threads as phases start, advance and finish (TensorRT 10 and later). */
  std::function<void(const BuildProgress&)> onProgress;
};

/**
 * Parses the ONNX model's bytes (those hashed for the engine's cache key: the file is not read again) and builds a
 * serialized engine for the current CUDA device. `modelPath` names the model in errors and is where TensorRT looks
 * for external weights. Takes minutes on a Jetson.
 */
std::vector<uint8_t> buildSerializedEngine(const std::vector<uint8_t>& onnx, const std::string& modelPath, const BuildOptions& options);

struct OutputShape {
  std::vector<int64_t> dims;
  std::size_t elements;
};

/**
 * A deserialized engine with one execution context, one CUDA stream, and device and pinned host buffers that are
 * allocated once and regrown only when an input shape needs more. One inference at a time (a second concurrent
 * call throws); different engines may run concurrently.
 */
class Engine {
 public:
  Engine(const void* plan, std::size_t bytes);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /** The optimization profile the engine was built with. */
  ShapeRange profile() const;

  /**
   * The output's shape for an input shape (the recognition model's time steps follow the input's width), so the
   * caller can size the output it passes to inferTensor. Queues nothing; throws while an inference runs.
   */
  OutputShape outputShape(InputShape shape);

  /** Runs the model on an NCHW float32 input of `shape`; writes the output (at most `capacity` floats). */
  OutputShape inferTensor(const float* input, InputShape shape, float* output, std::size_t capacity);

  /** Preprocesses an 8-bit BGR frame on the GPU (see GpuPreprocessor) and runs the model on it, as a batch of one. */
  OutputShape inferImage(const uint8_t* frame, const PreprocessPlan& plan, float* output, std::size_t capacity);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace iev::trt
