#include "trt_engine.h"

#include "tensorrt_minimum.h"

#include <NvInfer.h>
#include <NvOnnxParser.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>

namespace iev::trt {
namespace {

/**
 * TensorRT wants one logger for every builder and runtime of a process, alive as long as they are. Errors of the
 * objects the binding creates go to their ErrorRecorder instead; what still logs errors here is a factory failing
 * before there is an object to record them (FactoryErrors) and the ONNX parser (whose errors are also read from it).
 * TensorRT logs from the calling thread and from threads of its own, so an error goes to every FactoryErrors alive
 * at the time, whatever thread logs it. Warnings, and errors while none is alive, go to stderr.
 */
class Logger : public nvinfer1::ILogger {
 public:
  void log(Severity severity, nvinfer1::AsciiChar const* message) noexcept override {
    if (severity > Severity::kWARNING) return;
    try {
      std::lock_guard<std::mutex> lock(mutex_);
      if (severity == Severity::kWARNING || captures_.empty()) {
        std::fprintf(stderr, "[TensorRT] %s\n", message);
        return;
      }
      for (std::vector<std::string>* errors : captures_) errors->emplace_back(message);
    } catch (...) {
      // Logging must not throw into TensorRT.
    }
  }

  void attach(std::vector<std::string>* errors) {
    std::lock_guard<std::mutex> lock(mutex_);
    captures_.push_back(errors);
  }

  /** Stops capturing into `errors` and hands over what was captured. */
  std::vector<std::string> detach(std::vector<std::string>* errors) {
    std::lock_guard<std::mutex> lock(mutex_);
    captures_.erase(std::find(captures_.begin(), captures_.end(), errors));
    return std::move(*errors);
  }

 private:
  std::mutex mutex_;
  std::vector<std::vector<std::string>*> captures_;
};

Logger& logger() {
  static Logger* instance = new Logger();  // never destroyed: TensorRT may log while the process exits
  return *instance;
}

[[noreturn]] void failWith(const std::string& what, const std::vector<std::string>& errors) {
  std::string joined;
  for (const std::string& error : errors) joined += (joined.empty() ? "" : "; ") + error;
  throw std::runtime_error(joined.empty() ? what : what + ": " + joined);
}

void printErrors(const std::vector<std::string>& errors) {
  for (const std::string& error : errors) std::fprintf(stderr, "[TensorRT] %s\n", error.c_str());
}

/**
 * Calls a TensorRT factory (createInferBuilder, createInferRuntime, createParser) and returns what it made, or throws
 * `what` followed by the errors logged while it ran: with no object yet there is no ErrorRecorder, so they come from
 * the process-wide logger, and a factory failing at the same moment in another call (the other model's load) may
 * have logged some of them.
 */
template <typename T, typename Factory>
std::unique_ptr<T> createOrFail(Factory factory, const std::string& what) {
  std::vector<std::string> logged;
  logger().attach(&logged);
  T* object = factory();
  const std::vector<std::string> errors = logger().detach(&logged);
  if (!object) failWith(what, errors);
  printErrors(errors);
  return std::unique_ptr<T>(object);
}

/**
 * The errors TensorRT reports, from any thread, for the objects it is set on: set on a builder or a runtime, it is
 * passed on to the networks, engines and execution contexts created from them. Each build and each Engine has its
 * own, so a failing call quotes its own engine's errors even while the other model's engine runs.
 */
class ErrorRecorder : public nvinfer1::IErrorRecorder {
 public:
  int32_t getNbErrors() const noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int32_t>(errors_.size());
  }
  nvinfer1::ErrorCode getErrorCode(int32_t index) const noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    return inRange(index) ? errors_[index].first : nvinfer1::ErrorCode::kUNSPECIFIED_ERROR;
  }
  ErrorDesc getErrorDesc(int32_t index) const noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    return inRange(index) ? errors_[index].second.c_str() : "";  // a deque: later errors do not move this one
  }
  bool hasOverflowed() const noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    return overflowed_;
  }
  void clear() noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    errors_.clear();
    overflowed_ = false;
  }
  bool reportError(nvinfer1::ErrorCode code, ErrorDesc description) noexcept override {
    try {
      std::lock_guard<std::mutex> lock(mutex_);
      if (errors_.size() < kCapacity) {
        errors_.emplace_back(code, description);
      } else {
        overflowed_ = true;
      }
    } catch (...) {
      // Recording must not throw into TensorRT.
    }
    return true;  // every error ends the call that reported it, as in NVIDIA's samples
  }
  RefCount incRefCount() noexcept override { return ++references_; }
  RefCount decRefCount() noexcept override { return --references_; }

  /** The errors recorded since the last take(), which forgets them. */
  std::vector<std::string> take() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> descriptions;
    for (const auto& error : errors_) descriptions.push_back(error.second);
    if (overflowed_) descriptions.emplace_back("(more errors were dropped)");
    errors_.clear();
    overflowed_ = false;
    return descriptions;
  }

 private:
  static constexpr std::size_t kCapacity = 64;
  bool inRange(int32_t index) const { return index >= 0 && static_cast<std::size_t>(index) < errors_.size(); }

  mutable std::mutex mutex_;
  std::deque<std::pair<nvinfer1::ErrorCode, std::string>> errors_;
  bool overflowed_ = false;
  std::atomic<RefCount> references_{0};
};

