#version 450
// EXPERIMENT (bench and kernel check only; no model path uses it): the MXFP4
// matrix-vector product Y[n, m] = sum_k W[m, k] * X[n, k] for n < N <= 8 * NG
// on tensor cores, with the FP4 codes decoded straight into the A fragments
// (no shared-memory round trip, which made matvec_coop.comp's n = 1 twice
// as slow as matvec.comp: docs/perf-matvec.md).
//
// Fragment layout.  VK_NV_cooperative_matrix leaves which tile element each
// lane's fragment element i holds to the implementation, but allows element
// access (A[i]).  The host finds the layout on the device
// (coop_layout_probe.comp, ops::frag_layout_probe) and repacks the weight
// once (ops::frag_repack_mxfp4): per 16-row tile and 64-column group, lane
// l's uvec4 holds, for each of the group's four 16 x 16 A tiles, the 8 codes
// of its fragment elements in one word, placed so that element pair p
// (elements 2p, 2p + 1) becomes an fp16 pair in at most three instructions
// (decode_a).  The kernel itself only reads the B and C layouts from the
// table binding (which x element a B element is; which output an
// accumulator element is), so it runs under any layout the probe reports.
// (NVIDIA's driver 580 does not use the PTX mma.m16n8k16 element order for
// A and B: its B elements (0, 1) are one k of two columns.)
//
// Arithmetic.  A holds the codes as fp16 times 2^-14 (exact: E2M1's
// subnormal code lands on an fp16 subnormal); B holds x split into
// hi and lo = fp16(x - hi) (common/x_split.glsl: x_split_f16.comp, or here with
// XF32=1; |x| < 65504), so each product uses 22 bits of x (lo may be an
// fp16 subnormal: the matrix unit is expected to keep those; gpu_frag.sh's
// max_diff_rel would show a flush).  Per 32-column MX block and output
// element, one fp32 accumulator tile starts at zero and takes the block's
// four 16 x 8 x 16 multiply-adds (two A tiles times x hi and lo, one
// chain: two accumulators alternating crashed the H200 driver's pipeline
// creation in matvec_coop.comp), and is added into the lane's fp32 sum times
// 2^(s - 127 + 14), s the block's E8M0 byte (<= 240: ops::max_scale_byte).  Warps split K into contiguous
// parts; their sums are added in warp order through shared memory.
//
// Batch invariance: column n's result depends only on column n of B and
// the fixed warp / block order, not on N or NG (the matrix unit computes
// each column of D on its own), so a verify of n tokens gives decode's bits
// for each of them as long as both use this kernel.
//
// GLU=1: the MLP's gate (bindings 0, 1) and up (bindings 5, 6) products with
// SwiGLU as the epilogue (one stage fewer per layer): a warp holds R tiles
// of each, so every B fragment serves 2R tiles, and y = swiglu(G x, U x)
// (common/types.glsl).  Each product is summed exactly as the plain kernel
// sums it (any R gives the same bits), so the result is swiglu_f32 of two
// plain products bit for bit.
//
// CONV=1: the Gated DeltaNet qkv projection with its causal conv + SiLU as
// the epilogue (one stage fewer per layer), as matvec.comp's CONV_EPILOGUE:
// the thread that finishes a row (channel) walks its N tokens in order
// (common/conv_step.glsl, the operations of gdn_conv_f32) from the window in
// conv_state, writes u = conv(W x) and the window after token t to snapshot
// slot (slot0 + t) % ring for t >= snap_from.  Bit for bit the plain kernel
// followed by gdn_conv_f32.
//
// Diagnostics (timing only, wrong results): DIAG_NO_DECODE, DIAG_NO_LO,
// DIAG_NO_X (no x loads: every B element 1).
//
// EMULATE=1 replaces the cooperative-matrix types by per-lane arrays and
// the multiply-add by a shared-memory emulation (workgroup barriers; warps
// are 32 consecutive invocations), so lavapipe runs the same decode,
// layout and reduction logic under a layout from the table.
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : enable
#include "common/x_split.glsl"
#ifndef EMULATE
#define EMULATE 0
#endif
#if !EMULATE
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#endif
#ifndef NSG
#define NSG 4  // warps per workgroup (each a contiguous part of K; the host passes its default)
#endif
#ifndef R
#define R 1  // 16-row tiles per warp (every B fragment serves R tiles)
#endif
#ifndef NG
#define NG 1  // groups of 8 columns (N <= 8 * NG)
#endif
#ifndef PF
#define PF 2  // 64-column groups of loads in flight per warp (the host passes its default: linear_matvec_frag)
#endif
#ifndef XF32
#define XF32 0  // 1: read fp32 x and split it here (no x_split_f16 pass; more work per step)
#endif
#ifndef GLU
#define GLU 0
#endif
#ifndef CONV
#define CONV 0
#endif
#if GLU && CONV
#error "GLU and CONV are exclusive"
#endif
#ifndef C_ROW_PAIRS
#define C_ROW_PAIRS 0  // accumulator elements (0, 1) and (2, 3) of a lane share a row
#endif
#if EMULATE
#define UNROLL [[dont_unroll]]
#else
#define UNROLL [[unroll]]
#endif
#define NSR (C_ROW_PAIRS != 0 ? 2 : 4)  // scale rows per lane
layout(local_size_x = NSG * 32) in;
layout(std430, binding = 0) readonly buffer Wf { uvec4 wf[]; };  // [tile][group64][lane]
layout(std430, binding = 1) readonly buffer Sc { uint sc[]; };    // E8M0 bytes [row][K / 32]
#if XF32
layout(std430, binding = 2) readonly buffer Xs { float xf[]; };   // x [n][K] fp32, split here
#else
layout(std430, binding = 2) readonly buffer Xs { uint xs[]; };    // [n]: K/2 hi pairs, K/2 lo pairs
#endif
layout(std430, binding = 3) writeonly buffer Y { float y[]; };    // [n][ystride]
// Per lane 16 entries: A elements r * 16 + c (8; the emulation's), B
// elements k * 8 + n (4), accumulator elements r * 8 + n (4); then 128
// entries: for each accumulator element r * 8 + n, lane * 4 + element.
layout(std430, binding = 4) readonly buffer Lay { uint lay[]; };
#if GLU
#include "common/types.glsl"
layout(std430, binding = 5) readonly buffer Wu { uvec4 wu[]; };  // up's codes, as wf
layout(std430, binding = 6) readonly buffer Su { uint su[]; };    // up's scales, as sc
#define NW 2
#define WLOAD(t, i) ((t) < R ? wf[i] : wu[i])
#define SLOAD(t, i) ((t) < R ? sc[i] : su[i])
#else
#define NW 1
#define WLOAD(t, i) wf[i]
#define SLOAD(t, i) sc[i]
#endif
#define NT (R * NW)  // row tiles per warp (GLU: R of G, then the same R of U)
#if CONV
//   conv_w [C, ck], conv_state [ck-1, C], conv_snap [ring, ck-1, C]; C = M = ystride
#include "common/types.glsl"
layout(std430, binding = 5) readonly buffer CW { float conv_w[]; };
layout(std430, binding = 6) readonly buffer CSt { float conv_state[]; };
layout(std430, binding = 7) writeonly buffer CSn { float conv_snap[]; };
layout(push_constant) uniform P {
    uint M; uint K; uint N; uint ystride;
    uint ck; uint snap_from; uint slot0; uint ring;
} pc;
#include "common/conv_epilogue.glsl"
#else
layout(push_constant) uniform P { uint M; uint K; uint N; uint ystride; } pc;
#endif

