#version 450
#extension GL_EXT_control_flow_attributes : enable
#if defined(XP_OUT)
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#if XP_OUT == 2
#extension GL_EXT_shader_16bit_storage : require
#endif
#endif
// Gated DeltaNet delta-rule recurrence, fused with the q/k L2 norms and the
// beta / decay gates.  The columns j of a head's state S[dk, dv] evolve
// independently, so the grid is (value head, block of BV columns).  Each
// column is owned by a group of G lanes (G = the subgroup size when the
// device has subgroup arithmetic (at most 32) and runs subgroups of that
// size, else 8 with shared-memory sums): lane r keeps the state rows r,
// r + G, r + 2G, ... (RPL = dk/G values) in registers for all T tokens (DK
// is a compile-time define, loops unroll).  A group owns NCOL columns (2
// when BV*G would exceed WG_CAP threads: 512-thread groups for the H100,
// which keeps two workgroups per SM), which share the q / k values.  Per
// token every lane reads its rows of the key head's q and k (L1/L2 hits,
// loaded one token ahead), and two group sums give (|q|^2, |k|^2,
// (decay S)^T k per column) and then (S^T q per column).  The summation
// order per token depends on nothing but the device (not on T), so a
// multi-token call matches single-token calls bit for bit.  The state is
// stored column-major per head ([dv, dk]: column j's dk rows contiguous),
// so a group reads and writes its columns straight from the lanes'
// registers, coalesced (lane r's rows r, r + G, ... are consecutive across
// the group), with no shared-memory pass or barrier per token snapshot.
//   u [T, C] (q | k | v), a, b [T, Hv], A_log, dt_bias [Hv], state_in [Hv, dv, dk]
//   (read), o [T, Hv*dv]; pc.snap != 0: snap [T, Hv, dv, dk] gets the state
//   after every token (the last one is the new state; the session keeps its
//   current state in that ring); else state_out [Hv, dv, dk] gets the final
//   state (it may alias state_in: each lane reads its elements first).
// NORM_EPILOGUE: the gated RMSNorm that follows (gated_rms_norm_f32) runs here
// too, one stage fewer per layer: the head's nblk workgroups count their
// arrival on arrivals[h] after writing o, and the last one reads the head's
// whole o rows back and writes y [T, Hv*dv] = o * rsqrt(mean_dv(o^2) + eps)
// * norm_w * silu(z) (z [T, Hv*dv], norm_w [dv]) as gated_rms_norm_f32 does;
// it resets the counter for the next dispatch.  XP_OUT (with it): y is also
// written as (hi, lo) fp16 pair words (y_pairs, as y; common/x_split.glsl
// x_pair), the x of the output projection's fragment kernel with XP;
// XP_OUT=2: as fp16 token-pair halves instead (x16_half: X16 + XP), of the
// whole batch, this dispatch's first token at y16_t0.
#ifndef DK
#define DK 128
#endif
#ifndef BV
#define BV 32
#endif
#if defined(HAS_SUBGROUP_ARITH) && SUBGROUP_SIZE >= 4 && SUBGROUP_SIZE <= 32
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#define USE_SG 1
#define G SUBGROUP_SIZE
#else
#define G 8
#endif
#ifndef WG_CAP
#define WG_CAP 512
#endif
#define NCOL (BV * G > WG_CAP ? 2 : 1)         // columns per group
#define WG_SIZE (BV * G / NCOL)
#define NGR (BV / NCOL)                        // groups per workgroup
#define RPL ((DK + G - 1) / G)                 // state rows per lane
#define TILE_N (4 * WG_SIZE)                   // group_sum4's fallback scratch and the norm epilogue's
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
layout(std430, binding = 0) readonly buffer Ub { float u[]; };
layout(std430, binding = 1) readonly buffer Ab { float a_in[]; };
layout(std430, binding = 2) readonly buffer Bb { float b_in[]; };
layout(std430, binding = 3) readonly buffer Al { float A_log[]; };
layout(std430, binding = 4) readonly buffer Dt { float dt_bias[]; };
layout(std430, binding = 5) readonly buffer Si { float state_in[]; };
#if defined(NORM_EPILOGUE)
layout(std430, binding = 6) coherent buffer Ob { float o[]; };  // read back by the head's last workgroup
layout(std430, binding = 9) readonly buffer Zb { float z[]; };
layout(std430, binding = 10) readonly buffer Nw { float norm_w[]; };
layout(std430, binding = 11) writeonly buffer Yb { float y[]; };
layout(std430, binding = 12) coherent buffer Ar { uint arrivals[]; };
#if defined(XP_OUT)
#include "common/x_split.glsl"
#if XP_OUT == 2  // token-pair fp16 halves (x16_half), the output projection's X16 x
layout(std430, binding = 13) writeonly buffer YP { float16_t y16[]; };
#else
layout(std430, binding = 13) writeonly buffer YP { uint y_pairs[]; };
#endif
#endif
#else
layout(std430, binding = 6) writeonly buffer Ob { float o[]; };
#endif
layout(std430, binding = 7) writeonly buffer Sn { float snap[]; };
layout(std430, binding = 8) writeonly buffer So { float state_out[]; };
layout(push_constant) uniform P { uint T; uint Hk; uint Hv; uint dv; uint nblk; uint snap; float eps; uint y16_t0; } pc;

