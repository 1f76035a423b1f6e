// The N-API face of trt_engine.h. Everything slow (engine build, inference) runs on libuv's thread pool through
// PromiseWorker, so the JavaScript thread keeps draining frames. Inputs (model, tensor, frame) are copied before the
// call returns, so the caller may reuse them at once; an output array is held by reference until the work settles,
// and the caller must not detach it meanwhile.
#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "trt_engine.h"

namespace {

using iev::ImageSize;
using iev::trt::InputShape;

/** Runs `work` off the JavaScript thread and settles a promise with `toJs` of its result, or with its error. */
template <typename Result>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using ToJs = std::function<Napi::Value(Napi::Env, Result&)>;

  static Napi::Promise start(Napi::Env env, Work work, ToJs toJs, const std::vector<Napi::Object>& keepAlive = {}) {
    auto* worker = new PromiseWorker(env, std::move(work), std::move(toJs), keepAlive);
    Napi::Promise promise = worker->deferred_.Promise();
    worker->Queue();  // deletes itself when settled
    return promise;
  }

 protected:
  void Execute() override {
    try {
      result_ = work_();
    } catch (const iev::CudaError& error) {
      cudaErrorName_ = cudaGetErrorName(error.code);
      SetError(error.what());
    } catch (const std::exception& error) {
      SetError(error.what());
    }
  }

  void OnOK() override { deferred_.Resolve(toJs_(Env(), result_)); }

  void OnError(const Napi::Error& error) override {
    // The code lets JavaScript tell a missing GPU or driver from other failures without parsing the message.
    if (!cudaErrorName_.empty()) error.Value().Set("code", Napi::String::New(Env(), cudaErrorName_));
    deferred_.Reject(error.Value());
  }

 private:
  PromiseWorker(Napi::Env env, Work work, ToJs toJs, const std::vector<Napi::Object>& keepAlive)
      : Napi::AsyncWorker(env, "iev:tensorrt"), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)), toJs_(std::move(toJs)) {
    for (const Napi::Object& object : keepAlive) references_.push_back(Napi::Persistent(object));
  }

  Napi::Promise::Deferred deferred_;
  Work work_;
  ToJs toJs_;
  Result result_{};
  std::string cudaErrorName_;
  std::vector<Napi::ObjectReference> references_;
};

[[noreturn]] void throwTypeError(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }

int integerArgument(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) throwTypeError(env, std::string(what) + " must be a number");
  return value.As<Napi::Number>().Int32Value();
}

/** A [width, height] pair. */
ImageSize sizeArgument(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 2) throwTypeError(env, std::string(what) + " must be [width, height]");
  const Napi::Array pair = value.As<Napi::Array>();
  return ImageSize{integerArgument(env, pair.Get(0u), what), integerArgument(env, pair.Get(1u), what)};
}

/** An NCHW input shape [batch, 3, height, width], every dimension positive. */
InputShape shapeArgument(Napi::Env env, const Napi::Value& value, const std::string& what) {
  const std::string expected = what + " must be [batch, 3, height, width] with positive whole numbers";
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 4) throwTypeError(env, expected);
  const Napi::Array dims = value.As<Napi::Array>();
  int n[4];
  for (uint32_t i = 0; i < 4; ++i) {
    const Napi::Value dim = dims.Get(i);
    if (!dim.IsNumber() || dim.As<Napi::Number>().DoubleValue() != dim.As<Napi::Number>().Int32Value() || dim.As<Napi::Number>().Int32Value() <= 0) {
      throwTypeError(env, expected);
    }
    n[i] = dim.As<Napi::Number>().Int32Value();
  }
  if (n[1] != 3) throwTypeError(env, what + " has " + std::to_string(n[1]) + " channels: the models take 3");
  return InputShape{n[0], n[2], n[3]};
}

Napi::Array shapeToJs(Napi::Env env, InputShape shape) {
  Napi::Array dims = Napi::Array::New(env, 4);
  const int values[] = {shape.batch, 3, shape.height, shape.width};
  for (uint32_t i = 0; i < 4; ++i) dims.Set(i, Napi::Number::New(env, values[i]));
  return dims;
}

