#include "trt_engine.h"

#include "tensorrt_minimum.h"

#include <NvInfer.h>
#include <NvOnnxParser.h>
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace iev::trt {
namespace {

/**
 * TensorRT wants one logger for every builder and runtime of a process, alive as long as they are. Errors are
 * kept per thread, so the exception of the call that failed (each runs on one worker thread) can quote them;
 * warnings go to stderr.
 */
class Logger : public nvinfer1::ILogger {
 public:
  void log(Severity severity, nvinfer1::AsciiChar const* message) noexcept override {
    if (severity > Severity::kWARNING) return;
    try {
      if (severity == Severity::kWARNING) {
        std::fprintf(stderr, "[TensorRT] %s\n", message);
      } else {
        errors().emplace_back(message);
      }
    } catch (...) {
      // Logging must not throw into TensorRT.
    }
  }

  /** The errors logged on this thread since the last call, joined; clears them. */
  std::string takeErrors() {
    std::string joined;
    for (const std::string& error : errors()) joined += (joined.empty() ? "" : "; ") + error;
    errors().clear();
    return joined;
  }

 private:
  static std::vector<std::string>& errors() {
    thread_local std::vector<std::string> perThread;
    return perThread;
  }
};

Logger& logger() {
  static Logger* instance = new Logger();  // never destroyed: TensorRT may log while the process exits
  return *instance;
}

[[noreturn]] void fail(const std::string& what) {
  const std::string errors = logger().takeErrors();
  throw std::runtime_error(errors.empty() ? what : what + ": " + errors);
}

nvinfer1::Dims4 inputDims(ImageSize size) { return nvinfer1::Dims4(1, 3, size.height, size.width); }

ImageSize sizeOf(const nvinfer1::Dims& dims) {
  return dims.nbDims == 4 ? ImageSize{static_cast<int>(dims.d[3]), static_cast<int>(dims.d[2])} : ImageSize{};
}

#if NV_TENSORRT_MAJOR >= 11
/** TensorRT 11 networks are always strongly typed: precision follows the model, which is FP32 here. */
void setPrecision(nvinfer1::IBuilderConfig&, bool fp16) {
  if (fp16) throw std::invalid_argument("FP16 needs TensorRT 8.5 to 10: TensorRT 11 builds the model in its own precision (FP32)");
}
#else
void setPrecision(nvinfer1::IBuilderConfig& config, bool fp16) {
  if (!fp16) return;
  // Deprecated since TensorRT 10.12 in favour of strongly typed networks, which take FP16 from an FP16 model. The
  // model is FP32, so on TensorRT 10 this flag remains the only way to FP16 (TensorRT 11 removes it, see above).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  config.setFlag(nvinfer1::BuilderFlag::kFP16);
#pragma GCC diagnostic pop
}
#endif

}  // namespace

std::vector<GpuInfo> cudaDevices() {
  int count = 0;
  checkCuda(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  std::vector<GpuInfo> devices;
  for (int device = 0; device < count; ++device) {
    cudaDeviceProp properties{};
    checkCuda(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
    devices.push_back(GpuInfo{properties.name, properties.major, properties.minor, properties.totalGlobalMem});
  }
  return devices;
}

std::string tensorRtVersion() {
  // The library's own number, not the headers': an engine is tied to the libnvinfer that built it.
  // TensorRT 10 encodes major * 10000 + minor * 100 + patch, earlier versions major * 1000 + minor * 100 + patch.
  const int32_t version = getInferLibVersion();
  const bool tenOrLater = version >= 10000;
  const int32_t major = tenOrLater ? version / 10000 : version / 1000;
  const int32_t minor = tenOrLater ? (version / 100) % 100 : (version / 100) % 10;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(version % 100);
}

std::vector<uint8_t> buildSerializedEngine(const std::string& onnxPath, const BuildOptions& options) {
  logger().takeErrors();
  std::unique_ptr<nvinfer1::IBuilder> builder{nvinfer1::createInferBuilder(logger())};
  if (!builder) fail("createInferBuilder");
#if NV_TENSORRT_MAJOR >= 10
  const nvinfer1::NetworkDefinitionCreationFlags flags = 0;  // explicit batch is the only mode since TensorRT 10
#else
  const auto flags = 1U << static_cast<uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kEXPLICIT_BATCH);
#endif
  std::unique_ptr<nvinfer1::INetworkDefinition> network{builder->createNetworkV2(flags)};
  if (!network) fail("createNetworkV2");
  std::unique_ptr<nvonnxparser::IParser> parser{nvonnxparser::createParser(*network, logger())};
  if (!parser) fail("createParser");
  if (!parser->parseFromFile(onnxPath.c_str(), static_cast<int>(nvinfer1::ILogger::Severity::kWARNING))) {
    std::string errors;
    for (int i = 0; i < parser->getNbErrors(); ++i) errors += std::string(errors.empty() ? "" : "; ") + parser->getError(i)->desc();
    throw std::runtime_error("cannot parse " + onnxPath + (errors.empty() ? "" : ": " + errors));
  }
  if (network->getNbInputs() != 1 || network->getNbOutputs() != 1) {
    throw std::runtime_error(onnxPath + ": expected one input [N,3,H,W] and one output, as PaddleOCR's DB model has");
  }
  char const* inputName = network->getInput(0)->getName();

  // Owned by the builder.
  nvinfer1::IOptimizationProfile* profile = builder->createOptimizationProfile();
  const bool profileSet = profile->setDimensions(inputName, nvinfer1::OptProfileSelector::kMIN, inputDims(options.profile.min)) &&
                          profile->setDimensions(inputName, nvinfer1::OptProfileSelector::kOPT, inputDims(options.profile.opt)) &&
                          profile->setDimensions(inputName, nvinfer1::OptProfileSelector::kMAX, inputDims(options.profile.max));
  if (!profileSet) fail("invalid optimization profile");

  std::unique_ptr<nvinfer1::IBuilderConfig> config{builder->createBuilderConfig()};
  if (!config) fail("createBuilderConfig");
  if (config->addOptimizationProfile(profile) < 0) fail("addOptimizationProfile");
  setPrecision(*config, options.fp16);
  if (options.workspaceBytes > 0) config->setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, options.workspaceBytes);

  std::unique_ptr<nvinfer1::IHostMemory> serialized{builder->buildSerializedNetwork(*network, *config)};
  if (!serialized || serialized->size() == 0) fail("building the TensorRT engine failed");
  const auto* bytes = static_cast<const uint8_t*>(serialized->data());
  return std::vector<uint8_t>(bytes, bytes + serialized->size());
}

struct Engine::State {
  // Declared so that they are destroyed context first, runtime last.
  std::unique_ptr<nvinfer1::IRuntime> runtime;
  std::unique_ptr<nvinfer1::ICudaEngine> engine;
  std::unique_ptr<nvinfer1::IExecutionContext> context;
  std::string inputName;
  std::string outputName;
  cudaStream_t stream = nullptr;
  std::mutex running;

  /** The input shape the context is set to, and the output shape that follows from it. */
  ImageSize boundInput;
  OutputShape output{{}, 0};

  DeviceBuffer<float> deviceInput;
  DeviceBuffer<float> deviceOutput;
  PinnedBuffer<float> hostInput;
  PinnedBuffer<float> hostOutput;
  PinnedBuffer<uint8_t> hostFrame;
  GpuPreprocessor preprocessor;

  ~State() {
    if (stream != nullptr) {
      cudaStreamSynchronize(stream);
      cudaStreamDestroy(stream);
    }
  }

  /** Sets the context to an input shape and points it at buffers big enough for it. */
  void bind(ImageSize size) {
    if (size == boundInput) return;
    boundInput = ImageSize{};
    if (!context->setInputShape(inputName.c_str(), inputDims(size))) {
      fail("input " + std::to_string(size.width) + "x" + std::to_string(size.height) + " is not accepted by the engine");
    }
    const nvinfer1::Dims dims = context->getTensorShape(outputName.c_str());
    OutputShape shape{{}, 1};
    for (int i = 0; i < dims.nbDims; ++i) {
      if (dims.d[i] < 0) fail("the output shape is not known for this input");
      shape.dims.push_back(dims.d[i]);
      shape.elements *= static_cast<std::size_t>(dims.d[i]);
    }
    deviceInput.reserve(3 * static_cast<std::size_t>(size.width) * size.height);
    deviceOutput.reserve(shape.elements);
    hostOutput.reserve(shape.elements);
    if (!context->setTensorAddress(inputName.c_str(), deviceInput.data()) ||
        !context->setTensorAddress(outputName.c_str(), deviceOutput.data())) {
      fail("setTensorAddress");
    }
    output = shape;
    boundInput = size;
  }

  /** Enqueues the model and the copy back, waits, and hands the output over. */
  OutputShape finish(float* result, std::size_t capacity) {
    if (capacity < output.elements) {
      throw std::invalid_argument("output buffer holds " + std::to_string(capacity) + " floats, the output needs " +
                                  std::to_string(output.elements));
    }
    if (!context->enqueueV3(stream)) fail("enqueueV3");
    checkCuda(cudaMemcpyAsync(hostOutput.data(), deviceOutput.data(), output.elements * sizeof(float), cudaMemcpyDeviceToHost, stream),
              "copy output from GPU");
    checkCuda(cudaStreamSynchronize(stream), "inference on the CUDA stream");
    std::memcpy(result, hostOutput.data(), output.elements * sizeof(float));
    return output;
  }
};

Engine::Engine(const void* plan, std::size_t bytes) : state_(std::make_unique<State>()) {
  State& s = *state_;
  logger().takeErrors();
  s.runtime.reset(nvinfer1::createInferRuntime(logger()));
  if (!s.runtime) fail("createInferRuntime");
  s.engine.reset(s.runtime->deserializeCudaEngine(plan, bytes));
  if (!s.engine) fail("cannot deserialize the TensorRT engine");
  for (int32_t i = 0; i < s.engine->getNbIOTensors(); ++i) {
    char const* name = s.engine->getIOTensorName(i);
    const bool isInput = s.engine->getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT;
    std::string& slot = isInput ? s.inputName : s.outputName;
    if (!slot.empty()) throw std::runtime_error("the engine has more than one " + std::string(isInput ? "input" : "output"));
    if (s.engine->getTensorDataType(name) != nvinfer1::DataType::kFLOAT) {
      throw std::runtime_error("tensor " + std::string(name) + " is not float32");
    }
    slot = name;
  }
  if (s.inputName.empty() || s.outputName.empty()) throw std::runtime_error("the engine needs one input and one output");
  s.context.reset(s.engine->createExecutionContext());
  if (!s.context) fail("createExecutionContext");
  checkCuda(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking), "cudaStreamCreate");
}

