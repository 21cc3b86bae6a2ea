#include "ref/conv1d.h"

#include "ref/norm.h"

#include <cstddef>
#include <vector>

namespace mlxmtp::detail::ref {

void conv1d_causal_silu(const float *x, int64_t T, int64_t C, const float *w, int64_t K,
                        float *state, float *y) {
    const int64_t S = K - 1;
    // X = [state; x], rows 0..S+T-1.
    std::vector<float> X(static_cast<size_t>((S + T) * C));
    for (int64_t i = 0; i < S * C; ++i) X[i] = state[i];
    for (int64_t i = 0; i < T * C; ++i) X[S * C + i] = x[i];
    for (int64_t t = 0; t < T; ++t)
        for (int64_t c = 0; c < C; ++c) {
            double acc = 0.0;
            for (int64_t j = 0; j < K; ++j) acc += static_cast<double>(w[c * K + j]) * X[(t + j) * C + c];
            y[t * C + c] = silu(static_cast<float>(acc));
        }
    for (int64_t i = 0; i < S * C; ++i) state[i] = X[T * C + i];
}

}  // namespace mlxmtp::detail::ref
