// Scalar reference: the whole Gated DeltaNet ("linear_attention") mixer of one layer.
#pragma once
#include "ref/linear.h"

#include <vector>

namespace mlxmtp::detail::ref {

struct gdn_weights {
    int64_t hidden = 0;               // H
    int64_t Hk = 0, Hv = 0, dk = 0, dv = 0, K = 4;
    float eps = 1e-6f;                // rms_norm_eps (gated norm); the l2norm eps is fixed 1e-6
    weight_view in_proj_qkv;          // [2*Hk*dk + Hv*dv, H]: rows q | k | v, head-major
    weight_view in_proj_z;            // [Hv*dv, H]
    weight_view in_proj_b;            // [Hv, H]
    weight_view in_proj_a;            // [Hv, H]
    weight_view out_proj;             // [H, Hv*dv]
    const float *conv_w = nullptr;    // [C, K], C = 2*Hk*dk + Hv*dv
    const float *A_log = nullptr;     // [Hv]
    const float *dt_bias = nullptr;   // [Hv]
    const float *norm_w = nullptr;    // [dv]
    int64_t conv_channels() const { return 2 * Hk * dk + Hv * dv; }
};

// Per-sequence state of one GDN layer.
struct gdn_state {
    std::vector<float> conv;  // [K-1, C] pre-conv rows, oldest first
    std::vector<float> ssm;   // [Hv, dk, dv] fp32 recurrent state
    void reset(const gdn_weights &w);
};

// Optional intermediate outputs (for kernel tests), each token-major.
struct gdn_trace {
    std::vector<float> qkv;   // [T, C] in_proj_qkv output (pre-conv)
    std::vector<float> z;     // [T, Hv*dv]
    std::vector<float> conv;  // [T, C] after conv + silu
    std::vector<float> q, k;  // [T, Hk*dk] after l2norm (q also scaled by dk^-0.5)
    std::vector<float> g, beta;  // [T, Hv]
    std::vector<float> core;  // [T, Hv*dv] recurrence output
    std::vector<float> normed;   // [T, Hv*dv] after the gated norm
};

// x: [T, H], the input_layernorm output; out: [T, H] (the mixer output, before the residual).
// chunked = true runs gdn_chunked (64) instead of gdn_recurrent; both carry `st`.
void gdn_layer(const gdn_weights &w, const float *x, int64_t T, gdn_state &st, float *out,
               bool chunked = false, gdn_trace *trace = nullptr);

}  // namespace mlxmtp::detail::ref