// The tile is group_sum4's scratch (fallback path: each token's group_sum2
// barrier separates its reads from the next token's writes) and the norm
// epilogue's.
shared float tile[TILE_N];
shared vec2 red2[WG_SIZE];

float softplus_f(float x) { return x > 20.0 ? x : log(1.0 + exp(x)); }

float s[NCOL][RPL];
uint grp, lane;
bool fast;

// Sums over the G lanes of a group (same value returned to every lane).
vec4 group_sum4(vec4 v) {
#ifdef USE_SG
    if (fast) return subgroupAdd(v);
#endif
    uint b = 4u * (grp * G + lane);
    tile[b] = v.x;
    tile[b + 1u] = v.y;
    tile[b + 2u] = v.z;
    tile[b + 3u] = v.w;
    barrier();
    b = 4u * grp * G;
    vec4 r = vec4(tile[b], tile[b + 1u], tile[b + 2u], tile[b + 3u]);
    for (uint i = 1; i < G; ++i) r += vec4(tile[b + 4u * i], tile[b + 4u * i + 1u], tile[b + 4u * i + 2u], tile[b + 4u * i + 3u]);
    return r;  // the scratch is rewritten only after the next group_sum2 barrier
}

vec2 group_sum2(vec2 v) {
#ifdef USE_SG
    if (fast) return subgroupAdd(v);
#endif
    red2[grp * G + lane] = v;
    barrier();
    vec2 r = red2[grp * G];
    for (uint i = 1; i < G; ++i) r += red2[grp * G + i];
    return r;  // red2 is rewritten only after the next group_sum4 barrier
}

// A head's state (base: its first element; column-major, DK rows per
// column) to and from the lanes' registers: lane r of group g holds rows
// r, r + G, ... of columns j0 + g + k NGR.
void load_state(uint base, uint j0) {
    [[unroll]] for (uint k = 0; k < NCOL; ++k) {
        const uint j = j0 + grp + k * NGR;
        [[unroll]] for (uint m = 0; m < RPL; ++m) {
            const uint r = lane + G * m;
            s[k][m] = r < DK && j < pc.dv ? state_in[base + j * DK + r] : 0.0;
        }
    }
}

// The registers' state to snap (to_snap) or state_out, at `base`.
void store_state(bool to_snap, uint base, uint j0) {
    [[unroll]] for (uint k = 0; k < NCOL; ++k) {
        const uint j = j0 + grp + k * NGR;
        [[unroll]] for (uint m = 0; m < RPL; ++m) {
            const uint r = lane + G * m;
            if (r < DK && j < pc.dv) {
                if (to_snap)
                    snap[base + j * DK + r] = s[k][m];
                else
                    state_out[base + j * DK + r] = s[k][m];
            }
        }
    }
}

void load_inputs(uint t, uint kh, uint Kd, uint C, uint h, uint j0, out float qv[RPL], out float kv[RPL],
                 out float bt, out float at, out float vj[NCOL]) {
    uint row = t * C;
    [[unroll]] for (uint m = 0; m < RPL; ++m) {
        uint i = lane + G * m;
        bool ok = i < DK;
        qv[m] = ok ? u[row + kh * DK + i] : 0.0;
        kv[m] = ok ? u[row + Kd + kh * DK + i] : 0.0;
    }
    bt = b_in[t * pc.Hv + h];
    at = a_in[t * pc.Hv + h];
    [[unroll]] for (uint k = 0; k < NCOL; ++k) {
        uint j = j0 + grp + k * NGR;
        vj[k] = j < pc.dv ? u[row + 2u * Kd + h * pc.dv + j] : 0.0;
    }
}

#if defined(NORM_EPILOGUE)
#include "common/last_arrival.glsl"
#define NL 64u                 // lanes per row: gated_rms_norm_f32's workgroup
#define NR (WG_SIZE / 64)      // rows per pass (WG_SIZE >= 64)

