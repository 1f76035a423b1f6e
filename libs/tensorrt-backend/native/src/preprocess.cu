#include "preprocess.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace iev {
namespace {

/** OpenCV's INTER_RESIZE_COEF_BITS: 8-bit images are resized with 11-bit fixed-point weights. */
constexpr int kWeightOne = 1 << 11;
constexpr int kChannels = 3;

/** Where a pass writes: 8-bit BGR rows, or normalized CHW float planes. */
struct PassOutput {
  uint8_t* bgr;
  int bgrStride;
  float* tensor;
  Normalization normalize;
};

/**
 * One output pixel of OpenCV's INTER_LINEAR for 8-bit BGR: a horizontal pass kept as `(sum) >> 4` per source row
 * (HResizeLinear), then the vertical blend of VResizeLinear for uchar, where each weighted row is floored on its own.
 * Then either stored as bytes or normalized as numpy does it in float32, with no fused multiply-add.
 */
template <bool Normalize>
__host__ __device__ inline void resizePixel(const uint8_t* source, int sourceStride, const LinearTap& column,
                                            const LinearTap& row, int x, int y, ImageSize size, const PassOutput& out) {
  const uint8_t* top = source + static_cast<std::size_t>(row.first) * sourceStride;
  const uint8_t* bottom = source + static_cast<std::size_t>(row.second) * sourceStride;
  const int left = column.first * kChannels;
  const int right = column.second * kChannels;
  for (int c = 0; c < kChannels; ++c) {
    const int topSample = (top[left + c] * column.firstWeight + top[right + c] * column.secondWeight) >> 4;
    const int bottomSample = (bottom[left + c] * column.firstWeight + bottom[right + c] * column.secondWeight) >> 4;
    const int value = (((row.firstWeight * topSample) >> 16) + ((row.secondWeight * bottomSample) >> 16) + 2) >> 2;
    if constexpr (Normalize) {
      const Normalization& n = out.normalize;
#ifdef __CUDA_ARCH__
      const float normalized = __fdiv_rn(__fsub_rn(__fmul_rn(static_cast<float>(value), n.scale), n.mean[c]), n.std[c]);
#else
      const float normalized = (static_cast<float>(value) * n.scale - n.mean[c]) / n.std[c];
#endif
      out.tensor[(static_cast<std::size_t>(c) * size.height + y) * size.width + x] = normalized;
    } else {
      out.bgr[static_cast<std::size_t>(y) * out.bgrStride + x * kChannels + c] = static_cast<uint8_t>(value);
    }
  }
}

template <bool Normalize>
__global__ void resizeLinearKernel(const uint8_t* __restrict__ source, int sourceStride, const LinearTap* __restrict__ columns,
                                   const LinearTap* __restrict__ rows, ImageSize size, PassOutput out) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= size.width || y >= size.height) return;
  resizePixel<Normalize>(source, sourceStride, columns[x], rows[y], x, y, size, out);
}

template <bool Normalize>
void launchPass(const uint8_t* source, int sourceStride, const LinearTap* columns, const LinearTap* rows, ImageSize size,
                const PassOutput& out, cudaStream_t stream) {
  // 32 wide so a warp reads neighbouring source pixels and writes one contiguous run of each output plane.
  const dim3 block(32, 8);
  const dim3 grid((size.width + block.x - 1) / block.x, (size.height + block.y - 1) / block.y);
  resizeLinearKernel<Normalize><<<grid, block, 0, stream>>>(source, sourceStride, columns, rows, size, out);
  checkCuda(cudaGetLastError(), "resize kernel launch");
}

template <bool Normalize>
void passOnHost(const uint8_t* source, int sourceStride, ImageSize from, ImageSize to, const PassOutput& out) {
  const std::vector<LinearTap> columns = linearTaps(from.width, to.width, TapAxis::Columns);
  const std::vector<LinearTap> rows = linearTaps(from.height, to.height, TapAxis::Rows);
  for (int y = 0; y < to.height; ++y) {
    for (int x = 0; x < to.width; ++x) resizePixel<Normalize>(source, sourceStride, columns[x], rows[y], x, y, to, out);
  }
}

void checkPlan(const PreprocessPlan& plan) {
  const auto positive = [](ImageSize size) { return size.width > 0 && size.height > 0; };
  if (!positive(plan.source) || !positive(plan.input) || (plan.hasIntermediate && !positive(plan.intermediate))) {
    throw std::invalid_argument("preprocess plan: every size must be positive");
  }
  if (plan.sourceStride < plan.source.width * kChannels) {
    throw std::invalid_argument("preprocess plan: stride " + std::to_string(plan.sourceStride) + " is less than 3 * width");
  }
}

}  // namespace

/**
 * The taps cv::resize (INTER_LINEAR, 8-bit) uses along one axis, as in hal::resize in OpenCV's resize.cpp: the
 * source coordinate is computed in double and rounded to float like OpenCV does, so weights agree to the bit.
 * Columns left of the first or right of the last pixel are clamped onto it with weight 0 for the second tap; rows
 * only have their indices clamped, and keep their weights.
 * (This file must be compiled without floating-point contraction: a fused multiply-add changes the coordinate.)
 */
