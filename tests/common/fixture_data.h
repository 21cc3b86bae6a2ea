// Readers for the reference fixtures (tests/fixtures): tensors of
// reference.safetensors and the trained model's reference generations.
#pragma once
#include "io/safetensors.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlxmtp::test {

class reference_tensors {
public:
    explicit reference_tensors(const std::string &path);
    std::vector<float> f32(const std::string &name) const;
    std::vector<int32_t> i32(const std::string &name) const;

private:
    std::unique_ptr<detail::safetensors_file> file_;
};

// The tiny-qwen35-dev reference.safetensors, opened once.
const reference_tensors &dev_references();

struct rel_err {
    double rel = 0, abs = 0;  // max|a-b| / max|ref|, max|a-b|
};
rel_err compare(const std::vector<float> &got, const std::vector<float> &want);

struct gen_case {
    std::vector<int32_t> prompt, greedy;
    std::vector<bool> hits;  // teacher-forced MTP hits per position
};
// tiny-qwen35-trained/reference_generation.json, all 27 cases.
std::vector<gen_case> load_trained_cases();

}  // namespace mlxmtp::test