/** { min, opt, max } as NCHW shapes, checked here so that a bad one is refused before TensorRT is involved. */
iev::trt::ShapeRange profileArgument(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) throwTypeError(env, "profile must be { min, opt, max }");
  const Napi::Object profile = value.As<Napi::Object>();
  const iev::trt::ShapeRange range{shapeArgument(env, profile.Get("min"), "profile.min"), shapeArgument(env, profile.Get("opt"), "profile.opt"),
                                   shapeArgument(env, profile.Get("max"), "profile.max")};
  const auto ordered = [](InputShape low, InputShape high) { return low.batch <= high.batch && low.height <= high.height && low.width <= high.width; };
  if (!ordered(range.min, range.opt) || !ordered(range.opt, range.max)) {
    throw Napi::RangeError::New(env, "profile must have min <= opt <= max in every dimension");
  }
  return range;
}

void readTriple(Napi::Env env, const Napi::Value& value, float (&out)[3], const char* what) {
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 3) throwTypeError(env, std::string(what) + " must be three numbers");
  for (uint32_t i = 0; i < 3; ++i) out[i] = static_cast<float>(value.As<Napi::Array>().Get(i).As<Napi::Number>().DoubleValue());
}

Napi::Value outputShapeToJs(Napi::Env env, iev::trt::OutputShape& shape) {
  Napi::Array dims = Napi::Array::New(env, shape.dims.size());
  for (uint32_t i = 0; i < shape.dims.size(); ++i) dims.Set(i, Napi::Number::New(env, static_cast<double>(shape.dims[i])));
  return dims;
}

Napi::Value tensorRtVersion(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), iev::trt::tensorRtVersion()); }

/** Throws a JavaScript Error whose `code` is the CUDA error's name, so JavaScript can tell a missing GPU or driver. */
[[noreturn]] void throwCudaError(Napi::Env env, const iev::CudaError& error) {
  Napi::Error jsError = Napi::Error::New(env, error.what());
  jsError.Value().Set("code", Napi::String::New(env, cudaGetErrorName(error.code)));
  throw jsError;
}

Napi::Value cudaRuntimeVersion(const Napi::CallbackInfo& info) {
  try {
    return Napi::String::New(info.Env(), iev::trt::cudaRuntimeVersion());
  } catch (const iev::CudaError& error) {
    throwCudaError(info.Env(), error);
  }
}

Napi::Value cudaDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<iev::trt::GpuInfo> devices;
  try {
    devices = iev::trt::cudaDevices();
  } catch (const iev::CudaError& error) {
    throwCudaError(env, error);
  }
  Napi::Array list = Napi::Array::New(env, devices.size());
  for (uint32_t i = 0; i < devices.size(); ++i) {
    Napi::Object device = Napi::Object::New(env);
    device.Set("name", devices[i].name);
    device.Set("computeCapability", std::to_string(devices[i].computeMajor) + "." + std::to_string(devices[i].computeMinor));
    device.Set("multiprocessors", Napi::Number::New(env, devices[i].multiprocessors));
    device.Set("totalMemoryBytes", Napi::Number::New(env, static_cast<double>(devices[i].totalMemoryBytes)));
    list.Set(i, device);
  }
  return list;
}

/**
 * Delivers the builder's progress from TensorRT's threads to a JavaScript callback, in order, without blocking the
 * build. Released when the build's worker is done with it.
 */
class ProgressChannel {
 public:
  ProgressChannel(Napi::Env env, Napi::Function callback)
      : function_(Napi::ThreadSafeFunction::New(env, callback, "iev:tensorrt-progress", 0, 1)) {}
  ~ProgressChannel() { function_.Release(); }
  ProgressChannel(const ProgressChannel&) = delete;
  ProgressChannel& operator=(const ProgressChannel&) = delete;

  void send(const iev::trt::BuildProgress& progress) {
    auto* copy = new iev::trt::BuildProgress(progress);
    if (function_.NonBlockingCall(copy, deliver) != napi_ok) delete copy;
  }

 private:
  static void deliver(Napi::Env env, Napi::Function callback, iev::trt::BuildProgress* progress) {
    const std::unique_ptr<iev::trt::BuildProgress> owned(progress);
    if (env == nullptr || callback == nullptr) return;  // the process is exiting
    Napi::Object event = Napi::Object::New(env);
    event.Set("phase", owned->phase);
    if (!owned->parent.empty()) event.Set("parent", owned->parent);
    event.Set("step", owned->step);
    event.Set("steps", owned->steps);
    try {
      callback.Call({event});
    } catch (const Napi::Error& error) {
      error.ThrowAsJavaScriptException();  // the listener's own bug: reported as any uncaught exception is
    }
  }

  Napi::ThreadSafeFunction function_;
};

