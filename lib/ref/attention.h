// Scalar reference: gated full attention ("full_attention" layers and the MTP layer).
#pragma once
#include "ref/linear.h"
#include "ref/rope.h"

#include <vector>

namespace mlxmtp::detail::ref {

struct attn_weights {
    int64_t hidden = 0;                 // H
    int64_t Hq = 0, Hkv = 0, hd = 0;    // heads and head_dim
    float eps = 1e-6f;
    bool output_gate = true;            // attn_output_gate
    rope_params rope;
    weight_view q_proj;   // [Hq*hd*2, H] with output gate: per head j, rows [2j*hd, 2j*hd+hd) =
                          // query j, rows [2j*hd+hd, 2(j+1)*hd) = gate j;  [Hq*hd, H] without
    weight_view k_proj;   // [Hkv*hd, H]
    weight_view v_proj;   // [Hkv*hd, H]
    weight_view o_proj;   // [H, Hq*hd]
    const float *q_norm = nullptr;  // [hd], 1+w RMSNorm per head
    const float *k_norm = nullptr;  // [hd]
};

// KV cache of one attention layer: k (after k_norm and RoPE) and v, [len, Hkv, hd] each.
struct kv_cache {
    std::vector<float> k, v;
    int64_t len = 0;
    void truncate(int64_t n, int64_t row);  // keep the first n positions (row = Hkv*hd)
};

// Causal multi-head attention core with GQA: q [T, Hq, hd]; k, v [S, Hkv, hd] with S >= T,
// the T queries being the last T positions (query t sees keys 0 .. S-T+t).  Query head j
// uses kv head j / (Hq/Hkv).  softmax(q.k * scale) in double. o: [T, Hq, hd].
void attention_core(const float *q, const float *k, const float *v, int64_t T, int64_t S,
                    int64_t Hq, int64_t Hkv, int64_t hd, float scale, float *o);

struct attn_trace {
    std::vector<float> q, gate;   // [T, Hq*hd]  q after q_norm and RoPE; raw gate (pre-sigmoid)
    std::vector<float> k, v;      // [T, Hkv*hd] k after k_norm and RoPE
    std::vector<float> core;      // [T, Hq*hd]  attention output before the gate
};

// x: [T, H] (input_layernorm output); pos: the positions of the T tokens (text: one row;
// pos_h/pos_w for M-RoPE rows, may be null); appends T rows to `cache`; out: [T, H].
//   qg = q_proj x; q, gate = per-head split; q = rmsnorm_1p(q, q_norm), k = rmsnorm_1p(k, k_norm)
//   q, k = rope(q, k); o = attention_core(q, cache k/v, scale hd^-0.5);
//   o *= sigmoid(gate); out = o_proj o
void attention_layer(const attn_weights &w, const float *x, int64_t T, const int64_t *pos,
                     kv_cache &cache, float *out, const int64_t *pos_h = nullptr,
                     const int64_t *pos_w = nullptr, attn_trace *trace = nullptr);

}  // namespace mlxmtp::detail::ref
