// Launchers for the per-layer kernels of the Qwen3.5 text model (Gated
// DeltaNet, gated full attention, MLP).  Each records dispatches on a
// command_stream and puts barriers between its own internal steps, but not
// before its first or after its last dispatch: callers add a barrier between
// dependent ops.  All activations are fp32, row-major [tokens, features].
// Exact math: docs/model-math.md and ../shared/ref/qwen35_arch.md sections 1-2.
#pragma once
#include "util/error.h"
#include "vk/command.h"

namespace mlxmtp::detail::ops {

// Largest head dims the kernels take (gdn_recurrence_f32 keeps a key head's
// rows in registers; attn_core_f32 keeps a head's dims in DPT registers of
// 128 threads).  engine_model checks a config against them at open.
constexpr uint32_t kMaxGdnKeyDim = 256;
constexpr uint32_t kMaxAttnHeadDim = 1024;

// ---- Gated DeltaNet --------------------------------------------------------

struct gdn_dims {
    uint32_t T;        // tokens in this call (1..any)
    uint32_t Hk, Hv;   // key heads, value heads (Hv % Hk == 0; value head j uses key head j / (Hv/Hk))
    uint32_t dk, dv;   // head dims
    uint32_t K;        // conv kernel size (4)
    float eps;         // rms_norm_eps, for the gated norm
    uint32_t C() const { return 2 * Hk * dk + Hv * dv; }
};

// Causal depthwise conv over time + SiLU, continuing from `state_in`.
//   qkv      [T, C]     pre-conv projections (q | k | v, head-major)
//   w        [C, K]     conv1d.weight (f32), w[c, K-1] multiplies the current token
//   state_in [K-1, C]   the previous K-1 pre-conv rows, oldest first (read only)
//   u        [T, C]     silu(conv) output
//   snapshots valid(): [T, K-1, C], the window after each token t (the last is
//     the new state); else the final window goes to state_out [K-1, C] (which
//     may be state_in itself).
void gdn_conv(command_stream &cs, const gdn_dims &d, const buffer_span &qkv, const buffer_span &w,
              const buffer_span &state_in, const buffer_span &state_out, const buffer_span &u,
              const buffer_span &snapshots);

// The delta-rule recurrence, fused with its inputs' preprocessing:
//   q, k = l2norm over dk (eps 1e-6 inside the rsqrt), q *= dk^-0.5;
//   beta = sigmoid(b);  g = -exp(A_log) * softplus(a + dt_bias);
//   S = exp(g) S;  S += k (beta (v - S^T k))^T;  o = S^T q   (per value head, fp32)
//   u        [T, C]          conv output (q | k | v)
//   a, b     [T, Hv]         in_proj_a / in_proj_b outputs
//   A_log, dt_bias [Hv]      f32
//   state_in [Hv, dv, dk]    f32 recurrent state S[h][i][j] before the first token, column-major
//                            per head (element (i, j) at j * dk + i; read only)
//   o        [T, Hv * dv]
//   snapshots valid(): [T, Hv, dv, dk], the state after each token t (the
//     last is the new state); else the final state goes to state_out (which
//     may be state_in itself).
//   norm != nullptr: gated_rms_norm below runs in the same dispatch (the
//     head's last workgroup to finish reads its o rows back): norm->y gets
//     it, `o` still receives the raw output.  norm->arrivals is one uint per
//     value head, zero before the first such dispatch and left zero by each.
struct gdn_norm_epilogue {
    buffer_span z, w, y;    // as gated_rms_norm's z, w, y
    buffer_span arrivals;   // [Hv] uint32, zeros
    buffer_span y_pairs;    // optional: y also as (hi, lo) pair words, the output projection's x pairs (XP_OUT)
    bool y_pairs_f16 = false;  // y_pairs as fp16 token-pair halves instead (ops::rms_norm's yp_f16);
    uint32_t y_pairs_t0 = 0;   // then y_pairs holds every token, this dispatch's first at this index
    // The stage of the counters' last dispatch (command_stream::claim_stage),
    // kept by their owner: one set of counters serves one dispatch at a time.
    uint64_t *last_stage = nullptr;
};
void gdn_recurrence(command_stream &cs, const gdn_dims &d, const buffer_span &u, const buffer_span &a,
                    const buffer_span &b, const buffer_span &A_log, const buffer_span &dt_bias,
                    const buffer_span &state_in, const buffer_span &state_out, const buffer_span &o,
                    const buffer_span &snapshots, const gdn_norm_epilogue *norm = nullptr);

// y = (o * rsqrt(mean_dv(o^2) + eps)) * w * silu(z), per (token, value head).
//   o, z, y [T, Hv * dv];  w [dv] (plain weight, not 1+w)
void gated_rms_norm(command_stream &cs, const gdn_dims &d, const buffer_span &o, const buffer_span &z,
                    const buffer_span &w, const buffer_span &y);

// ---- Gated full attention ---------------------------------------------------

struct attn_dims {
    uint32_t T;         // new tokens in this call
    uint32_t Hq, Hkv;   // query heads, kv heads (q head j uses kv head j / (Hq/Hkv))
    uint32_t hd;        // head dim
    uint32_t rot;       // rotary dims (head_dim * partial_rotary_factor), rotate_half pairs j, j + rot/2
    uint32_t sec_t, sec_h, sec_w;  // mrope_section (interleaved: freq i uses row H if i%3==1 && i<3*sec_h,
                                   // W if i%3==2 && i<3*sec_w, else T)
    float theta;        // rope_theta
    float eps;          // rms_norm_eps for q_norm / k_norm (1+w)
    uint32_t cache_pos; // tokens already in the cache; new tokens go to [cache_pos, cache_pos + T)
    uint32_t max_ctx;   // cache capacity in tokens
};

// q/k RMSNorm (1+w) per head, M-RoPE on the first `rot` dims, K/V appended to the cache.
//   qg        [T, Hq * 2 * hd]   q_proj output: per head, hd query values then hd gate values
//   k, v      [T, Hkv * hd]
//   q_norm, k_norm [hd] (f32)
//   positions [3, T] int32       rope positions (rows t, h, w)
//   q_out     [T, Hq, hd]        normed + rotated queries
//   k_cache, v_cache [Hkv, max_ctx, hd]  f32
void attn_prepare(command_stream &cs, const attn_dims &d, const buffer_span &qg, const buffer_span &k,
                  const buffer_span &v, const buffer_span &q_norm, const buffer_span &k_norm,
                  const buffer_span &positions, const buffer_span &q_out, const buffer_span &k_cache,
                  const buffer_span &v_cache);

// out[t] = (softmax(q_t K^T / sqrt(hd), causal: keys 0..cache_pos + t) V) * sigmoid(gate_t)
//   q [T, Hq, hd];  qg [T, Hq * 2 * hd] (the gate halves);  out [T, Hq * hd]
// split != nullptr: split-K across workgroups for long contexts (attn_core_f32
// SPLIT): a query that sees n keys runs as S = min(ceil(n / split_keys),
// max_splits) workgroups over contiguous key ranges, combined in split order
// by the last to finish.  S depends on n alone, so results stay
// batch-invariant; S = 1 (n <= split_keys) gives the unsplit kernel's bits.
struct attn_split {
    uint32_t split_keys = 512, max_splits = 32;
    buffer_span partials;  // [T, Hq, max_splits, hd + 2] f32 scratch
    buffer_span arrivals;  // [T, Hq] uint32, zeros before the first call and left zero by each
    // The stage of its last dispatch (command_stream::claim_stage): one
    // scratch serves one dispatch at a time, so a second in the same stage
    // is an internal error.
    mutable uint64_t last_stage = 0;
};
// out_pairs (optional): out also as (hi, lo) pair words (XP_OUT), the
// output projection's x pairs (linear()'s xpairs); out_f16: as fp16
// token-pair halves instead (ops::rms_norm's yp_f16).
void attn_core(command_stream &cs, const attn_dims &d, const buffer_span &q, const buffer_span &qg,
               const buffer_span &k_cache, const buffer_span &v_cache, const buffer_span &out,
               const attn_split *split = nullptr, const buffer_span &out_pairs = {}, bool out_f16 = false);

// ---- MLP -------------------------------------------------------------------

// y[i] = silu(gate[i]) * up[i], n elements.
void swiglu(command_stream &cs, const buffer_span &gate, const buffer_span &up, const buffer_span &y, uint32_t n);

}  // namespace mlxmtp::detail::ops