/**
 * buildEngine(onnx: Uint8Array, { modelPath, fp16, profile: { min, opt, max }, workspaceBytes?, onProgress?({ phase,
 * parent?, step, steps }) }) → Promise<Buffer> with the serialized engine, built from these bytes (the ones the
 * caller hashed for the engine's cache key), never from the file re-read. modelPath names the model in errors and
 * is where external weights would be found. onProgress is called as TensorRT (10 and later) reports.
 */
Napi::Value buildEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "buildEngine(onnx: Uint8Array, { modelPath, fp16, profile })";
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !info[1].IsObject()) throwTypeError(env, usage);
  const Napi::Object options = info[1].As<Napi::Object>();
  if (!options.Get("modelPath").IsString()) throwTypeError(env, usage);
  const std::string modelPath = options.Get("modelPath").As<Napi::String>();
  const Napi::Uint8Array onnxArray = info[0].As<Napi::Uint8Array>();
  // Copied now: the build runs for minutes, and must see the bytes as they were when hashed.
  auto onnx = std::make_shared<const std::vector<uint8_t>>(onnxArray.Data(), onnxArray.Data() + onnxArray.ByteLength());
  iev::trt::BuildOptions build;
  build.fp16 = options.Get("fp16").ToBoolean();
  build.profile = profileArgument(env, options.Get("profile"));
  const Napi::Value workspace = options.Get("workspaceBytes");
  if (!workspace.IsUndefined()) {
    if (!workspace.IsNumber() || workspace.As<Napi::Number>().DoubleValue() < 0) throwTypeError(env, "workspaceBytes must be a number >= 0");
    build.workspaceBytes = static_cast<std::size_t>(workspace.As<Napi::Number>().DoubleValue());
  }
  const Napi::Value onProgress = options.Get("onProgress");
  std::shared_ptr<ProgressChannel> progress;
  if (onProgress.IsFunction()) {
    progress = std::make_shared<ProgressChannel>(env, onProgress.As<Napi::Function>());
    build.onProgress = [progress](const iev::trt::BuildProgress& event) { progress->send(event); };
  }
  return PromiseWorker<std::vector<uint8_t>>::start(
      env, [onnx, modelPath, build] { return iev::trt::buildSerializedEngine(*onnx, modelPath, build); },
      [](Napi::Env env, std::vector<uint8_t>& plan) { return Napi::Buffer<uint8_t>::Copy(env, plan.data(), plan.size()); });
}

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {InstanceMethod("profile", &EngineWrap::profile), InstanceMethod("outputDims", &EngineWrap::outputDims),
                        InstanceMethod("inferTensor", &EngineWrap::inferTensor),
                        InstanceMethod("inferImage", &EngineWrap::inferImage), InstanceMethod("dispose", &EngineWrap::dispose)});
  }

  /** new Engine(plan: Uint8Array): deserializes on the calling thread (start-up only, well under a second). */
  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throwTypeError(env, "new Engine(plan: Uint8Array)");
    }
    const Napi::Uint8Array plan = info[0].As<Napi::Uint8Array>();
    try {
      engine_ = std::make_shared<iev::trt::Engine>(plan.Data(), plan.ByteLength());
    } catch (const std::exception& error) {
      throw Napi::Error::New(env, error.what());
    }
  }

 private:
  std::shared_ptr<iev::trt::Engine> live(Napi::Env env) {
    if (!engine_) throw Napi::Error::New(env, "the TensorRT engine has been disposed");
    return engine_;
  }

  Napi::Value profile(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const iev::trt::ShapeRange range = live(env)->profile();
    Napi::Object profile = Napi::Object::New(env);
    profile.Set("min", shapeToJs(env, range.min));
    profile.Set("opt", shapeToJs(env, range.opt));
    profile.Set("max", shapeToJs(env, range.max));
    return profile;
  }

  /**
   * outputDims([batch, 3, height, width]) → number[]: the output's dims for that input, to size the output array
   * passed to inferTensor. Synchronous and cheap (no GPU work); throws while an inference runs.
   */
  Napi::Value outputDims(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<iev::trt::Engine> engine = live(env);
    const InputShape shape = shapeArgument(env, info[0], "dims");
    iev::trt::OutputShape output{{}, 0};
    try {
      output = engine->outputShape(shape);
    } catch (const std::exception& error) {
      throw Napi::Error::New(env, error.what());
    }
    return outputShapeToJs(env, output);
  }

  /** inferTensor(input: Float32Array, [batch, 3, height, width], output: Float32Array) → Promise<number[]> output dims. */
  Napi::Value inferTensor(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<iev::trt::Engine> engine = live(env);
    const Napi::Float32Array input = float32Argument(env, info[0], "input");
    const InputShape shape = shapeArgument(env, info[1], "dims");
    Napi::Float32Array output = float32Argument(env, info[2], "output");
    if (input.ElementLength() != shape.elements()) throwTypeError(env, "input must hold batch * 3 * height * width floats");
    // Copied before returning: the caller may refill its input (the next frame) while this one runs.
    auto in = std::make_shared<const std::vector<float>>(input.Data(), input.Data() + input.ElementLength());
    float* out = output.Data();
    const std::size_t capacity = output.ElementLength();
    return PromiseWorker<iev::trt::OutputShape>::start(
        env, [engine, in, shape, out, capacity] { return engine->inferTensor(in->data(), shape, out, capacity); }, outputShapeToJs, {output});
  }

  /**
   * inferImage(frame: Uint8Array, { width, height, stride }, { intermediate?: [w, h], input: [w, h], scale, mean, std },
   * output: Float32Array) → Promise<number[]> output dims.
   */
  Napi::Value inferImage(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<iev::trt::Engine> engine = live(env);
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throwTypeError(env, "frame must be a Uint8Array");
    }
    const Napi::Uint8Array frame = info[0].As<Napi::Uint8Array>();
    if (!info[1].IsObject() || !info[2].IsObject()) throwTypeError(env, "inferImage(frame, geometry, plan, output)");
    const Napi::Object geometry = info[1].As<Napi::Object>();
    const Napi::Object planObject = info[2].As<Napi::Object>();
    iev::PreprocessPlan plan;
    plan.source = ImageSize{integerArgument(env, geometry.Get("width"), "width"), integerArgument(env, geometry.Get("height"), "height")};
    plan.sourceStride = integerArgument(env, geometry.Get("stride"), "stride");
    const Napi::Value intermediate = planObject.Get("intermediate");
    plan.hasIntermediate = !intermediate.IsUndefined();
    if (plan.hasIntermediate) plan.intermediate = sizeArgument(env, intermediate, "intermediate");
    plan.input = sizeArgument(env, planObject.Get("input"), "input");
    plan.normalize.scale = static_cast<float>(planObject.Get("scale").As<Napi::Number>().DoubleValue());
    readTriple(env, planObject.Get("mean"), plan.normalize.mean, "mean");
    readTriple(env, planObject.Get("std"), plan.normalize.std, "std");
    if (plan.source.width <= 0 || plan.source.height <= 0 || plan.sourceStride < 3 * plan.source.width ||
        frame.ByteLength() < iev::frameByteLength(plan)) {
      throwTypeError(env, "frame is smaller than its width, height and stride say");
    }
    Napi::Float32Array output = float32Argument(env, info[3], "output");
    // Copied before returning, as inferTensor's input is: the frame source may reuse its buffer for the next frame.
    auto bytes = std::make_shared<const std::vector<uint8_t>>(frame.Data(), frame.Data() + iev::frameByteLength(plan));
    float* out = output.Data();
    const std::size_t capacity = output.ElementLength();
    return PromiseWorker<iev::trt::OutputShape>::start(
        env, [engine, bytes, plan, out, capacity] { return engine->inferImage(bytes->data(), plan, out, capacity); }, outputShapeToJs, {output});
  }

  /** Releases the engine; an inference still running keeps it alive until it settles. */
  Napi::Value dispose(const Napi::CallbackInfo& info) {
    engine_.reset();
    return info.Env().Undefined();
  }

  static Napi::Float32Array float32Argument(Napi::Env env, const Napi::Value& value, const char* what) {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throwTypeError(env, std::string(what) + " must be a Float32Array");
    }
    return value.As<Napi::Float32Array>();
  }

  std::shared_ptr<iev::trt::Engine> engine_;
};

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorRtVersion", Napi::Function::New(env, tensorRtVersion, "tensorRtVersion"));
  exports.Set("cudaDevices", Napi::Function::New(env, cudaDevices, "cudaDevices"));
  exports.Set("cudaRuntimeVersion", Napi::Function::New(env, cudaRuntimeVersion, "cudaRuntimeVersion"));
  exports.Set("buildEngine", Napi::Function::New(env, buildEngine, "buildEngine"));
  exports.Set("Engine", EngineWrap::define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tensorrt_addon, init)
