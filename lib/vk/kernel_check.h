// The kernel check harness: each check runs one kernel on random inputs and
// compares with a scalar C++ reference.  The same table serves the library's
// self-test (`mlxmtp info --selftest`, mlxmtp_instance_selftest) and the
// randomized kernel tests (tests/kernels/).  Adding a kernel: write its
// launcher, a reference, and one check function; add it to the table.
#pragma once
#include "ops/linear.h"
#include "vk/command.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace mlxmtp::detail {

struct kernel_check_result {
    std::string name;
    double error = 0;      // max|got - ref| / max|ref|
    double tolerance = 0;
    bool passed = false;
};

struct kernel_check {
    const char *name;
    kernel_check_result (*run)(vk_device &dev, uint64_t seed);
};

const std::vector<kernel_check> &kernel_checks();  // every table below, concatenated
std::vector<kernel_check> basic_kernel_checks();   // kernel_checks_basic.cpp
std::vector<kernel_check> layer_kernel_checks();   // kernel_checks_layers.cpp
std::vector<kernel_check> frag_kernel_checks();    // kernel_checks_frag.cpp (experimental kernel)

// Helpers for writing checks.
class check_buffers {
public:
    explicit check_buffers(vk_device &dev) : dev_(dev), arena_(dev, false, 1u << 20, "kernel check") {}
    buffer_span upload(const void *data, uint64_t bytes);
    template <class T>
    buffer_span upload(const std::vector<T> &v) { return upload(v.data(), v.size() * sizeof(T)); }
    buffer_span zeros(uint64_t bytes);
    template <class T>
    std::vector<T> read(const buffer_span &s, size_t n) {
        std::vector<T> out(n);
        download(dev_, s, out.data(), n * sizeof(T));
        return out;
    }

private:
    vk_device &dev_;
    arena arena_;
};

std::vector<float> random_floats(std::mt19937_64 &rng, size_t n, float lo = -1.f, float hi = 1.f);
double max_rel_error(const std::vector<float> &got, const std::vector<float> &ref);
// Bit-identical float vectors (batch invariance); +0 and -0 count as equal
// when `zero_sign_free`.
bool same_bits(const float *a, const float *b, size_t n, bool zero_sign_free = false);
// x split by its producer (XP_OUT: common/x_split.glsl x_pair): each
// word's fp16 halves (hi low, lo high) sum to its value within lo's
// rounding (22 bits of it; fp16 subnormals near 0).
bool pairs_match(const std::vector<float> &values, const std::vector<uint32_t> &pairs);
// X16 producers (kernels/common/x_split.glsl x16_half): values [T][stride]
// against fp16 token-pair halves, each its value rounded to nearest even
// (util/half.h f32_to_f16) or toward zero (Vulkan leaves the conversion's
// mode to the device).
bool halves_match(const std::vector<float> &values, const std::vector<uint16_t> &halves, uint32_t T, uint32_t stride);
// Where token t's element e lies in them (kernels/common/x_split.glsl x16_half).
inline uint64_t x16_half(uint32_t t, uint32_t e, uint32_t stride) {
    return (uint64_t(t >> 1) * stride + e) * 2 + (t & 1);
}
// The halves' size in bytes for T tokens of `stride` elements.
inline uint64_t halves_bytes(uint32_t T, uint32_t stride) { return uint64_t((T + 1) / 2) * stride * 4; }
kernel_check_result make_result(const char *name, const std::vector<float> &got, const std::vector<float> &ref,
                                double tolerance);
// Uploads a weight in `fmt` built from random values, split into chunks of
// at most `chunk_rows` rows; `ref_w` receives the exact dequantized values.
ops::device_weight make_weight(check_buffers &bufs, std::mt19937_64 &rng, ops::wformat fmt, uint32_t rows,
                               uint32_t cols, uint32_t chunk_rows, std::vector<float> *ref_w);

}  // namespace mlxmtp::detail