std::vector<LinearTap> linearTaps(int sourceSize, int destinationSize, TapAxis axis) {
  std::vector<LinearTap> taps(destinationSize);
  const int last = sourceSize - 1;
  // OpenCV divides by the inverse scale rather than computing source / destination directly.
  const double scale = 1.0 / (static_cast<double>(destinationSize) / sourceSize);
  for (int index = 0; index < destinationSize; ++index) {
    const float coordinate = static_cast<float>((index + 0.5) * scale - 0.5);
    int source = static_cast<int>(std::floor(coordinate));
    float fraction = coordinate - static_cast<float>(source);
    if (axis == TapAxis::Columns && (source < 0 || source >= last)) {
      source = source < 0 ? 0 : last;
      fraction = 0.0f;
    }
    const auto clamp = [last](int value) { return value < 0 ? 0 : (value > last ? last : value); };
    // Products with 2048 are exact; std::nearbyint rounds ties to even, as cvRound does.
    taps[index] = LinearTap{clamp(source), clamp(source + 1), static_cast<int32_t>(std::nearbyint((1.0f - fraction) * kWeightOne)),
                            static_cast<int32_t>(std::nearbyint(fraction * kWeightOne))};
  }
  return taps;
}

std::size_t frameByteLength(const PreprocessPlan& plan) {
  return static_cast<std::size_t>(plan.source.height - 1) * plan.sourceStride + static_cast<std::size_t>(plan.source.width) * kChannels;
}

void GpuPreprocessor::prepare(Pass& pass, ImageSize from, ImageSize to, cudaStream_t stream) {
  if (pass.from == from && pass.to == to) return;
  const std::vector<LinearTap> columns = linearTaps(from.width, to.width, TapAxis::Columns);
  const std::vector<LinearTap> rows = linearTaps(from.height, to.height, TapAxis::Rows);
  // Set up for no size until both tables have landed: a reserve or upload that throws halfway must not leave the
  // next frame of the old size reading a table reallocated for the new one.
  pass.from = pass.to = ImageSize{};
  pass.columns.reserve(columns.size());
  pass.rows.reserve(rows.size());
  // On the kernel's stream, so the kernel that reads the tables runs after they have landed and the previous one
  // has finished with the old ones. A plain cudaMemcpy goes on the default stream, which a non-blocking stream does
  // not wait for. From pageable memory the call returns once the tables are staged, so the vectors may go.
  checkCuda(cudaMemcpyAsync(pass.columns.data(), columns.data(), columns.size() * sizeof(LinearTap), cudaMemcpyHostToDevice, stream),
            "upload column taps");
  checkCuda(cudaMemcpyAsync(pass.rows.data(), rows.data(), rows.size() * sizeof(LinearTap), cudaMemcpyHostToDevice, stream), "upload row taps");
  pass.from = from;
  pass.to = to;
}

void GpuPreprocessor::enqueue(const PreprocessPlan& plan, const uint8_t* hostFrame, float* deviceTensor, cudaStream_t stream) {
  checkPlan(plan);
  const std::size_t frameBytes = frameByteLength(plan);
  frame_.reserve(frameBytes);
  checkCuda(cudaMemcpyAsync(frame_.data(), hostFrame, frameBytes, cudaMemcpyHostToDevice, stream), "copy frame to GPU");

  const uint8_t* source = frame_.data();
  int sourceStride = plan.sourceStride;
  ImageSize from = plan.source;
  if (plan.hasIntermediate) {
    const ImageSize size = plan.intermediate;
    intermediate_.reserve(static_cast<std::size_t>(size.width) * size.height * kChannels);
    prepare(squash_, from, size, stream);
    const PassOutput out{intermediate_.data(), size.width * kChannels, nullptr, {}};
    launchPass<false>(source, sourceStride, squash_.columns.data(), squash_.rows.data(), size, out, stream);
    source = intermediate_.data();
    sourceStride = size.width * kChannels;
    from = size;
  }
  prepare(toInput_, from, plan.input, stream);
  const PassOutput out{nullptr, 0, deviceTensor, plan.normalize};
  launchPass<true>(source, sourceStride, toInput_.columns.data(), toInput_.rows.data(), plan.input, out, stream);
}

void preprocessOnHost(const PreprocessPlan& plan, const uint8_t* frame, float* tensor) {
  checkPlan(plan);
  const uint8_t* source = frame;
  int sourceStride = plan.sourceStride;
  ImageSize from = plan.source;
  std::vector<uint8_t> intermediate;
  if (plan.hasIntermediate) {
    const ImageSize size = plan.intermediate;
    intermediate.resize(static_cast<std::size_t>(size.width) * size.height * kChannels);
    passOnHost<false>(source, sourceStride, from, size, PassOutput{intermediate.data(), size.width * kChannels, nullptr, {}});
    source = intermediate.data();
    sourceStride = size.width * kChannels;
    from = size;
  }
  passOnHost<true>(source, sourceStride, from, plan.input, PassOutput{nullptr, 0, tensor, plan.normalize});
}

}  // namespace iev
