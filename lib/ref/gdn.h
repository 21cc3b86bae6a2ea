// Scalar reference: the Gated DeltaNet core (gates and the delta-rule recurrence).
//
// Shapes: q, k [T, Hk, dk]; v [T, Hv, dv]; g, beta [T, Hv]; state [Hv, dk, dv] fp32 with
// S[h][i][j], i over dk (key dim), j over dv (value dim); o [T, Hv, dv].
// Value head h reads key head h / (Hv / Hk) (repeat_interleave).
#pragma once
#include <cstdint>

namespace mlxmtp::detail::ref {

// beta[t,h] = sigmoid(b[t,h]);  g[t,h] = -exp(A_log[h]) * softplus(a[t,h] + dt_bias[h])
// (log-decay, <= 0; the per-token decay factor is exp(g)).  a, b: [T, Hv].
void gdn_gates(const float *a, const float *b, int64_t T, int64_t Hv, const float *A_log,
               const float *dt_bias, float *g, float *beta);

// Recurrent form, one token at a time; q and k must already be L2-normalised and q scaled
// by dk^-0.5.  For each t and value head h:
//   S      = exp(g[t,h]) * S
//   delta  = beta[t,h] * (v[t,h] - S^T k[t,kh])
//   S     += k[t,kh] (outer) delta
//   o[t,h] = S^T q[t,kh]            (the state AFTER token t's update)
void gdn_recurrent(const float *q, const float *k, const float *v, const float *g,
                   const float *beta, int64_t T, int64_t Hk, int64_t Hv, int64_t dk, int64_t dv,
                   float *state, float *o);

// Chunked (WY / UT-transform) form of the same recurrence, as HF's
// torch_chunk_gated_delta_rule with chunk size `chunk`: same inputs, same outputs and final
// state up to rounding.  Within a chunk, with G = cumsum(g) (chunk-local):
//   A = strict_lower((beta k) k^T * exp(G_i - G_j));  U = (I+A)^-1 (beta v);
//   W = (I+A)^-1 (beta k exp(G));   v' = U - W S;
//   o = (q exp(G)) S + lower_incl_diag(q k^T * exp(G_i - G_j)) v';
//   S = exp(G_last) S + (k exp(G_last - G))^T v'.
void gdn_chunked(const float *q, const float *k, const float *v, const float *g,
                 const float *beta, int64_t T, int64_t Hk, int64_t Hv, int64_t dk, int64_t dv,
                 float *state, float *o, int64_t chunk = 64);

}  // namespace mlxmtp::detail::ref
