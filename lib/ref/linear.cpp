#include "ref/linear.h"

#include "util/error.h"
#include "util/half.h"

#include <cmath>
#include <cstring>
#include <limits>

// The dot product is the reference's hot loop; let GCC vectorize it at -O2 builds too.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

namespace mlxmtp::detail::ref {

float e8m0_to_f32(uint8_t b) {
    if (b == 0xFF) return std::numeric_limits<float>::infinity();
    return std::ldexp(1.0f, static_cast<int>(b) - 127);  // b == 0: 2^-127, a float subnormal
}

float e2m1_to_f32(uint8_t code) {
    static const float lut[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    float v = lut[code & 7];
    return (code & 8) ? -v : v;
}

float e4m3_to_f32(uint8_t code) {
    int e = (code >> 3) & 15, m = code & 7;
    float v = e == 0 ? std::ldexp(static_cast<float>(m), -9)
                     : std::ldexp(1.0f + static_cast<float>(m) / 8.0f, e - 7);
    return (code & 0x80) ? -v : v;
}

static void check_view(const weight_view &w) {
    if (w.rows <= 0 || w.cols <= 0 || !w.data)
        fail(MLXMTP_ERR_INVALID_ARG, "ref: empty weight view");
    if ((w.format == wformat::mxfp4 || w.format == wformat::mxfp8) &&
        (w.cols % 32 != 0 || !w.scales))
        fail(MLXMTP_ERR_INVALID_ARG, "ref: MX weight needs cols %% 32 == 0 and scales");
}

void dequantize_row(const weight_view &w, int64_t r, float *out) {
    const int64_t n = w.cols;
    switch (w.format) {
    case wformat::f32:
        std::memcpy(out, static_cast<const float *>(w.data) + r * n, n * sizeof(float));
        break;
    case wformat::bf16: {
        const uint16_t *p = static_cast<const uint16_t *>(w.data) + r * n;
        for (int64_t c = 0; c < n; ++c) out[c] = bf16_to_f32(p[c]);
        break;
    }
    case wformat::mxfp4: {
        const uint32_t *p = static_cast<const uint32_t *>(w.data) + r * (n / 8);
        const uint8_t *s = w.scales + r * (n / 32);
        for (int64_t c = 0; c < n; ++c) {
            uint8_t code = (p[c / 8] >> (4 * (c % 8))) & 0xF;
            out[c] = e8m0_to_f32(s[c / 32]) * e2m1_to_f32(code);
        }
        break;
    }
    case wformat::mxfp8: {
        const uint32_t *p = static_cast<const uint32_t *>(w.data) + r * (n / 4);
        const uint8_t *s = w.scales + r * (n / 32);
        for (int64_t c = 0; c < n; ++c) {
            uint8_t code = (p[c / 4] >> (8 * (c % 4))) & 0xFF;
            out[c] = e8m0_to_f32(s[c / 32]) * e4m3_to_f32(code);
        }
        break;
    }
    }
}

std::vector<float> dequantize(const weight_view &w) {
    check_view(w);
    std::vector<float> out(static_cast<size_t>(w.rows * w.cols));
    for (int64_t r = 0; r < w.rows; ++r) dequantize_row(w, r, out.data() + r * w.cols);
    return out;
}

static inline float dot(const float *a, const float *b, int64_t n) {
    // Eight independent double partial sums: exact enough and vectorizable.
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) s[j] += static_cast<double>(a[i + j]) * b[i + j];
    for (; i < n; ++i) s[0] += static_cast<double>(a[i]) * b[i];
    return static_cast<float>(((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
}

void matmul_f32(const float *w, int64_t rows, int64_t cols, const float *x, int64_t T, float *y) {
    for (int64_t t = 0; t < T; ++t)
        for (int64_t r = 0; r < rows; ++r) y[t * rows + r] = dot(w + r * cols, x + t * cols, cols);
}

void matmul(const weight_view &w, const float *x, int64_t T, float *y) {
    check_view(w);
    if (w.format == wformat::f32) {
        matmul_f32(static_cast<const float *>(w.data), w.rows, w.cols, x, T, y);
        return;
    }
    std::vector<float> row(static_cast<size_t>(w.cols));
    for (int64_t r = 0; r < w.rows; ++r) {
        dequantize_row(w, r, row.data());
        for (int64_t t = 0; t < T; ++t) y[t * w.rows + r] = dot(row.data(), x + t * w.cols, w.cols);
    }
}

}  // namespace mlxmtp::detail::ref