/**
 * One call's view of an ErrorRecorder that only this call uses meanwhile (a build's, or an Engine's under its
 * lock): a failure quotes what was recorded during the call; errors of a call that succeeds, or recorded between
 * calls, go to stderr.
 */
class CallErrors {
 public:
  explicit CallErrors(ErrorRecorder& recorder) : recorder_(recorder) { printErrors(recorder_.take()); }
  ~CallErrors() {
    if (!failed_) printErrors(recorder_.take());
  }
  CallErrors(const CallErrors&) = delete;
  CallErrors& operator=(const CallErrors&) = delete;

  /** Throws `what`, followed by the errors TensorRT recorded during this call. */
  [[noreturn]] void fail(const std::string& what) {
    failed_ = true;
    failWith(what, recorder_.take());
  }

 private:
  ErrorRecorder& recorder_;
  bool failed_ = false;
};

/** Waits for the stream however a call exits, so no copy still writes into host buffers the next call reuses. */
class StreamIdleOnExit {
 public:
  explicit StreamIdleOnExit(cudaStream_t stream) : stream_(stream) {}
  ~StreamIdleOnExit() { cudaStreamSynchronize(stream_); }
  StreamIdleOnExit(const StreamIdleOnExit&) = delete;
  StreamIdleOnExit& operator=(const StreamIdleOnExit&) = delete;

 private:
  cudaStream_t stream_;
};

#if NV_TENSORRT_MAJOR >= 10
/** Hands TensorRT's builder progress to BuildOptions::onProgress; phases may be reported from several threads. */
class ProgressMonitor : public nvinfer1::IProgressMonitor {
 public:
  explicit ProgressMonitor(const std::function<void(const BuildProgress&)>& report) : report_(report) {}

  void phaseStart(char const* phaseName, char const* parentPhase, int32_t nbSteps) noexcept override {
    notify(phaseName, [&](Phase& phase) { phase = Phase{parentPhase ? parentPhase : "", nbSteps}; return 0; });
  }
  bool stepComplete(char const* phaseName, int32_t step) noexcept override {
    notify(phaseName, [&](Phase&) { return step + 1; });
    return true;  // never cancels the build
  }
  void phaseFinish(char const* phaseName) noexcept override {
    notify(phaseName, [&](Phase& phase) { return phase.steps; });
  }

 private:
  struct Phase {
    std::string parent;
    int steps = 0;
  };

