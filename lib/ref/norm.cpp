#include "ref/norm.h"

#include <cmath>

namespace mlxmtp::detail::ref {

static double sumsq(const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    return s;
}

void rmsnorm_1p(const float *x, int64_t rows, int64_t n, const float *w, float eps, float *y) {
    for (int64_t r = 0; r < rows; ++r) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float inv = static_cast<float>(1.0 / std::sqrt(sumsq(xr, n) / n + eps));
        for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] * inv) * (1.0f + w[i]);
    }
}

void rmsnorm_gated(const float *x, const float *z, int64_t rows, int64_t n, const float *w,
                   float eps, float *y) {
    for (int64_t r = 0; r < rows; ++r) {
        const float *xr = x + r * n;
        const float *zr = z + r * n;
        float *yr = y + r * n;
        float inv = static_cast<float>(1.0 / std::sqrt(sumsq(xr, n) / n + eps));
        for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] * inv) * w[i] * silu(zr[i]);
    }
}

void l2norm(const float *x, int64_t rows, int64_t n, float eps, float *y) {
    for (int64_t r = 0; r < rows; ++r) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float inv = static_cast<float>(1.0 / std::sqrt(sumsq(xr, n) + eps));
        for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * inv;
    }
}

float softplus(float x) { return x > 20.0f ? x : static_cast<float>(std::log1p(std::exp(static_cast<double>(x)))); }

}  // namespace mlxmtp::detail::ref