#if EMULATE
struct afrag { float16_t v[8]; };
struct bfrag { float16_t v[4]; };
struct cfrag { float v[4]; };
#define AE(a, i) a.v[i]
#define BE(b, i) b.v[i]
#define CE(c, i) c.v[i]
#define C_ZERO cfrag(float[4](0.0, 0.0, 0.0, 0.0))
#define A_INIT afrag(float16_t[8](float16_t(0.0), float16_t(0.0), float16_t(0.0), float16_t(0.0), \
                                  float16_t(0.0), float16_t(0.0), float16_t(0.0), float16_t(0.0)))
#define B_INIT bfrag(float16_t[4](float16_t(0.0), float16_t(0.0), float16_t(0.0), float16_t(0.0)))
#else
#define afrag fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define bfrag fcoopmatNV<16, gl_ScopeSubgroup, 16, 8>
#define cfrag fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>
#define AE(a, i) a[i]
#define BE(b, i) b[i]
#define CE(c, i) c[i]
#define C_ZERO cfrag(0.0)
#define A_INIT afrag(0.0)
#define B_INIT bfrag(0.0)
#endif

uint sg, l;         // warp, lane
uint bk[4], bn[4];  // B element j: x[n][k] with k = bk[j], n = bn[j] (+ 8 per column group)
uint crow[4];       // this lane's accumulator rows

