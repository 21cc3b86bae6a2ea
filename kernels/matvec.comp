#version 450
// Y[n, row0 + m] = sum_k W[m, k] * X[n, k] for n < N_COLS activation columns
// (1..16): the decode / MTP-verify matrix-vector product, fp32 accumulation.
// Weight rows are chunks of a possibly split weight: rows [row0, row0 + M).
// Formats: WEIGHT_F32, WEIGHT_BF16 (two bf16 per uint), WEIGHT_MXFP4,
// WEIGHT_MXFP8 (packed words + E8M0 scale bytes, group 32).
//
// Work split.  A lane's unit is 4 f32, 8 bf16 (one uvec4) or one packed MX
// word (8 FP4 / 4 FP8 elements), so a subgroup's weight loads are one
// contiguous run per row and its x loads are contiguous too.  With subgroup
// arithmetic (HAS_SUBGROUP_ARITH) a subgroup owns ROWS rows (register
// blocking: every x load serves ROWS rows) over one of KSPLIT contiguous
// parts of K; the KSPLIT subgroups of a row set add their subgroupAdd
// partials in part order through shared memory (no atomics).  KSPLIT > 1
// gives tall-K, few-row weights (down / out projections, the tiny gate
// projections) enough subgroups to keep the memory system busy.  Each lane
// issues the loads of UNROLL units for all ROWS rows before it uses any of
// them (bf16: 2 units, 32 bytes per row in flight; MX formats: 2 for
// n <= 2, else 1: more raised register use and lowered occupancy).
// Without subgroup arithmetic: one workgroup per ROWS rows, shared-memory
// tree reduction.
//
// Batch invariance: per (row, column) a lane accumulates its units in
// increasing order and, inside a unit, the elements in increasing k order,
// each with one explicit fma; then the same subgroupAdd (or workgroup
// tree) and the same part order.  None of this depends on N_COLS, ROWS or
// UNROLL, only on (K, KSPLIT, subgroup size), which the host picks without
// looking at the column count, so column j's result is bit-identical
// whatever the batch (MTP verify == single-token decode).
//
// MX decoding is bit-exact with lib/ref/linear.h: E2M1 through a 16-entry
// shared-memory table (no local-memory array), E4M3 arithmetically (exact:
// all intermediate values are small dyadic rationals), E8M0 0 -> 2^-127,
// 255 -> inf; the weight is the decoded element times its group scale.
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#extension GL_EXT_control_flow_attributes : enable
#if defined(HAS_SUBGROUP_ARITH)
#define WG_SIZE 256
#else
#define WG_SIZE 128
#endif
#ifndef N_COLS
#define N_COLS 1
#endif
#ifndef ROWS
#define ROWS 1
#endif
#ifndef KSPLIT
#define KSPLIT 1
#endif
#ifndef UNROLL
#define UNROLL 2
#endif
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/mx.glsl"
#if defined(WEIGHT_F32)
layout(std430, binding = 0) readonly buffer Wt { vec4 w4[]; };
#elif defined(WEIGHT_BF16)
layout(std430, binding = 0) readonly buffer Wt { uvec4 w4[]; };
#else
layout(std430, binding = 0) readonly buffer Wt { uint w1[]; };
#endif
layout(std430, binding = 1) readonly buffer Sc { uint sc[]; };  // MX scales (unused otherwise)
layout(std430, binding = 2) readonly buffer X { vec4 x4[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint M; uint K; uint ystride; uint row0; } pc;

#if defined(WEIGHT_F32) || defined(WEIGHT_MXFP8)
#define UNIT 4u
#else
#define UNIT 8u
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

// One unit of ROWS rows, as loaded (decoded later, after every load of the
// batch is in flight).
struct unit_w {
#if defined(WEIGHT_F32)
    vec4 w[ROWS];
#elif defined(WEIGHT_BF16)
    uvec4 q[ROWS];
#else
    uint q[ROWS];
    uint s[ROWS];  // the scale byte
#endif
};

unit_w load_unit(uint m[ROWS], uint u, uint kq) {
    unit_w d;
#if defined(WEIGHT_F32)
    for (int r = 0; r < ROWS; ++r) d.w[r] = w4[m[r] * kq + u];
#elif defined(WEIGHT_BF16)
    for (int r = 0; r < ROWS; ++r) d.q[r] = w4[m[r] * (kq / 2u) + u];
#else
    uint words = pc.K / UNIT, groups = pc.K / 32u;
    for (int r = 0; r < ROWS; ++r) {
        d.q[r] = w1[m[r] * words + u];
        d.s[r] = MX_BYTE(sc, m[r] * groups + u / (32u / UNIT));
    }
#endif
    return d;
}

// acc[r][n] += unit u of row r . x[n] in k order.  kq = K / 4 (vec4s per x column).
void compute_unit(unit_w d, uint u, uint kq) {
#if defined(WEIGHT_F32)
    for (int n = 0; n < N_COLS; ++n) {
        vec4 xv = x4[uint(n) * kq + u];
        for (int r = 0; r < ROWS; ++r) {
            acc[r][n] = fma(d.w[r].x, xv.x, acc[r][n]);
            acc[r][n] = fma(d.w[r].y, xv.y, acc[r][n]);
            acc[r][n] = fma(d.w[r].z, xv.z, acc[r][n]);
            acc[r][n] = fma(d.w[r].w, xv.w, acc[r][n]);
        }
    }
#elif defined(WEIGHT_BF16)
    for (int n = 0; n < N_COLS; ++n) {
        vec4 xa = x4[uint(n) * kq + 2u * u], xb = x4[uint(n) * kq + 2u * u + 1u];
        for (int r = 0; r < ROWS; ++r) {
            acc[r][n] = fma(bf16_lo(d.q[r].x), xa.x, acc[r][n]);
            acc[r][n] = fma(bf16_hi(d.q[r].x), xa.y, acc[r][n]);
            acc[r][n] = fma(bf16_lo(d.q[r].y), xa.z, acc[r][n]);
            acc[r][n] = fma(bf16_hi(d.q[r].y), xa.w, acc[r][n]);
            acc[r][n] = fma(bf16_lo(d.q[r].z), xb.x, acc[r][n]);
            acc[r][n] = fma(bf16_hi(d.q[r].z), xb.y, acc[r][n]);
            acc[r][n] = fma(bf16_lo(d.q[r].w), xb.z, acc[r][n]);
            acc[r][n] = fma(bf16_hi(d.q[r].w), xb.w, acc[r][n]);
        }
    }
#else
    float s[ROWS];
    for (int r = 0; r < ROWS; ++r) s[r] = e8m0_scale(d.s[r]);
#if defined(WEIGHT_MXFP4)
    for (uint h = 0u; h < 2u; ++h) {
        float wv[ROWS][4];
        for (int r = 0; r < ROWS; ++r)
            for (uint i = 0u; i < 4u; ++i) wv[r][i] = lut4[(d.q[r] >> (16u * h + 4u * i)) & 15u] * s[r];
        for (int n = 0; n < N_COLS; ++n) {
            vec4 xv = x4[uint(n) * kq + 2u * u + h];
#else
    {
        float wv[ROWS][4];
        for (int r = 0; r < ROWS; ++r)
            for (uint i = 0u; i < 4u; ++i) wv[r][i] = e4m3_fast((d.q[r] >> (8u * i)) & 255u) * s[r];
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
#endif
}

// Units u, u + step, ... < uend of rows m, in increasing order; the loads of
// UNROLL units are issued together.
void accumulate(uint m[ROWS], uint u, uint uend, uint step, uint kq) {
    for (; u + (UNROLL - 1) * step < uend; u += UNROLL * step) {
        unit_w d[UNROLL];
        [[unroll]] for (int i = 0; i < UNROLL; ++i) d[i] = load_unit(m, u + uint(i) * step, kq);
        [[unroll]] for (int i = 0; i < UNROLL; ++i) compute_unit(d[i], u + uint(i) * step, kq);
    }
    for (; u < uend; u += step) compute_unit(load_unit(m, u, kq), u, kq);
}

void start_rows(uint m0, out uint m[ROWS]) {
    for (int r = 0; r < ROWS; ++r) m[r] = min(m0 + uint(r), pc.M - 1u);  // clamped loads, writes skipped
    for (int r = 0; r < ROWS; ++r)
        for (int n = 0; n < N_COLS; ++n) acc[r][n] = 0.0;
}

#if defined(HAS_SUBGROUP_ARITH)
#define NSG (WG_SIZE / SUBGROUP_SIZE)  // subgroups per workgroup at the device's size
#define SETS (NSG / KSPLIT)            // row sets per workgroup
#define RPW (SETS * ROWS)              // rows per workgroup
#if KSPLIT > 1
shared float part[KSPLIT * RPW * N_COLS];
#endif
void main() {
    init_tables();
    uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint kq = pc.K / 4u, units = pc.K / UNIT;
    uint first = wg * RPW, row_end = min(first + RPW, pc.M);
    uint m[ROWS];
    if (gl_NumSubgroups == NSG) {  // uniform
        uint ks = gl_SubgroupID % KSPLIT, set = gl_SubgroupID / KSPLIT;
        // Parts are whole runs of 32 units (aligned subgroup loads).
        uint per = ((units + KSPLIT - 1u) / KSPLIT + 31u) / 32u * 32u;
        uint ub = min(ks * per, units), ue = min(ub + per, units);
        uint m0 = first + set * ROWS;
        start_rows(m0, m);
        accumulate(m, ub + gl_SubgroupInvocationID, ue, gl_SubgroupSize, kq);
#if KSPLIT > 1
        for (int r = 0; r < ROWS; ++r)
            for (int n = 0; n < N_COLS; ++n) {
                float s = subgroupAdd(acc[r][n]);
                if (subgroupElect()) part[((ks * SETS + set) * ROWS + uint(r)) * N_COLS + uint(n)] = s;
            }
        barrier();
        for (uint i = gl_LocalInvocationIndex; i < RPW * N_COLS; i += WG_SIZE) {
            uint rr = i / N_COLS, n = i % N_COLS;
            float s = part[i];
            for (uint k = 1u; k < KSPLIT; ++k) s += part[k * RPW * N_COLS + i];
            if (first + rr < row_end) y[n * pc.ystride + pc.row0 + first + rr] = s;
        }
#else
        for (int r = 0; r < ROWS; ++r)
            for (int n = 0; n < N_COLS; ++n) {
                float s = subgroupAdd(acc[r][n]);
                if (subgroupElect() && m0 + uint(r) < row_end) y[uint(n) * pc.ystride + pc.row0 + m0 + uint(r)] = s;
            }
#endif
        return;
    }
    // A subgroup layout other than the device's default: every subgroup takes
    // whole rows over all of K (correct; not tuned).
    for (uint m0 = first + gl_SubgroupID * ROWS; m0 < row_end; m0 += gl_NumSubgroups * ROWS) {
        start_rows(m0, m);
        accumulate(m, gl_SubgroupInvocationID, units, gl_SubgroupSize, kq);
        for (int r = 0; r < ROWS; ++r)
            for (int n = 0; n < N_COLS; ++n) {
                float s = subgroupAdd(acc[r][n]);
                if (subgroupElect() && m0 + uint(r) < row_end) y[uint(n) * pc.ystride + pc.row0 + m0 + uint(r)] = s;
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
    uint m[ROWS];
    start_rows(m0, m);
    accumulate(m, gl_LocalInvocationID.x, pc.K / UNIT, WG_SIZE, pc.K / 4u);
    for (int r = 0; r < ROWS; ++r) {
        for (int n = 0; n < N_COLS; ++n) {
            float s = wg_sum1(acc[r][n]);
            if (gl_LocalInvocationID.x == 0u && m0 + uint(r) < pc.M) y[uint(n) * pc.ystride + pc.row0 + m0 + uint(r)] = s;
        }
    }
}
#endif
