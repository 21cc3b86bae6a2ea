#version 450
// Y[t, row0 + m] = sum_k W[m, k] * X[t, k] for t < T tokens: the prefill
// (T > 16) matrix-matrix product, fp32 accumulation, weights dequantized in
// the shader.  Tiles of BM (64 or 128) rows x 64 tokens per workgroup of 256,
// K in steps of 32 (one MX group) staged in shared memory (dequantized W and
// X, k-major), TM x 4 outputs per thread (TM = BM / 16: the larger tile does
// twice the multiply-adds per shared-memory read).  Every output sums its k
// in order with one fma each, so BM does not change any result.  Same
// bindings as matvec.comp plus T.
//
// Not batch-invariant with matvec.comp (a different summation order): prefill
// results match the decode path within rounding, not bit for bit.  Within
// this kernel a token's result does not depend on T or on its tile.
#extension GL_EXT_control_flow_attributes : enable
#ifndef BM
#define BM 64
#endif
#define TM (BM / 16)  // rows per thread
#define LW (BM / 64)  // weight rows each loader thread stages per K step
#define BN 64
#define BK 32
layout(local_size_x = 256) in;
#include "common/types.glsl"
#include "common/mx.glsl"
#if defined(WEIGHT_F32)
layout(std430, binding = 0) readonly buffer Wt { vec4 w4[]; };
#else
layout(std430, binding = 0) readonly buffer Wt { uvec4 w4[]; };
#endif
layout(std430, binding = 1) readonly buffer Sc { uint sc[]; };
layout(std430, binding = 2) readonly buffer X { vec4 x4[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint M; uint K; uint ystride; uint row0; uint T; } pc;

shared vec4 Ws[BK][BM / 4];  // Ws[k][r / 4][r % 4] = W[tileM + r, k0 + k]
shared vec4 Xs[BK][BN / 4];  // Xs[k][t / 4][t % 4] = X[tileN + t, k0 + k]

// Eight weights of row m starting at element k (k % 8 == 0).
void load_w(uint m, uint k, out float v[8]) {
    for (int e = 0; e < 8; ++e) v[e] = 0.0;
#if defined(WEIGHT_F32)
    uint kq = pc.K / 4u;
    if (k < pc.K) {
        vec4 a = w4[m * kq + k / 4u];
        v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
    }
    if (k + 4u < pc.K) {
        vec4 b = w4[m * kq + k / 4u + 1u];
        v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
    }
#elif defined(WEIGHT_BF16)
    if (k < pc.K) {
        uvec4 q = w4[(m * pc.K + k) / 8u];
        v[0] = bf16_lo(q.x); v[1] = bf16_hi(q.x); v[2] = bf16_lo(q.y); v[3] = bf16_hi(q.y);
        v[4] = bf16_lo(q.z); v[5] = bf16_hi(q.z); v[6] = bf16_lo(q.w); v[7] = bf16_hi(q.w);
    }
#else
    uint groups = pc.K / 32u, g = k / 32u, seg = (k % 32u) / 8u;
    float s = e8m0_scale(MX_BYTE(sc, m * groups + g));
#if defined(WEIGHT_MXFP4)
    // Element value = (pair value * 2^14) * scale: both products exact.
    uint word = w4[m * groups + g][seg];
    for (uint j = 0u; j < 4u; ++j) {
        vec2 f = unpackHalf2x16(fp4_pair(word, j)) * kFp4PairScale;
        v[j] = f.x * s;
        v[j + 4u] = f.y * s;
    }
#else
    uvec4 q = w4[(m * groups + g) * 2u + seg / 2u];
    uint wa = (seg & 1u) == 0u ? q.x : q.z, wb = (seg & 1u) == 0u ? q.y : q.w;
    for (uint odd = 0u; odd < 2u; ++odd) {
        vec2 fa = unpackHalf2x16(fp8_pair(wa, odd)) * kFp8PairScale;
        vec2 fb = unpackHalf2x16(fp8_pair(wb, odd)) * kFp8PairScale;
        v[odd] = fa.x * s;
        v[odd + 2u] = fa.y * s;
        v[4u + odd] = fb.x * s;
        v[6u + odd] = fb.y * s;
    }
#endif
#endif
}

// One loader thread's share of a K step: eight weights of each of its LW
// rows (row0, row0 + 64, ...: clamped to the last row) and eight x values of
// token `tok` from element k (zeros past K).
void load_step(uint row0, uint tok, uint k, out float wv[LW][8], out vec4 xa, out vec4 xb) {
    uint kq = pc.K / 4u;
    for (uint i = 0u; i < LW; ++i) load_w(min(row0 + 64u * i, pc.M - 1u), k, wv[i]);
    xa = vec4(0.0);
    xb = vec4(0.0);
    if (k < pc.K) xa = x4[tok * kq + k / 4u];
    if (k + 4u < pc.K) xb = x4[tok * kq + k / 4u + 1u];
}

void main() {
    uint tid = gl_LocalInvocationIndex;
    uint tileM = gl_WorkGroupID.x * BM, tileN = gl_WorkGroupID.y * BN;
    uint tx = tid % 16u, ty = tid / 16u;  // outputs: tokens 4tx..4tx+3, rows TM ty .. TM ty + TM-1
    uint lr = tid % 64u, seg = tid / 64u;  // loader: rows lr + 64i / token lr, elements 8seg..8seg+7
    uint ltok = min(tileN + lr, pc.T - 1u);
    float acc[TM][4];
    [[unroll]] for (int i = 0; i < TM; ++i)
        [[unroll]] for (int j = 0; j < 4; ++j) acc[i][j] = 0.0;
    // Each K step loads its slice, then stages it.  (Register double
    // buffering, the next step's loads issued before this step's
    // multiply-adds, made the 27B 2048-token prefill 8% slower on the H200:
    // docs/perf-matvec.md.)
    float wv[LW][8];
    vec4 xa, xb;
    for (uint k0 = 0u; k0 < pc.K; k0 += BK) {
        load_step(tileM + lr, ltok, k0 + 8u * seg, wv, xa, xb);
        for (uint i = 0u; i < LW; ++i)
            for (uint e = 0u; e < 8u; ++e) Ws[8u * seg + e][(lr + 64u * i) / 4u][lr % 4u] = wv[i][e];
        for (uint e = 0u; e < 4u; ++e) {
            Xs[8u * seg + e][lr / 4u][lr % 4u] = xa[e];
            Xs[8u * seg + 4u + e][lr / 4u][lr % 4u] = xb[e];
        }
        barrier();
        for (uint kk = 0u; kk < BK; ++kk) {
            vec4 b = Xs[kk][tx];
            [[unroll]] for (uint v = 0u; v < TM / 4u; ++v) {
                vec4 a = Ws[kk][ty * (TM / 4u) + v];
                [[unroll]] for (uint i = 0u; i < 4u; ++i)
                    [[unroll]] for (uint j = 0u; j < 4u; ++j) acc[4u * v + i][j] = fma(a[i], b[j], acc[4u * v + i][j]);
            }
        }
        barrier();
    }
    [[unroll]] for (int j = 0; j < 4; ++j) {
        uint t = tileN + 4u * tx + uint(j);
        [[unroll]] for (int i = 0; i < TM; ++i) {
            uint m = tileM + TM * ty + uint(i);
            if (t < pc.T && m < pc.M) y[t * pc.ystride + pc.row0 + m] = acc[i][j];
        }
    }
}
