#version 450
// Y[n, m] = sum_k W[m, k] * X[n, k] for n < N_COLS activation columns.
// W row-major [M, K]: WEIGHT_F32 (float) or WEIGHT_BF16 (two bf16 per uint).
// One workgroup per output row; fp32 accumulation.  (Foundation version: the
// bandwidth-tuned variants live beside it.)
#define WG_SIZE 64
#ifndef N_COLS
#define N_COLS 1
#endif
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/reduce.glsl"
#if defined(WEIGHT_BF16)
layout(std430, binding = 0) readonly buffer Wt { uint w[]; };
#else
layout(std430, binding = 0) readonly buffer Wt { float w[]; };
#endif
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint M; uint K; } pc;
void main() {
    uint m = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (m >= pc.M) return;  // uniform per workgroup
    float acc[N_COLS];
    for (int n = 0; n < N_COLS; ++n) acc[n] = 0.0;
#if defined(WEIGHT_BF16)
    uint row = m * (pc.K / 2);
    for (uint k2 = gl_LocalInvocationID.x; k2 < pc.K / 2; k2 += WG_SIZE) {
        uint word = w[row + k2];
        float w0 = bf16_lo(word), w1 = bf16_hi(word);
        for (int n = 0; n < N_COLS; ++n)
            acc[n] += w0 * x[n * pc.K + 2 * k2] + w1 * x[n * pc.K + 2 * k2 + 1];
    }
#else
    uint row = m * pc.K;
    for (uint k = gl_LocalInvocationID.x; k < pc.K; k += WG_SIZE) {
        float wv = w[row + k];
        for (int n = 0; n < N_COLS; ++n) acc[n] += wv * x[n * pc.K + k];
    }
#endif
    for (int n = 0; n < N_COLS; ++n) {
        float s = workgroup_sum(acc[n]);
        if (gl_LocalInvocationID.x == 0) y[n * pc.M + m] = s;
    }
}