#if EMULATE
uint aidx[8], bidx[4], cidx[4];
shared float emA[NSG * 256];
shared float emB[NSG * 128];
cfrag mma(afrag a, bfrag b, cfrag c) {
    memoryBarrierShared();
    barrier();
    UNROLL for (uint i = 0u; i < 8u; ++i) emA[sg * 256u + aidx[i]] = float(a.v[i]);
    UNROLL for (uint i = 0u; i < 4u; ++i) emB[sg * 128u + bidx[i]] = float(b.v[i]);
    memoryBarrierShared();
    barrier();
    UNROLL for (uint e = 0u; e < 4u; ++e) {
        const uint r = cidx[e] >> 3, n = cidx[e] & 7u;
        float s = c.v[e];
        for (uint k = 0u; k < 16u; ++k) s = fma(emA[sg * 256u + r * 16u + k], emB[sg * 128u + k * 8u + n], s);
        c.v[e] = s;
    }
    return c;
}
#define MMA(a, b, c) mma(a, b, c)
#else
#define MMA(a, b, c) coopMatMulAddNV(a, b, c)
#endif

// The 8 codes of one A fragment -> fp16 elements times 2^-14.  Word layout
// (ops::frag_repack_mxfp4): element 2p's magnitude bits at 3p..3p+2 and
// sign at 12 + p, element 2p + 1's at 16 + 3p.. and 28 + p; pair 3 is
// already in place.
afrag decode_a(uint q) {
    afrag a = A_INIT;
    UNROLL for (uint p = 0u; p < 4u; ++p) {
#ifdef DIAG_NO_DECODE  // timing only (wrong results): the word's bits as the pair, no placement
        const uint h = q;
#else
        const uint h = p == 3u ? q & 0x8E008E00u
                               : ((q << (9u - 3u * p)) & 0x0E000E00u) | ((q << (3u - p)) & 0x80008000u);
#endif
        const f16vec2 v = unpackFloat2x16(h);
        AE(a, 2u * p) = v.x;
        AE(a, 2u * p + 1u) = v.y;
    }
    return a;
}

// One 64-column group's loads (zeros past the warp's part or the tiles).
struct step_in {
    uvec4 q[NT];
    uint s[NT][NSR];  // the two block scales of each scale row, in the low 16 bits
#if XF32
    float xv[4][NG][4];  // per 16-column tile: the B elements' x
#else
    uint xh[4][NG][4], xl[4][NG][4];  // per 16-column tile: the B elements' fp16 bits, hi and lo
#endif
};
uint wg_tile0, tiles, kg0, kg1, kgroups;

