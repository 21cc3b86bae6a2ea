#include "ref/rope.h"

#include "util/error.h"

#include <cmath>

namespace mlxmtp::detail::ref {

double rope_angle(const rope_params &p, int64_t i, int64_t pt, int64_t ph, int64_t pw) {
    double inv_freq = std::pow(p.theta, -2.0 * static_cast<double>(i) / p.rotary_dim);
    int64_t pos = pt;
    if (p.mrope_section.size() == 3) {
        const auto &s = p.mrope_section;
        if (p.interleaved) {
            if (i % 3 == 1 && i < 3 * s[1]) pos = ph;
            else if (i % 3 == 2 && i < 3 * s[2]) pos = pw;
        } else {
            if (i >= s[0] + s[1]) pos = pw;
            else if (i >= s[0]) pos = ph;
        }
    }
    return static_cast<double>(pos) * inv_freq;
}

void rope_apply(const rope_params &p, float *x, int64_t T, int64_t heads, const int64_t *pos_t,
                const int64_t *pos_h, const int64_t *pos_w) {
    const int64_t R = p.rotary_dim, half = R / 2;
    if (R % 2 != 0 || R > p.head_dim) fail(MLXMTP_ERR_INVALID_ARG, "ref: bad rotary_dim");
    std::vector<float> c(half), s(half);
    for (int64_t t = 0; t < T; ++t) {
        int64_t pt = pos_t[t], ph = pos_h ? pos_h[t] : pt, pw = pos_w ? pos_w[t] : pt;
        for (int64_t i = 0; i < half; ++i) {
            double a = rope_angle(p, i, pt, ph, pw);
            c[i] = static_cast<float>(std::cos(a));
            s[i] = static_cast<float>(std::sin(a));
        }
        for (int64_t h = 0; h < heads; ++h) {
            float *v = x + (t * heads + h) * p.head_dim;
            for (int64_t j = 0; j < half; ++j) {
                float a = v[j], b = v[j + half];
                v[j] = a * c[j] - b * s[j];
                v[j + half] = b * c[j] + a * s[j];
            }
        }
    }
}

}  // namespace mlxmtp::detail::ref