  template <typename Update>
  void notify(char const* name, Update update) noexcept {
    try {
      BuildProgress progress{name, "", 0, 0};
      {
        std::lock_guard<std::mutex> lock(mutex_);
        Phase& phase = phases_[name];
        progress.step = update(phase);
        progress.parent = phase.parent;
        progress.steps = phase.steps;
      }
      report_(progress);
    } catch (...) {
      // Progress is only reported: it must not throw into TensorRT.
    }
  }

  const std::function<void(const BuildProgress&)>& report_;
  std::mutex mutex_;
  std::map<std::string, Phase> phases_;
};
#endif

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

nvinfer1::Dims4 inputDims(InputShape shape) { return nvinfer1::Dims4(shape.batch, 3, shape.height, shape.width); }

InputShape shapeOf(const nvinfer1::Dims& dims) {
  return dims.nbDims == 4 ? InputShape{static_cast<int>(dims.d[0]), static_cast<int>(dims.d[2]), static_cast<int>(dims.d[3])} : InputShape{};
}

std::string describe(InputShape shape) {
  return "[" + std::to_string(shape.batch) + ", 3, " + std::to_string(shape.height) + ", " + std::to_string(shape.width) + "]";
}

}  // namespace

std::vector<GpuInfo> cudaDevices() {
  int count = 0;
  checkCuda(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  std::vector<GpuInfo> devices;
  for (int device = 0; device < count; ++device) {
    cudaDeviceProp properties{};
    checkCuda(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
    devices.push_back(GpuInfo{properties.name, properties.major, properties.minor, properties.multiProcessorCount, properties.totalGlobalMem});
  }
  return devices;
}

std::string cudaRuntimeVersion() {
  int version = 0;
  checkCuda(cudaRuntimeGetVersion(&version), "cudaRuntimeGetVersion");
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

std::string tensorRtVersion() {
  // The library's own number, not the headers': an engine is tied to the libnvinfer that built it.
  // TensorRT 10 encodes major * 10000 + minor * 100 + patch, earlier versions major * 1000 + minor * 100 + patch.
  const int32_t version = getInferLibVersion();
  const bool tenOrLater = version >= 10000;
  const int32_t major = tenOrLater ? version / 10000 : version / 1000;
  const int32_t minor = tenOrLater ? (version / 100) % 100 : (version / 100) % 10;
#if NV_TENSORRT_MAJOR >= 10
  const int32_t build = getInferLibBuildVersion();
#else
  const int32_t build = NV_TENSORRT_BUILD;  // the library has no getter before 10; its headers match it in one major
#endif
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(version % 100) + "." + std::to_string(build);
}

std::vector<uint8_t> buildSerializedEngine(const std::vector<uint8_t>& onnx, const std::string& modelPath, const BuildOptions& options) {
  ErrorRecorder recorder;  // declared first: it outlives the builder and everything made from it, which hold it
  const auto builder = createOrFail<nvinfer1::IBuilder>([] { return nvinfer1::createInferBuilder(logger()); },
                                                        "TensorRT cannot create a builder (createInferBuilder)");
  builder->setErrorRecorder(&recorder);
  CallErrors errors(recorder);
#if NV_TENSORRT_MAJOR >= 10
  const nvinfer1::NetworkDefinitionCreationFlags flags = 0;  // explicit batch is the only mode since TensorRT 10
#else
  const auto flags = 1U << static_cast<uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kEXPLICIT_BATCH);
#endif
  std::unique_ptr<nvinfer1::INetworkDefinition> network{builder->createNetworkV2(flags)};
  if (!network) errors.fail("TensorRT cannot create a network (createNetworkV2)");
  const auto parser = createOrFail<nvonnxparser::IParser>([&] { return nvonnxparser::createParser(*network, logger()); },
                                                          "TensorRT cannot create an ONNX parser (createParser)");
  if (!parser->parse(onnx.data(), onnx.size(), modelPath.c_str())) {
    std::string parseErrors;
    for (int i = 0; i < parser->getNbErrors(); ++i) parseErrors += std::string(parseErrors.empty() ? "" : "; ") + parser->getError(i)->desc();
    throw std::runtime_error("cannot parse " + modelPath + (parseErrors.empty() ? "" : ": " + parseErrors));
  }
  if (network->getNbInputs() != 1 || network->getNbOutputs() != 1) {
    throw std::runtime_error(modelPath + ": expected one input [N,3,H,W] and one output, as PaddleOCR's detection and recognition models have");
  }
  char const* inputName = network->getInput(0)->getName();

  // Owned by the builder.
  nvinfer1::IOptimizationProfile* profile = builder->createOptimizationProfile();
  const bool profileSet = profile->setDimensions(inputName, nvinfer1::OptProfileSelector::kMIN, inputDims(options.profile.min)) &&
                          profile->setDimensions(inputName, nvinfer1::OptProfileSelector::kOPT, inputDims(options.profile.opt)) &&
                          profile->setDimensions(inputName, nvinfer1::OptProfileSelector::kMAX, inputDims(options.profile.max));
  if (!profileSet) errors.fail("invalid optimization profile");

  std::unique_ptr<nvinfer1::IBuilderConfig> config{builder->createBuilderConfig()};
  if (!config) errors.fail("TensorRT cannot create a builder configuration (createBuilderConfig)");
  if (config->addOptimizationProfile(profile) < 0) errors.fail("addOptimizationProfile");
  setPrecision(*config, options.fp16);
  if (options.workspaceBytes > 0) config->setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, options.workspaceBytes);
#if NV_TENSORRT_MAJOR >= 10
  ProgressMonitor monitor(options.onProgress);
  if (options.onProgress) config->setProgressMonitor(&monitor);
#endif

  std::unique_ptr<nvinfer1::IHostMemory> serialized{builder->buildSerializedNetwork(*network, *config)};
  if (!serialized || serialized->size() == 0) errors.fail("building the TensorRT engine failed");
  const auto* bytes = static_cast<const uint8_t*>(serialized->data());
  return std::vector<uint8_t>(bytes, bytes + serialized->size());
}

struct Engine::State {
  // Declared so that they are destroyed context first, runtime next, and the recorder they hold last.
  ErrorRecorder recorder;
  std::unique_ptr<nvinfer1::IRuntime> runtime;
  std::unique_ptr<nvinfer1::ICudaEngine> engine;
  std::unique_ptr<nvinfer1::IExecutionContext> context;
  std::string inputName;
  std::string outputName;
  cudaStream_t stream = nullptr;
  std::mutex running;

  /** The input shape the context is set to, and the output shape that follows from it. */
  InputShape boundInput;
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

  /**
   * Sets the context to an input shape, unless it already is, and returns the output shape that follows (the
   * recognition model's time steps follow the input's width). Queues nothing.
   */
  const OutputShape& shapeFor(InputShape shape, CallErrors& errors) {
    if (shape == boundInput) return output;
    boundInput = InputShape{};
    if (!context->setInputShape(inputName.c_str(), inputDims(shape))) errors.fail("input " + describe(shape) + " is not accepted by the engine");
    const nvinfer1::Dims dims = context->getTensorShape(outputName.c_str());
    OutputShape next{{}, 1};
    for (int i = 0; i < dims.nbDims; ++i) {
      if (dims.d[i] < 0) errors.fail("the output shape is not known for input " + describe(shape));
      next.dims.push_back(dims.d[i]);
      next.elements *= static_cast<std::size_t>(dims.d[i]);
    }
    output = next;
    boundInput = shape;
    return output;
  }

  /**
   * Sets the input shape, points the context at buffers big enough for it, and checks that the caller's output
   * holds the result: all before anything is queued on the stream.
   */
  void bind(InputShape shape, std::size_t capacity, CallErrors& errors) {
    shapeFor(shape, errors);
    if (capacity < output.elements) {
      throw std::invalid_argument("output buffer holds " + std::to_string(capacity) + " floats, the output needs " +
                                  std::to_string(output.elements));
    }
    deviceInput.reserve(shape.elements());
    deviceOutput.reserve(output.elements);
    hostOutput.reserve(output.elements);
    if (!context->setTensorAddress(inputName.c_str(), deviceInput.data()) || !context->setTensorAddress(outputName.c_str(), deviceOutput.data())) {
      errors.fail("setTensorAddress");
    }
  }

  /** Enqueues the model and the copy back, waits, and hands the output over. */
  OutputShape finish(float* result, CallErrors& errors) {
    if (!context->enqueueV3(stream)) errors.fail("enqueueV3");
    checkCuda(cudaMemcpyAsync(hostOutput.data(), deviceOutput.data(), output.elements * sizeof(float), cudaMemcpyDeviceToHost, stream),
              "copy output from GPU");
    checkCuda(cudaStreamSynchronize(stream), "inference on the CUDA stream");
    std::memcpy(result, hostOutput.data(), output.elements * sizeof(float));
    return output;
  }
};

Engine::Engine(const void* plan, std::size_t bytes) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.runtime = createOrFail<nvinfer1::IRuntime>([] { return nvinfer1::createInferRuntime(logger()); },
                                               "TensorRT cannot create a runtime (createInferRuntime)");
  s.runtime->setErrorRecorder(&s.recorder);  // passed on to the engine and its execution context
  CallErrors errors(s.recorder);
  s.engine.reset(s.runtime->deserializeCudaEngine(plan, bytes));
  if (!s.engine) errors.fail("cannot deserialize the TensorRT engine");
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
  if (!s.context) errors.fail("TensorRT cannot create an execution context (createExecutionContext)");
  checkCuda(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking), "cudaStreamCreate");
}

