#version 450
// Y[n, row0 + m] = sum_k W[m, k] * X[n, k] for n < N_COLS activation columns
// (1..16): the decode / MTP-verify matrix-vector product.  One workgroup per
// output row (a chunk of a possibly split weight: rows [row0, row0 + M));
// fp32 accumulation.  Every column is accumulated in the same order whatever
// N_COLS is, so results are bit-identical for any batch (batch invariance).
// Weight formats: WEIGHT_F32, WEIGHT_BF16 (two bf16 per uint), WEIGHT_MXFP4,
// WEIGHT_MXFP8 (packed words + E8M0 scale bytes, group 32).
#define WG_SIZE 64
#ifndef N_COLS
#define N_COLS 1
#endif
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/reduce.glsl"
#include "common/mx.glsl"
#if defined(WEIGHT_F32)
layout(std430, binding = 0) readonly buffer Wt { float w[]; };
#else
layout(std430, binding = 0) readonly buffer Wt { uint w[]; };
#endif
layout(std430, binding = 1) readonly buffer Sc { uint sc[]; };  // MX scales (unused otherwise)
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint M; uint K; uint ystride; uint row0; } pc;

void main() {
    uint m = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (m >= pc.M) return;  // uniform per workgroup
    uint tid = gl_LocalInvocationID.x;
    float acc[N_COLS];
    for (int n = 0; n < N_COLS; ++n) acc[n] = 0.0;
#if defined(WEIGHT_BF16)
    uint row = m * (pc.K / 2);
    for (uint k2 = tid; k2 < pc.K / 2; k2 += WG_SIZE) {
        uint word = w[row + k2];
        float w0 = bf16_lo(word), w1 = bf16_hi(word);
        for (int n = 0; n < N_COLS; ++n) {
            uint xb = n * pc.K + 2 * k2;
            acc[n] += w0 * x[xb] + w1 * x[xb + 1];
        }
    }
#elif defined(WEIGHT_MXFP4) || defined(WEIGHT_MXFP8)
#if defined(WEIGHT_MXFP4)
    const uint WPG = 4u;  // words per group of 32
    const uint EPW = 8u;  // elements per word
#else
    const uint WPG = 8u;
    const uint EPW = 4u;
#endif
    uint groups = pc.K / 32u;
    for (uint g = tid; g < groups; g += WG_SIZE) {
        float s = e8m0_scale(MX_BYTE(sc, m * groups + g));
        uint wbase = (m * groups + g) * WPG;
        float part[N_COLS];
        for (int n = 0; n < N_COLS; ++n) part[n] = 0.0;
        for (uint j = 0u; j < WPG; ++j) {
            uint word = w[wbase + j];
            for (uint e = 0u; e < EPW; ++e) {
#if defined(WEIGHT_MXFP4)
                float wv = e2m1((word >> (4u * e)) & 15u);
#else
                float wv = e4m3((word >> (8u * e)) & 255u);
#endif
                uint k = g * 32u + j * EPW + e;
                for (int n = 0; n < N_COLS; ++n) part[n] += wv * x[n * pc.K + k];
            }
        }
        for (int n = 0; n < N_COLS; ++n) acc[n] += s * part[n];
    }
#else
    uint row = m * pc.K;
    for (uint k = tid; k < pc.K; k += WG_SIZE) {
        float wv = w[row + k];
        for (int n = 0; n < N_COLS; ++n) acc[n] += wv * x[n * pc.K + k];
    }
#endif
    for (int n = 0; n < N_COLS; ++n) {
        float s = workgroup_sum(acc[n]);
        if (tid == 0u) y[n * pc.ystride + pc.row0 + m] = s;
    }
}
