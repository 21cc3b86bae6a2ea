// Scalar reference: SwiGLU MLP.
#pragma once
#include "ref/linear.h"

namespace mlxmtp::detail::ref {

struct mlp_weights {
    weight_view gate_proj;  // [I, H]
    weight_view up_proj;    // [I, H]
    weight_view down_proj;  // [H, I]
};

// out = down_proj( silu(gate_proj x) * (up_proj x) );  x: [T, H] (post_attention_layernorm
// output), out: [T, H].
void swiglu_mlp(const mlp_weights &w, const float *x, int64_t T, float *out);

}  // namespace mlxmtp::detail::ref
