#include "ref/mlp.h"

#include "ref/norm.h"

#include <vector>

namespace mlxmtp::detail::ref {

void swiglu_mlp(const mlp_weights &w, const float *x, int64_t T, float *out) {
    const int64_t I = w.gate_proj.rows;
    std::vector<float> gt(T * I), up(T * I);
    matmul(w.gate_proj, x, T, gt.data());
    matmul(w.up_proj, x, T, up.data());
    for (int64_t i = 0; i < T * I; ++i) gt[i] = silu(gt[i]) * up[i];
    matmul(w.down_proj, gt.data(), T, out);
}

}  // namespace mlxmtp::detail::ref
