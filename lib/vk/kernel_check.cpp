#include "vk/kernel_check.h"

#include "util/half.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mlxmtp::detail {

buffer_span check_buffers::upload(const void *data, uint64_t bytes) {
    buffer_span s = arena_.alloc(bytes, "kernel check buffer");
    mlxmtp::detail::upload(dev_, s, data, bytes);
    return s;
}

buffer_span check_buffers::zeros(uint64_t bytes) {
    std::vector<uint8_t> z(bytes, 0);
    return upload(z.data(), bytes);
}

std::vector<float> random_floats(std::mt19937_64 &rng, size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float &x : v) x = d(rng);
    return v;
}

double max_rel_error(const std::vector<float> &got, const std::vector<float> &ref) {
    if (got.size() != ref.size()) return INFINITY;
    double maxref = 0, maxdiff = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        maxref = std::max(maxref, std::fabs(static_cast<double>(ref[i])));
        double d = std::fabs(static_cast<double>(got[i]) - ref[i]);
        if (std::isnan(d)) return INFINITY;
        maxdiff = std::max(maxdiff, d);
    }
    return maxref > 0 ? maxdiff / maxref : maxdiff;
}

bool same_bits(const float *a, const float *b, size_t n, bool zero_sign_free) {
    for (size_t i = 0; i < n; ++i)
        if (std::memcmp(&a[i], &b[i], 4) != 0 && !(zero_sign_free && a[i] == 0 && b[i] == 0)) return false;
    return true;
}

bool pairs_match(const std::vector<float> &values, const std::vector<uint32_t> &pairs) {
    if (pairs.size() != values.size()) return false;
    float vmax = 0;
    for (float v : values) vmax = std::max(vmax, std::fabs(v));
    for (size_t i = 0; i < values.size(); ++i) {
        const float hi = f16_to_f32(static_cast<uint16_t>(pairs[i] & 0xffffu));
        const float lo = f16_to_f32(static_cast<uint16_t>(pairs[i] >> 16));
        if (!(std::fabs(hi + lo - values[i]) <= 1e-6f * std::fabs(values[i]) + 1e-6f * vmax)) return false;
    }
    return true;
}

bool halves_match(const std::vector<float> &values, const std::vector<uint16_t> &halves, uint32_t T, uint32_t stride) {
    if (values.size() != uint64_t(T) * stride || halves.size() * 2 != halves_bytes(T, stride)) return false;
    for (uint32_t t = 0; t < T; ++t)
        for (uint32_t e = 0; e < stride; ++e) {
            const uint16_t h = halves[x16_half(t, e, stride)];
            const uint16_t r = f32_to_f16(values[uint64_t(t) * stride + e]);  // to nearest even
            const bool toward_zero = (h & 0x8000u) == (r & 0x8000u) && (h & 0x7fffu) + 1u == (r & 0x7fffu);
            if (h != r && !toward_zero) return false;
        }
    return true;
}

kernel_check_result make_result(const char *name, const std::vector<float> &got, const std::vector<float> &ref,
                                double tolerance) {
    kernel_check_result r;
    r.name = name;
    r.error = max_rel_error(got, ref);
    r.tolerance = tolerance;
    r.passed = r.error <= tolerance;
    return r;
}

}  // namespace mlxmtp::detail
