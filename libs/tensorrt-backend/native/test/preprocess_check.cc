// Checks the preprocessing against tensors the CPU Preprocessor (@iev/text-detection) computed for the same frames.
//   preprocess_check --on gpu|host <cases file>
// Each line of the cases file: frame width height stride intermediate(WxH or -) input(WxH) scale mean0 mean1 mean2
// std0 std1 std2 expected, where frame holds the BGR bytes and expected the float32 CHW tensor. `gpu` runs every
// case twice through one GpuPreprocessor (so geometry changes and buffer reuse are exercised); `host` runs the same
// per-pixel code on the CPU. Exit status: 0 all equal, 1 a mismatch, 2 bad arguments or files, 3 a CUDA error.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "../src/preprocess.h"

namespace {

struct Case {
  iev::PreprocessPlan plan;
  std::vector<uint8_t> frame;
  std::vector<float> expected;
};

std::vector<char> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

iev::ImageSize parseSize(const std::string& text) {
  iev::ImageSize size;
  if (std::sscanf(text.c_str(), "%dx%d", &size.width, &size.height) != 2) throw std::runtime_error("bad size " + text);
  return size;
}

std::vector<Case> readCases(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string framePath, intermediate, input, expectedPath;
    Case item;
    iev::PreprocessPlan& plan = item.plan;
    iev::Normalization& n = plan.normalize;
    fields >> framePath >> plan.source.width >> plan.source.height >> plan.sourceStride >> intermediate >> input >> n.scale >>
        n.mean[0] >> n.mean[1] >> n.mean[2] >> n.std[0] >> n.std[1] >> n.std[2] >> expectedPath;
    if (!fields) throw std::runtime_error("bad case line: " + line);
    plan.hasIntermediate = intermediate != "-";
    if (plan.hasIntermediate) plan.intermediate = parseSize(intermediate);
    plan.input = parseSize(input);
    const std::vector<char> frame = readFile(framePath);
    if (frame.size() < iev::frameByteLength(plan)) throw std::runtime_error(framePath + " is shorter than its geometry");
    item.frame.assign(frame.begin(), frame.end());
    const std::vector<char> expected = readFile(expectedPath);
    const std::size_t count = 3 * static_cast<std::size_t>(plan.input.width) * plan.input.height;
    if (expected.size() != count * sizeof(float)) throw std::runtime_error(expectedPath + " does not hold the input tensor");
    item.expected.resize(count);
    std::memcpy(item.expected.data(), expected.data(), expected.size());
    cases.push_back(std::move(item));
  }
  return cases;
}

/** Bit-exact comparison; prints the first difference. */
bool same(const Case& item, const std::vector<float>& actual, const std::string& label) {
  std::size_t differing = 0;
  std::size_t first = 0;
  double largest = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (std::memcmp(&actual[i], &item.expected[i], sizeof(float)) == 0) continue;
    if (differing++ == 0) first = i;
    largest = std::fmax(largest, std::fabs(static_cast<double>(actual[i]) - item.expected[i]));
  }
  const iev::PreprocessPlan& plan = item.plan;
  std::cout << label << ": " << plan.source.width << "x" << plan.source.height << " -> " << plan.input.width << "x" << plan.input.height
            << (differing == 0 ? " equal" : " DIFFERENT");
  if (differing > 0) {
    const std::size_t plane = static_cast<std::size_t>(plan.input.width) * plan.input.height;
    std::cout << " (" << differing << " of " << actual.size() << " values, max |diff| " << largest << ", first at c=" << first / plane
              << " y=" << (first % plane) / plan.input.width << " x=" << first % plan.input.width << ": " << actual[first] << " vs "
              << item.expected[first] << ")";
  }
  std::cout << std::endl;
  return differing == 0;
}

bool runOnHost(const std::vector<Case>& cases) {
  bool ok = true;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::vector<float> tensor(cases[i].expected.size());
    iev::preprocessOnHost(cases[i].plan, cases[i].frame.data(), tensor.data());
    ok = same(cases[i], tensor, "host case " + std::to_string(i)) && ok;
  }
  return ok;
}

bool runOnGpu(const std::vector<Case>& cases) {
  cudaStream_t stream = nullptr;
  iev::checkCuda(cudaStreamCreate(&stream), "cudaStreamCreate");
  iev::GpuPreprocessor preprocessor;
  iev::PinnedBuffer<uint8_t> frame;
  iev::DeviceBuffer<float> tensor;
  bool ok = true;
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const Case& item = cases[i];
      frame.reserve(item.frame.size());
      std::memcpy(frame.data(), item.frame.data(), item.frame.size());
      tensor.reserve(item.expected.size());
      preprocessor.enqueue(item.plan, frame.data(), tensor.data(), stream);
      std::vector<float> actual(item.expected.size());
      iev::checkCuda(cudaMemcpyAsync(actual.data(), tensor.data(), actual.size() * sizeof(float), cudaMemcpyDeviceToHost, stream),
                     "copy tensor back");
      iev::checkCuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
      ok = same(item, actual, "gpu round " + std::to_string(round) + " case " + std::to_string(i)) && ok;
    }
  }
  cudaStreamDestroy(stream);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || std::strcmp(argv[1], "--on") != 0 || (std::strcmp(argv[2], "gpu") != 0 && std::strcmp(argv[2], "host") != 0)) {
    std::cerr << "usage: preprocess_check --on gpu|host <cases file>" << std::endl;
    return 2;
  }
  std::vector<Case> cases;
  try {
    cases = readCases(argv[3]);
    if (cases.empty()) throw std::runtime_error(std::string(argv[3]) + " holds no cases");
  } catch (const std::exception& error) {
    std::cerr << error.what() << std::endl;
    return 2;
  }
  try {
    const bool ok = std::strcmp(argv[2], "gpu") == 0 ? runOnGpu(cases) : runOnHost(cases);
    std::cout << (ok ? "all equal" : "MISMATCH") << std::endl;
    return ok ? 0 : 1;
  } catch (const iev::CudaError& error) {
    std::cerr << error.what() << std::endl;
    return 3;
  }
}