step_in load_step(uint it) {
    step_in d;
    const uint kg = kg0 + it;
    const bool ok = kg < kg1;  // uniform per warp
    UNROLL for (uint t = 0u; t < NT; ++t) {
        const uint tile = wg_tile0 + t % R;
        const bool tok = ok && tile < tiles;
        d.q[t] = tok ? WLOAD(t, (tile * kgroups + kg) * 32u + l) : uvec4(0u);
        UNROLL for (uint j = 0u; j < NSR; ++j) {
            const uint row = min(tile * 16u + crow[C_ROW_PAIRS != 0 ? 2u * j : j], pc.M - 1u);
            const uint byte = row * (pc.K / 32u) + 2u * kg;  // even: both blocks in one word
            d.s[t][j] = tok ? (SLOAD(t, byte >> 2) >> (8u * (byte & 3u))) & 0xffffu : 0u;
        }
    }
    UNROLL for (uint kt = 0u; kt < 4u; ++kt)
        UNROLL for (uint g = 0u; g < NG; ++g)
            UNROLL for (uint j = 0u; j < 4u; ++j) {
                const uint n = bn[j] + 8u * g, k = kg * 64u + kt * 16u + bk[j];
                const bool xok = ok && n < pc.N;
#if defined(DIAG_NO_X) && XF32
                d.xv[kt][g][j] = xok ? 1.0 : 0.0;
#elif XF32
                d.xv[kt][g][j] = xok ? xf[n * pc.K + k] : 0.0;
#else
                const uint i = n * pc.K + (k >> 1), sh = 16u * (k & 1u);
                d.xh[kt][g][j] = xok ? (xs[i] >> sh) & 0xffffu : 0u;
                d.xl[kt][g][j] = xok ? (xs[i + pc.K / 2u] >> sh) & 0xffffu : 0u;
#endif
            }
    return d;
}

bfrag make_b(f16vec2 v0, f16vec2 v1) {  // elements (0, 1), (2, 3)
    bfrag b = B_INIT;
    BE(b, 0) = v0.x;
    BE(b, 1) = v0.y;
    BE(b, 2) = v1.x;
    BE(b, 3) = v1.y;
    return b;
}

// Per warp and column group: 32 lanes x 4 accumulator elements (one row
// tile at a time, so the size does not grow with R).
shared float red[NSG * NW * NG * 128];

