#version 450
// Y[n, row0 + m] = sum_k W[m, k] * X[n, k] for n < N_COLS activation columns
// (1..16): the decode / MTP-verify matrix-vector product, fp32 accumulation.
// Weight rows are chunks of a possibly split weight: rows [row0, row0 + M).
// Formats: WEIGHT_F32, WEIGHT_BF16 (two bf16 per uint), WEIGHT_MXFP4,
// WEIGHT_MXFP8 (packed words + E8M0 scale bytes, group 32).
//
// With subgroup arithmetic (HAS_SUBGROUP_ARITH), each subgroup owns ROWS
// whole rows (register blocking: every x load serves ROWS rows and ROWS
// weight loads are in flight): lanes stride over the rows in units (8 bf16,
// one MX group of 32, 4 f32) and reduce with subgroupAdd, so there are no
// barriers and the weight stream is coalesced.  x is read as vec4.  Without
// subgroup arithmetic, one workgroup per ROWS rows with a shared-memory
// reduction.
//
// Batch invariance: per (row, column) a lane accumulates its units in
// increasing order and, inside a unit, the elements in increasing k order,
// each with one explicit fma; then the same
// subgroupAdd (or workgroup tree).  None of this depends on N_COLS or ROWS,
// so column j's result is bit-identical whatever the batch (MTP verify ==
// single-token decode).  The host may pick ROWS per N_COLS freely.
//
// MX decoding is bit-exact with lib/ref/linear.h: E2M1 through a 16-entry
// shared-memory table (no local-memory array), E4M3 arithmetically (exact:
// all intermediate values are small dyadic rationals), E8M0 0 -> 2^-127,
// 255 -> inf; the weight is the decoded element times its group scale.
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#define WG_SIZE 128
#ifndef N_COLS
#define N_COLS 1
#endif
#ifndef ROWS
#define ROWS 1
#endif
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/mx.glsl"
#if defined(WEIGHT_F32)
layout(std430, binding = 0) readonly buffer Wt { vec4 w4[]; };
#else
layout(std430, binding = 0) readonly buffer Wt { uvec4 w4[]; };
#endif
layout(std430, binding = 1) readonly buffer Sc { uint sc[]; };  // MX scales (unused otherwise)
layout(std430, binding = 2) readonly buffer X { vec4 x4[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint M; uint K; uint ystride; uint row0; } pc;

// MX_WORD_LANES: a lane's unit is one packed word (8 FP4 / 4 FP8 elements)
// instead of a whole group, so x reads are coalesced across lanes (a
// different, but again N_COLS-independent, summation order).  The host
// enables it by default (ops::tuning().mx_word_lanes).
#if defined(WEIGHT_MXFP4) || defined(WEIGHT_MXFP8)
layout(std430, binding = 0) readonly buffer Wt1 { uint w1[]; };
#endif
#if defined(WEIGHT_F32)
#define UNIT 4u
#elif defined(WEIGHT_BF16)
#define UNIT 8u
#elif defined(MX_WORD_LANES) && defined(WEIGHT_MXFP4)
#define UNIT 8u
#elif defined(MX_WORD_LANES)
#define UNIT 4u
#else
#define UNIT 32u
#endif

// (Not `precise`: glslang 12 fails on precise global arrays; every update is
// an explicit fma, which the drivers emit as one fused instruction.)
float acc[ROWS][N_COLS];

#if defined(WEIGHT_MXFP4)
shared float lut4[16];
void init_tables() {
    if (gl_LocalInvocationIndex < 16u) lut4[gl_LocalInvocationIndex] = e2m1(gl_LocalInvocationIndex);
    barrier();
}
#else
void init_tables() {}
#endif

#if defined(WEIGHT_MXFP8)
// E4M3 without branches or tables: exponent field + 120 gives the normal
// values exactly; for e == 0 that gives 2^-7 (1 + m/8) and the subnormal
// value m/8 2^-6 is 2f - 2^-6, which is below f exactly then and above it
// for every normal code.  0x7F -> 480 as MLX.
float e4m3_fast(uint c) {
    float f = uintBitsToFloat(((c & 0x7Fu) << 20) + 0x3C000000u);
    float v = min(f, fma(2.0, f, -0.015625));
    return uintBitsToFloat(floatBitsToUint(v) | ((c & 0x80u) << 24));
}
#endif

// acc[r][n] += w[0..3] . x4[xi(n)] in k order, for one row r.
#define FMA4(r, a, b, c, d, xo)                                           \
    for (int n = 0; n < N_COLS; ++n) {                                   \
        vec4 xv = x4[uint(n) * kq + (xo)];                               \
        acc[r][n] = fma(a, xv.x, acc[r][n]);                             \
        acc[r][n] = fma(b, xv.y, acc[r][n]);                             \
        acc[r][n] = fma(c, xv.z, acc[r][n]);                             \
        acc[r][n] = fma(d, xv.w, acc[r][n]);                             \
    }

// Accumulates unit u of rows m[0..ROWS).  kq = K / 4 (vec4s per x column).
void accumulate_unit(uint m[ROWS], uint u, uint kq) {
#if defined(WEIGHT_F32)
    vec4 wv[ROWS];
    for (int r = 0; r < ROWS; ++r) wv[r] = w4[m[r] * kq + u];
    for (int n = 0; n < N_COLS; ++n) {
        vec4 xv = x4[uint(n) * kq + u];
        for (int r = 0; r < ROWS; ++r) {
            acc[r][n] = fma(wv[r].x, xv.x, acc[r][n]);
            acc[r][n] = fma(wv[r].y, xv.y, acc[r][n]);
            acc[r][n] = fma(wv[r].z, xv.z, acc[r][n]);
            acc[r][n] = fma(wv[r].w, xv.w, acc[r][n]);
        }
    }
#elif defined(WEIGHT_BF16)
    uvec4 q[ROWS];
    uint units = kq / 2u;
    for (int r = 0; r < ROWS; ++r) q[r] = w4[m[r] * units + u];
    for (int n = 0; n < N_COLS; ++n) {
        vec4 xa = x4[uint(n) * kq + 2u * u], xb = x4[uint(n) * kq + 2u * u + 1u];
        for (int r = 0; r < ROWS; ++r) {
            acc[r][n] = fma(bf16_lo(q[r].x), xa.x, acc[r][n]);
            acc[r][n] = fma(bf16_hi(q[r].x), xa.y, acc[r][n]);
            acc[r][n] = fma(bf16_lo(q[r].y), xa.z, acc[r][n]);
            acc[r][n] = fma(bf16_hi(q[r].y), xa.w, acc[r][n]);
            acc[r][n] = fma(bf16_lo(q[r].z), xb.x, acc[r][n]);
            acc[r][n] = fma(bf16_hi(q[r].z), xb.y, acc[r][n]);
            acc[r][n] = fma(bf16_lo(q[r].w), xb.z, acc[r][n]);
            acc[r][n] = fma(bf16_hi(q[r].w), xb.w, acc[r][n]);
        }
    }
#elif defined(MX_WORD_LANES)
    uint groups = kq / 8u, words = pc.K / UNIT;
    float s[ROWS];
    uint q[ROWS];
    for (int r = 0; r < ROWS; ++r) {
        q[r] = w1[m[r] * words + u];
        s[r] = e8m0_scale(MX_BYTE(sc, m[r] * groups + u / (32u / UNIT)));
    }
#if defined(WEIGHT_MXFP4)
    for (uint h = 0u; h < 2u; ++h) {
        float wv[ROWS][4];
        for (int r = 0; r < ROWS; ++r)
            for (uint i = 0u; i < 4u; ++i) wv[r][i] = lut4[(q[r] >> (16u * h + 4u * i)) & 15u] * s[r];
        for (int n = 0; n < N_COLS; ++n) {
            vec4 xv = x4[uint(n) * kq + 2u * u + h];
#else
    {
        float wv[ROWS][4];
        for (int r = 0; r < ROWS; ++r)
            for (uint i = 0u; i < 4u; ++i) wv[r][i] = e4m3_fast((q[r] >> (8u * i)) & 255u) * s[r];
        for (int n = 0; n < N_COLS; ++n) {
            vec4 xv = x4[uint(n) * kq + u];
#endif
            for (int r = 0; r < ROWS; ++r) {
                acc[r][n] = fma(wv[r][0], xv.x, acc[r][n]);
                acc[r][n] = fma(wv[r][1], xv.y, acc[r][n]);
                acc[r][n] = fma(wv[r][2], xv.z, acc[r][n]);
                acc[r][n] = fma(wv[r][3], xv.w, acc[r][n]);
            }
        }
    }
#else
    uint groups = kq / 8u;
    float s[ROWS];
    for (int r = 0; r < ROWS; ++r) s[r] = e8m0_scale(MX_BYTE(sc, m[r] * groups + u));
#if defined(WEIGHT_MXFP4)
    uvec4 q[ROWS];
    for (int r = 0; r < ROWS; ++r) q[r] = w4[m[r] * groups + u];
    for (uint j = 0u; j < 4u; ++j) {
        for (uint h = 0u; h < 2u; ++h) {
            float wv[ROWS][4];
            for (int r = 0; r < ROWS; ++r) {
                uint word = q[r][j] >> (16u * h);
                for (uint i = 0u; i < 4u; ++i) wv[r][i] = lut4[(word >> (4u * i)) & 15u] * s[r];
            }
            for (int n = 0; n < N_COLS; ++n) {
                vec4 xv = x4[uint(n) * kq + 8u * u + 2u * j + h];
                for (int r = 0; r < ROWS; ++r) {
                    acc[r][n] = fma(wv[r][0], xv.x, acc[r][n]);
                    acc[r][n] = fma(wv[r][1], xv.y, acc[r][n]);
                    acc[r][n] = fma(wv[r][2], xv.z, acc[r][n]);
                    acc[r][n] = fma(wv[r][3], xv.w, acc[r][n]);
                }
            }
        }
    }
#else
    uvec4 q0[ROWS], q1[ROWS];
    for (int r = 0; r < ROWS; ++r) {
        q0[r] = w4[(m[r] * groups + u) * 2u];
        q1[r] = w4[(m[r] * groups + u) * 2u + 1u];
    }
    for (uint j = 0u; j < 8u; ++j) {
        float wv[ROWS][4];
        for (int r = 0; r < ROWS; ++r) {
            uint word = j < 4u ? q0[r][j] : q1[r][j - 4u];
            for (uint i = 0u; i < 4u; ++i) wv[r][i] = e4m3_fast((word >> (8u * i)) & 255u) * s[r];
        }
        for (int n = 0; n < N_COLS; ++n) {
            vec4 xv = x4[uint(n) * kq + 8u * u + j];
            for (int r = 0; r < ROWS; ++r) {
                acc[r][n] = fma(wv[r][0], xv.x, acc[r][n]);
                acc[r][n] = fma(wv[r][1], xv.y, acc[r][n]);
                acc[r][n] = fma(wv[r][2], xv.z, acc[r][n]);
                acc[r][n] = fma(wv[r][3], xv.w, acc[r][n]);
            }
        }
    }
#endif
#endif
}

void zero_acc() {
    for (int r = 0; r < ROWS; ++r)
        for (int n = 0; n < N_COLS; ++n) acc[r][n] = 0.0;
}

#if defined(HAS_SUBGROUP_ARITH)
// Rows per workgroup assuming the device's default subgroup size; a subgroup
// loops, so a different actual size still covers every row.
#define RPW ((WG_SIZE / SUBGROUP_SIZE) * ROWS)
void main() {
    init_tables();
    uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint kq = pc.K / 4u;
    uint units = pc.K / UNIT;
    uint row_end = min((wg + 1u) * RPW, pc.M);
    for (uint m0 = wg * RPW + gl_SubgroupID * ROWS; m0 < row_end; m0 += gl_NumSubgroups * ROWS) {
        uint m[ROWS];
        for (int r = 0; r < ROWS; ++r) m[r] = min(m0 + uint(r), pc.M - 1u);  // clamped loads, writes skipped
        zero_acc();
        for (uint u = gl_SubgroupInvocationID; u < units; u += gl_SubgroupSize) accumulate_unit(m, u, kq);
        for (int r = 0; r < ROWS; ++r) {
            for (int n = 0; n < N_COLS; ++n) {
                float s = subgroupAdd(acc[r][n]);
                if (subgroupElect() && m0 + uint(r) < row_end) y[uint(n) * pc.ystride + pc.row0 + m0 + uint(r)] = s;
            }
        }
    }
}
#else
#include "common/wg_reduce.glsl"
void main() {
    init_tables();
    uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint m0 = wg * ROWS;
    if (m0 >= pc.M) return;  // uniform per workgroup
    uint kq = pc.K / 4u;
    uint m[ROWS];
    for (int r = 0; r < ROWS; ++r) m[r] = min(m0 + uint(r), pc.M - 1u);
    zero_acc();
    for (uint u = gl_LocalInvocationID.x; u < pc.K / UNIT; u += WG_SIZE) accumulate_unit(m, u, kq);
    for (int r = 0; r < ROWS; ++r) {
        for (int n = 0; n < N_COLS; ++n) {
            float s = wg_sum1(acc[r][n]);
            if (gl_LocalInvocationID.x == 0u && m0 + uint(r) < pc.M) y[uint(n) * pc.ystride + pc.row0 + m0 + uint(r)] = s;
        }
    }
}
#endif
