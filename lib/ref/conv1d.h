// Scalar reference: causal depthwise conv1d with carried state, then SiLU (the Gated
// DeltaNet short convolution, kernel K = linear_conv_kernel_dim = 4, no bias).
#pragma once
#include <cstdint>

namespace mlxmtp::detail::ref {

// x: [T, C] pre-conv activations (token-major); w: [C, K] (conv1d.weight [C,1,K] squeezed;
// w[c, K-1] multiplies the current token); state: [K-1, C], the last K-1 pre-conv rows seen
// before this call, oldest first (zeros at sequence start); updated in place to the last
// K-1 rows of [state; x].  y: [T, C] = silu(sum_j w[c,j] * X[t-(K-1)+j, c]) where X is
// [state; x].  y must not alias x.
void conv1d_causal_silu(const float *x, int64_t T, int64_t C, const float *w, int64_t K,
                        float *state, float *y);

}  // namespace mlxmtp::detail::ref
