// Scalar reference: the three normalisations of the Qwen3.5 text model. fp32 in/out,
// double accumulation of the sum of squares; each row of `n` features is normalised
// independently; x may alias y.
#pragma once
#include <cstdint>

namespace mlxmtp::detail::ref {

// Qwen3_5RMSNorm (zero-centred weight, "Gemma style"):
//   y = x * rsqrt(mean(x^2) + eps) * (1 + w)
// Used for input/post_attention layernorms, the final norm, q_norm/k_norm (per head, over
// head_dim) and the MTP norms.  x, y: [rows, n]; w: [n].
void rmsnorm_1p(const float *x, int64_t rows, int64_t n, const float *w, float eps, float *y);

// Qwen3_5RMSNormGated (Gated DeltaNet output norm, plain weight, gate after the norm):
//   y = (x * rsqrt(mean(x^2) + eps)) * w * silu(z)
// x, z, y: [rows, n] (one row per token and value head, n = linear_value_head_dim); w: [n].
void rmsnorm_gated(const float *x, const float *z, int64_t rows, int64_t n, const float *w,
                   float eps, float *y);

// L2 norm with eps inside the rsqrt (fla's l2norm): y = x * rsqrt(sum(x^2) + eps).
void l2norm(const float *x, int64_t rows, int64_t n, float eps, float *y);

inline float silu(float x) { return x / (1.0f + __builtin_expf(-x)); }
inline float sigmoid(float x) { return 1.0f / (1.0f + __builtin_expf(-x)); }
// torch softplus with beta 1, threshold 20.
float softplus(float x);

}  // namespace mlxmtp::detail::ref
