#version 450
// Y[n, row0 + m] = sum_k W[m, k] * X[n, k] for n < N_COLS activation columns
// (1..16): the decode / MTP-verify matrix-vector product, fp32 accumulation.
// Weight rows are chunks of a possibly split weight: rows [row0, row0 + M).
// Formats: WEIGHT_F32, WEIGHT_BF16 (two bf16 per uint), WEIGHT_MXFP4,
// WEIGHT_MXFP8 (packed words + E8M0 scale bytes, group 32).
//
// With subgroup arithmetic (HAS_SUBGROUP_ARITH), each subgroup owns whole
// rows: lanes stride over the row in 16-byte units (8 bf16, one MX group of
// 32, 4 f32) and reduce with subgroupAdd, so there are no barriers and the
// weight stream is coalesced.  Without it, one workgroup per row with a
// shared-memory reduction.  Either way every column is accumulated in the
// same order whatever N_COLS is: results are bit-identical for any batch
// (batch invariance, which MTP verification relies on).
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#define WG_SIZE 128
#ifndef N_COLS
#define N_COLS 1
#endif
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/mx.glsl"
#if defined(WEIGHT_F32)
layout(std430, binding = 0) readonly buffer Wt { vec4 w4[]; };
layout(std430, binding = 0) readonly buffer Wt1 { float w1[]; };
#else
layout(std430, binding = 0) readonly buffer Wt { uvec4 w4[]; };
layout(std430, binding = 0) readonly buffer Wt1 { uint w1[]; };
#endif
layout(std430, binding = 1) readonly buffer Sc { uint sc[]; };  // MX scales (unused otherwise)
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint M; uint K; uint ystride; uint row0; } pc;

// Elements per 16-byte unit, and whether K is a whole number of units.
#if defined(WEIGHT_F32)
#define UNIT 4u
#elif defined(WEIGHT_BF16)
#define UNIT 8u
#else
#define UNIT 32u
#endif

float acc[N_COLS];

// Accumulates one unit (16 bytes, or 32 bytes for MXFP8) starting at element k of row m.
void accumulate_unit(uint m, uint u) {
    uint k = u * UNIT;
#if defined(WEIGHT_F32)
    vec4 wv = w4[(m * pc.K + k) / 4u];
    for (int n = 0; n < N_COLS; ++n) {
        uint xb = n * pc.K + k;
        acc[n] += wv.x * x[xb] + wv.y * x[xb + 1] + wv.z * x[xb + 2] + wv.w * x[xb + 3];
    }
#elif defined(WEIGHT_BF16)
    uvec4 q = w4[(m * pc.K + k) / 8u];
    float f[8] = float[8](bf16_lo(q.x), bf16_hi(q.x), bf16_lo(q.y), bf16_hi(q.y),
                          bf16_lo(q.z), bf16_hi(q.z), bf16_lo(q.w), bf16_hi(q.w));
    for (int n = 0; n < N_COLS; ++n) {
        uint xb = n * pc.K + k;
        float s = 0.0;
        for (int e = 0; e < 8; ++e) s += f[e] * x[xb + e];
        acc[n] += s;
    }
#else
    uint groups = pc.K / 32u;
    float scale = e8m0_scale(MX_BYTE(sc, m * groups + u));
#if defined(WEIGHT_MXFP4)
    uvec4 q = w4[m * groups + u];
    uint words[4] = uint[4](q.x, q.y, q.z, q.w);
    const uint NW = 4u, EPW = 8u;
#else
    uvec4 q0 = w4[(m * groups + u) * 2u], q1 = w4[(m * groups + u) * 2u + 1u];
    uint words[8] = uint[8](q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w);
    const uint NW = 8u, EPW = 4u;
#endif
    float part[N_COLS];
    for (int n = 0; n < N_COLS; ++n) part[n] = 0.0;
    for (uint j = 0u; j < NW; ++j) {
        for (uint e = 0u; e < EPW; ++e) {
#if defined(WEIGHT_MXFP4)
            float wv = e2m1((words[j] >> (4u * e)) & 15u);
#else
            float wv = e4m3((words[j] >> (8u * e)) & 255u);
#endif
            uint kk = k + j * EPW + e;
            for (int n = 0; n < N_COLS; ++n) part[n] += wv * x[n * pc.K + kk];
        }
    }
    for (int n = 0; n < N_COLS; ++n) acc[n] += scale * part[n];
#endif
}

#if defined(HAS_SUBGROUP_ARITH)
// Rows per workgroup assuming the device's default subgroup size; a subgroup
// loops, so a different actual size still covers every row.
#define RPW (WG_SIZE / SUBGROUP_SIZE)
void main() {
    uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint units = pc.K / UNIT;
    uint row_end = min((wg + 1u) * RPW, pc.M);
    for (uint m = wg * RPW + gl_SubgroupID; m < row_end; m += gl_NumSubgroups) {
        for (int n = 0; n < N_COLS; ++n) acc[n] = 0.0;
        for (uint u = gl_SubgroupInvocationID; u < units; u += gl_SubgroupSize) accumulate_unit(m, u);
        for (int n = 0; n < N_COLS; ++n) {
            float s = subgroupAdd(acc[n]);
            if (subgroupElect()) y[n * pc.ystride + pc.row0 + m] = s;
        }
    }
}
#else
#define RPW 1
#include "common/reduce.glsl"
void main() {
    uint m = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (m >= pc.M) return;  // uniform per workgroup
    for (int n = 0; n < N_COLS; ++n) acc[n] = 0.0;
    for (uint u = gl_LocalInvocationID.x; u < pc.K / UNIT; u += WG_SIZE) accumulate_unit(m, u);
    for (int n = 0; n < N_COLS; ++n) {
        float s = workgroup_sum(acc[n]);
        if (gl_LocalInvocationID.x == 0u) y[n * pc.ystride + pc.row0 + m] = s;
    }
}
#endif
