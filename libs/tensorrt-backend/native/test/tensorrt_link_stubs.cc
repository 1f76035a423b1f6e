// Link stubs for the few extern "C" entry points the binding takes from libnvinfer and libnvonnxparser, so it can be
// linked and loaded where TensorRT's headers exist but its libraries do not (the header-build test). Everything else
// of TensorRT's API is inline in the headers and reached through the objects these factories would return. The
// factories log an error from a thread of their own, as TensorRT's builder threads do, and return null: the
// binding must fail with a clear error that quotes it.
#include <NvInfer.h>
#include <NvOnnxParser.h>

#include <string>
#include <thread>

namespace {

void* failFromAnotherThread(void* logger, const char* factory) {
  static int calls = 0;
  const std::string message = std::string(factory) + ": no TensorRT library here, only link stubs (call " + std::to_string(++calls) + ")";
  std::thread([&] { static_cast<nvinfer1::ILogger*>(logger)->log(nvinfer1::ILogger::Severity::kERROR, message.c_str()); }).join();
  return nullptr;
}

}  // namespace

extern "C" {

void* createInferBuilder_INTERNAL(void* logger, int32_t) noexcept { return failFromAnotherThread(logger, "createInferBuilder"); }

void* createInferRuntime_INTERNAL(void* logger, int32_t) noexcept { return failFromAnotherThread(logger, "createInferRuntime"); }

int32_t getInferLibVersion() noexcept { return NV_TENSORRT_VERSION; }

int32_t getInferLibBuildVersion() noexcept { return NV_TENSORRT_BUILD; }

void* createNvOnnxParser_INTERNAL(void*, void* logger, int) noexcept { return failFromAnotherThread(logger, "createNvOnnxParser"); }

}
