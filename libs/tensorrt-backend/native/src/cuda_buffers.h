// CUDA runtime errors as exceptions, and buffers that are allocated once and only regrown when a larger size is
// asked for, so frames of one geometry allocate nothing.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace iev {

class CudaError : public std::runtime_error {
 public:
  CudaError(cudaError_t code, const std::string& what)
      : std::runtime_error(what + " failed: " + cudaGetErrorName(code) + " (" + cudaGetErrorString(code) + ")"),
        code(code) {}
  const cudaError_t code;
};

inline void checkCuda(cudaError_t code, const char* what) {
  if (code != cudaSuccess) throw CudaError(code, what);
}

template <typename T, bool Pinned>
class GrowingBuffer {
 public:
  GrowingBuffer() = default;
  GrowingBuffer(const GrowingBuffer&) = delete;
  GrowingBuffer& operator=(const GrowingBuffer&) = delete;
  ~GrowingBuffer() { release(); }

  /** Makes room for `count` elements; the contents are not kept when it grows. Returns whether the address changed. */
  bool reserve(std::size_t count) {
    if (count <= capacity_) return false;
    release();
    void* memory = nullptr;
    if constexpr (Pinned) {
      checkCuda(cudaMallocHost(&memory, count * sizeof(T)), "cudaMallocHost");
    } else {
      checkCuda(cudaMalloc(&memory, count * sizeof(T)), "cudaMalloc");
    }
    data_ = static_cast<T*>(memory);
    capacity_ = count;
    return true;
  }

  T* data() const { return data_; }
  std::size_t capacity() const { return capacity_; }

 private:
  void release() {
    if (data_ == nullptr) return;
    if constexpr (Pinned) {
      cudaFreeHost(data_);
    } else {
      cudaFree(data_);
    }
    data_ = nullptr;
    capacity_ = 0;
  }

  T* data_ = nullptr;
  std::size_t capacity_ = 0;
};

template <typename T>
using DeviceBuffer = GrowingBuffer<T, false>;
/** Page-locked host memory: copies to and from the GPU run at full speed and asynchronously. */
template <typename T>
using PinnedBuffer = GrowingBuffer<T, true>;

}  // namespace iev