Engine::~Engine() = default;

ShapeRange Engine::profile() const {
  const State& s = *state_;
  const auto shape = [&](nvinfer1::OptProfileSelector which) { return sizeOf(s.engine->getProfileShape(s.inputName.c_str(), 0, which)); };
  return ShapeRange{shape(nvinfer1::OptProfileSelector::kMIN), shape(nvinfer1::OptProfileSelector::kOPT), shape(nvinfer1::OptProfileSelector::kMAX)};
}

OutputShape Engine::inferTensor(const float* input, ImageSize size, float* output, std::size_t capacity) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.running, std::try_to_lock);
  if (!lock) throw std::logic_error("the engine is already running an inference");
  s.bind(size);
  const std::size_t count = 3 * static_cast<std::size_t>(size.width) * size.height;
  s.hostInput.reserve(count);
  std::memcpy(s.hostInput.data(), input, count * sizeof(float));
  checkCuda(cudaMemcpyAsync(s.deviceInput.data(), s.hostInput.data(), count * sizeof(float), cudaMemcpyHostToDevice, s.stream),
            "copy input to GPU");
  return s.finish(output, capacity);
}

OutputShape Engine::inferImage(const uint8_t* frame, const PreprocessPlan& plan, float* output, std::size_t capacity) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.running, std::try_to_lock);
  if (!lock) throw std::logic_error("the engine is already running an inference");
  s.bind(plan.input);
  const std::size_t bytes = frameByteLength(plan);
  s.hostFrame.reserve(bytes);
  std::memcpy(s.hostFrame.data(), frame, bytes);
  s.preprocessor.enqueue(plan, s.hostFrame.data(), s.deviceInput.data(), s.stream);
  return s.finish(output, capacity);
}

}  // namespace iev::trt