Engine::~Engine() = default;

ShapeRange Engine::profile() const {
  const State& s = *state_;
  const auto shape = [&](nvinfer1::OptProfileSelector which) { return shapeOf(s.engine->getProfileShape(s.inputName.c_str(), 0, which)); };
  return ShapeRange{shape(nvinfer1::OptProfileSelector::kMIN), shape(nvinfer1::OptProfileSelector::kOPT), shape(nvinfer1::OptProfileSelector::kMAX)};
}

OutputShape Engine::outputShape(InputShape shape) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.running, std::try_to_lock);
  if (!lock) throw std::logic_error("the engine is already running an inference");
  CallErrors errors(s.recorder);
  return s.shapeFor(shape, errors);
}

OutputShape Engine::inferTensor(const float* input, InputShape shape, float* output, std::size_t capacity) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.running, std::try_to_lock);
  if (!lock) throw std::logic_error("the engine is already running an inference");
  CallErrors errors(s.recorder);
  s.bind(shape, capacity, errors);
  const StreamIdleOnExit idle(s.stream);
  const std::size_t count = shape.elements();
  s.hostInput.reserve(count);
  std::memcpy(s.hostInput.data(), input, count * sizeof(float));
  checkCuda(cudaMemcpyAsync(s.deviceInput.data(), s.hostInput.data(), count * sizeof(float), cudaMemcpyHostToDevice, s.stream),
            "copy input to GPU");
  return s.finish(output, errors);
}

OutputShape Engine::inferImage(const uint8_t* frame, const PreprocessPlan& plan, float* output, std::size_t capacity) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.running, std::try_to_lock);
  if (!lock) throw std::logic_error("the engine is already running an inference");
  CallErrors errors(s.recorder);
  s.bind(InputShape{1, plan.input.height, plan.input.width}, capacity, errors);
  const StreamIdleOnExit idle(s.stream);
  const std::size_t bytes = frameByteLength(plan);
  s.hostFrame.reserve(bytes);
  std::memcpy(s.hostFrame.data(), frame, bytes);
  s.preprocessor.enqueue(plan, s.hostFrame.data(), s.deviceInput.data(), s.stream);
  return s.finish(output, errors);
}

}  // namespace iev::trt