// After this workgroup's o stores: the gated RMSNorm of head h's rows if it
// is the head's last workgroup to finish (the others return).  NR rows at a
// time, NL lanes each, with gated_rms_norm_f32's arithmetic (lane l sums
// o[l], o[l + 64], ... in order, then the same shared-memory tree): the
// order does not depend on T, and the tail is one pass for up to NR tokens.
void norm_epilogue(uint h) {
    if (!last_to_arrive(h, pc.nblk)) return;  // uniform
    uint rr = gl_LocalInvocationIndex / NL, l = gl_LocalInvocationIndex % NL, sbase = rr * NL;
    for (uint t0 = 0u; t0 < pc.T; t0 += NR) {
        uint t = t0 + rr;
        bool row = t < pc.T;
        uint base = (t * pc.Hv + h) * pc.dv;
        float ss = 0.0;
        if (row)
            for (uint c = l; c < pc.dv; c += NL) {
                float v = o[base + c];
                ss += v * v;
            }
        tile[sbase + l] = ss;
        barrier();
        for (uint k = NL / 2u; k > 0u; k >>= 1) {
            if (l < k) tile[sbase + l] += tile[sbase + l + k];
            barrier();
        }
        float scale = inversesqrt(tile[sbase] / float(pc.dv) + pc.eps);
        barrier();  // the tile is rewritten by the next pass
        if (row)
            for (uint c = l; c < pc.dv; c += NL) {
                const float v = o[base + c] * scale * norm_w[c] * silu(z[base + c]);
                y[base + c] = v;
#if defined(XP_OUT) && XP_OUT == 2
                y16[x16_half(pc.y16_t0 + t, h * pc.dv + c, pc.Hv * pc.dv)] = x_round16(vec2(v, 0.0)).x;
#elif defined(XP_OUT)
                y_pairs[base + c] = x_pair(v);
#endif
            }
    }
}
#endif

void main() {
    uint h = gl_WorkGroupID.x / pc.nblk;
    uint blk = gl_WorkGroupID.x % pc.nblk;
    fast = false;
    grp = gl_LocalInvocationID.x / G;
    lane = gl_LocalInvocationID.x % G;
#ifdef USE_SG
    if (gl_SubgroupSize == G) {  // uniform: then each subgroup is one group
        fast = true;
        grp = gl_SubgroupID;
        lane = gl_SubgroupInvocationID;
    }
#endif
    uint j0 = blk * BV;
    uint kh = h / (pc.Hv / pc.Hk);
    uint Kd = pc.Hk * DK;
    uint C = 2u * Kd + pc.Hv * pc.dv;
    float qscale = inversesqrt(float(DK));
    float A = -exp(A_log[h]);
    float dtb = dt_bias[h];
    uint state_base = h * DK * pc.dv;

    // Token t's inputs are loaded while token t-1 computes (token 0's while
    // the state is read).
    float qv[RPL], kv[RPL], bt, at, vj[NCOL];
    load_inputs(0u, kh, Kd, C, h, j0, qv, kv, bt, at, vj);
    load_state(state_base, j0);

    for (uint t = 0; t < pc.T; ++t) {
        float qn[RPL], kn[RPL], bn, an, vn[NCOL];
        load_inputs(min(t + 1u, pc.T - 1u), kh, Kd, C, h, j0, qn, kn, bn, an, vn);
        float beta = sigmoid_f(bt);
        float decay = exp(A * softplus_f(at + dtb));

        vec4 part = vec4(0.0);  // |q|^2, |k|^2, (decay S)^T k for columns 0, 1
        [[unroll]] for (uint m = 0; m < RPL; ++m) {
            part.xy += vec2(qv[m] * qv[m], kv[m] * kv[m]);
            [[unroll]] for (uint k = 0; k < NCOL; ++k) {
                s[k][m] *= decay;
                part[2 + k] += s[k][m] * kv[m];
            }
        }
        vec4 r = group_sum4(part);
        float rq = inversesqrt(r.x + 1e-6) * qscale;
        float rk = inversesqrt(r.y + 1e-6);
        vec2 acc = vec2(0.0);
        [[unroll]] for (uint k = 0; k < NCOL; ++k) {
            float delta = beta * (vj[k] - r[2 + k] * rk) * rk;  // k = kv * rk
            [[unroll]] for (uint m = 0; m < RPL; ++m) {
                s[k][m] += kv[m] * delta;
                acc[k] += s[k][m] * qv[m];
            }
        }
        acc = group_sum2(acc);
        [[unroll]] for (uint k = 0; k < NCOL; ++k) {
            uint j = j0 + grp + k * NGR;
            if (j < pc.dv && lane == 0u) o[t * pc.Hv * pc.dv + h * pc.dv + j] = acc[k] * rq;
        }
        if (pc.snap != 0u) store_state(true, (t * pc.Hv + h) * DK * pc.dv, j0);
        qv = qn;
        kv = kn;
        bt = bn;
        at = an;
        vj = vn;
    }
    if (pc.snap == 0u) store_state(false, state_base, j0);
#if defined(NORM_EPILOGUE)
    norm_epilogue(h);
#endif
}