void main() {
#if EMULATE
    sg = gl_LocalInvocationID.x >> 5;
    l = gl_LocalInvocationID.x & 31u;
    UNROLL for (uint i = 0u; i < 8u; ++i) aidx[i] = lay[l * 16u + i];
    UNROLL for (uint i = 0u; i < 4u; ++i) bidx[i] = lay[l * 16u + 8u + i];
    UNROLL for (uint i = 0u; i < 4u; ++i) cidx[i] = lay[l * 16u + 12u + i];
#else
    sg = gl_SubgroupID;
    l = gl_SubgroupInvocationID;
#endif
    UNROLL for (uint j = 0u; j < 4u; ++j) {
        const uint b = lay[l * 16u + 8u + j];
        bk[j] = b >> 3;
        bn[j] = b & 7u;
    }
    UNROLL for (uint e = 0u; e < 4u; ++e) crow[e] = lay[l * 16u + 12u + e] >> 3;
    kgroups = pc.K / 64u;
    tiles = (pc.M + 15u) / 16u;
    wg_tile0 = gl_WorkGroupID.x * R;
    kg0 = sg * kgroups / NSG;
    kg1 = (sg + 1u) * kgroups / NSG;
    const uint iters = (kgroups + NSG - 1u) / NSG;  // the same for every warp (emulation barriers)

    float acc[NT][NG][4];
    UNROLL for (uint t = 0u; t < NT; ++t)
        UNROLL for (uint g = 0u; g < NG; ++g)
            UNROLL for (uint e = 0u; e < 4u; ++e) acc[t][g][e] = 0.0;

    step_in buf[PF];
    UNROLL for (uint p = 0u; p < PF; ++p) buf[p] = load_step(p);
    for (uint it = 0u; it < iters; it += PF) {
        UNROLL for (uint p = 0u; p < PF; ++p) {
            if (it + p < iters) {  // uniform
                const step_in d = buf[p];
                buf[p] = load_step(it + p + PF);
                bfrag bh[4][NG], bl[4][NG];
                UNROLL for (uint kt = 0u; kt < 4u; ++kt)
                    UNROLL for (uint g = 0u; g < NG; ++g) {
#if XF32  // x_split_f16.comp's split, two B elements at a time
                        f16vec2 h01, l01, h23, l23;
                        x_split(vec2(d.xv[kt][g][0], d.xv[kt][g][1]), h01, l01);
                        x_split(vec2(d.xv[kt][g][2], d.xv[kt][g][3]), h23, l23);
                        bh[kt][g] = make_b(h01, h23);
                        bl[kt][g] = make_b(l01, l23);
#else
                        bh[kt][g] = make_b(unpackFloat2x16(d.xh[kt][g][0] | (d.xh[kt][g][1] << 16)),
                                           unpackFloat2x16(d.xh[kt][g][2] | (d.xh[kt][g][3] << 16)));
                        bl[kt][g] = make_b(unpackFloat2x16(d.xl[kt][g][0] | (d.xl[kt][g][1] << 16)),
                                           unpackFloat2x16(d.xl[kt][g][2] | (d.xl[kt][g][3] << 16)));
#endif
                    }
                UNROLL for (uint blk = 0u; blk < 2u; ++blk)
                    UNROLL for (uint t = 0u; t < NT; ++t) {
                        // One accumulator chain at a time (see the header).
                        const afrag a0 = decode_a(d.q[t][2u * blk]), a1 = decode_a(d.q[t][2u * blk + 1u]);
                        float s[NSR];
                        UNROLL for (uint j = 0u; j < NSR; ++j)
                            s[j] = uintBitsToFloat((((d.s[t][j] >> (8u * blk)) & 0xffu) + 14u) << 23);
                        UNROLL for (uint g = 0u; g < NG; ++g) {
                            cfrag c = C_ZERO;
                            c = MMA(a0, bh[2u * blk][g], c);
#ifndef DIAG_NO_LO  // timing only (x rounded to fp16): what the lo half of x costs
                            c = MMA(a0, bl[2u * blk][g], c);
#endif
                            c = MMA(a1, bh[2u * blk + 1u][g], c);
#ifndef DIAG_NO_LO
                            c = MMA(a1, bl[2u * blk + 1u][g], c);
#endif
                            UNROLL for (uint e = 0u; e < 4u; ++e)
                                acc[t][g][e] = fma(CE(c, e), s[C_ROW_PAIRS != 0 ? e >> 1 : e], acc[t][g][e]);
                        }
                    }
            }
        }
    }

    UNROLL for (uint t = 0u; t < R; ++t) {
        if (t > 0u) {  // the previous tile's sums are read
            memoryBarrierShared();
            barrier();
        }
        UNROLL for (uint h = 0u; h < NW; ++h)
            UNROLL for (uint g = 0u; g < NG; ++g)
                UNROLL for (uint e = 0u; e < 4u; ++e)
                    red[((sg * NW + h) * NG + g) * 128u + l * 4u + e] = acc[t + h * R][g][e];
        memoryBarrierShared();
        barrier();
#if CONV  // a row's tokens in one thread, in order
        for (uint r = gl_LocalInvocationID.x; r < 16u; r += NSG * 32u) {
            const uint c = (wg_tile0 + t) * 16u + r, C = pc.ystride;
            if (c >= pc.M) continue;
            float win[MAX_CONV_K], wc[MAX_CONV_K];
            conv_channel_begin(c, C, win, wc);
            for (uint col = 0u; col < pc.N; ++col) {
                const uint li = lay[512u + r * 8u + (col & 7u)], g = col / 8u;
                float v = 0.0;
                for (uint w = 0u; w < NSG; ++w) v += red[(w * NG + g) * 128u + li];
                y[col * C + c] = conv_channel_token(col, c, C, win, wc, v);
            }
        }
#else
        for (uint o = gl_LocalInvocationID.x; o < 16u * NG * 8u; o += NSG * 32u) {
            const uint r = o / (NG * 8u), col = o % (NG * 8u), g = col / 8u;
            const uint row = (wg_tile0 + t) * 16u + r;
            if (col >= pc.N || row >= pc.M) continue;
            const uint li = lay[512u + r * 8u + (col & 7u)];
            float v = 0.0;
            for (uint w = 0u; w < NSG; ++w) v += red[((w * NW) * NG + g) * 128u + li];
#if GLU
            float u = 0.0;
            for (uint w = 0u; w < NSG; ++w) u += red[((w * NW + 1u) * NG + g) * 128u + li];
            v = swiglu(v, u);
#endif
            y[col * pc.ystride + row] = v;
        }
#endif
    }
}
