#version 450
#extension GL_EXT_control_flow_attributes : enable
#if defined(XP_OUT)
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#if XP_OUT == 2
#extension GL_EXT_shader_16bit_storage : require
#endif
#endif
// Causal gated attention core for one (query head, query token) per
// workgroup (grid Hq x T), flash-decoding style inside the workgroup: the
// WG_SIZE threads form NG groups of G lanes (G = the subgroup size when the
// device has subgroup arithmetic and runs subgroups of that size, else 32
// with shared-memory sums).  Keys are dealt out in batches of NG*KB: group g
// takes keys b*NG*KB + g*KB + [0, KB).  Lane r of a group owns the head dims
// r, r + G, r + 2G, ... (NV of them: q, the accumulator and the K / V values
// it loads, so every K / V row is read coalesced by one group), the KB
// scores are group sums, and each group keeps its own online softmax
// (max, sum, acc).  At the end the groups' partial results are rescaled to
// the common max and summed in group order through shared memory.  The key
// split and every summation order depend only on the number of keys the
// query sees (cache_pos + t + 1), never on T, so a query gives the same bits
// in a multi-token call as in a single-token call.  Query t sees keys
// 0 .. cache_pos + t.  The output is gated:
// out = softmax(q K^T / sqrt(hd)) V * sigmoid(gate).
//   q [T, Hq, hd], qg [T, Hq*2*hd] (gate = second half per head),
//   k_cache, v_cache [Hkv, max_ctx, hd], out [T, Hq*hd]
// SPLIT (split-K across workgroups, for long contexts; grid Hq x T x
// max_splits): a query that sees n keys is split into S = min(ceil(n /
// split_keys), max_splits) contiguous key ranges [s n / S, (s+1) n / S), one
// workgroup each (the rest of the grid returns); S and the ranges depend on
// n alone, so batch invariance holds.  With S = 1 the workgroup writes out
// as above (the same bits as without SPLIT).  Otherwise each writes its
// (max, sum, unnormalized accumulator) to partials [T, Hq, max_splits, 2 +
// hd], fences and counts its arrival on arrivals [T, Hq]; the last one
// combines the S partials in split order, writes out and resets the counter.
// XP_OUT: out is also written as (hi, lo) fp16 pair words (out_pairs, as
// out; common/x_split.glsl x_pair), the x of the output projection's
// fragment kernel with XP (kernel_tuning::frag_presplit); XP_OUT=2: as fp16
// token-pair halves instead (x16_half), the x of its X16 + XP form.
#ifndef DPT
#define DPT 2
#endif
#define MAX_HD (128 * DPT)
#if defined(HAS_SUBGROUP_ARITH) && SUBGROUP_SIZE >= 8 && SUBGROUP_SIZE <= 64
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#define USE_SG 1
#define G SUBGROUP_SIZE
#else
#define G 32
#endif
#ifndef NGRP
#define NGRP 16
#endif
#define WG_SIZE (NGRP * G)                      // 512 threads on NVIDIA
#define NG (WG_SIZE / G)
#define NV ((MAX_HD + G - 1) / G)              // head dims per lane
#ifndef KB
#define KB 1                                   // keys per group and batch
#endif
#define IC (4096 / WG_SIZE)                    // dims per lane in one combine pass
#define NCH ((NV + IC - 1) / IC)
#define GX ((G * IC + WG_SIZE - 1) / WG_SIZE)  // output dims per thread in one combine pass
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer QG { float qg[]; };
layout(std430, binding = 2) readonly buffer KC { float k_cache[]; };
layout(std430, binding = 3) readonly buffer VC { float v_cache[]; };
layout(std430, binding = 4) writeonly buffer O { float o[]; };
#if defined(XP_OUT)
#include "common/x_split.glsl"
#if XP_OUT == 2  // token-pair fp16 halves (x16_half), the output projection's X16 x
layout(std430, binding = 7) writeonly buffer OP { float16_t o16[]; };
#define PUT_OUT(i, v) { const float v_ = (v); const uint i_ = (i), w_ = pc.Hq * pc.hd; o[i_] = v_; \
                        o16[x16_half(i_ / w_, i_ % w_, w_)] = x_round16(vec2(v_, 0.0)).x; }
#else
layout(std430, binding = 7) writeonly buffer OP { uint o_pairs[]; };
#define PUT_OUT(i, v) { const float v_ = (v); o[i] = v_; o_pairs[i] = x_pair(v_); }
#endif
#else
#define PUT_OUT(i, v) o[i] = (v)
#endif
#if defined(SPLIT)
layout(std430, binding = 5) coherent buffer Pa { float partials[]; };
layout(std430, binding = 6) coherent buffer Ar { uint arrivals[]; };
#endif
layout(push_constant) uniform P {
    uint T; uint Hq; uint Hkv; uint hd; uint cache_pos; uint max_ctx; float scale; uint split_keys; uint max_splits;
} pc;

shared float comb[WG_SIZE * IC];  // also the scratch of the fallback group sums
shared vec2 mlsh[NG];

uint grp, lane;
bool fast;

// Sum over the G lanes of a group (same value in every lane).  Fallback:
// through shared memory; the scratch is rewritten only after the next call's
// barrier (slots alternate), and comb is first used for the combine after a barrier.
float group_sum(float v, uint slot) {
#ifdef USE_SG
    if (fast) return subgroupAdd(v);
#endif
    uint b = (slot & 1u) * WG_SIZE + grp * G;
    comb[b + lane] = v;
    barrier();
    float r = comb[b];
    for (uint i = 1; i < G; ++i) r += comb[b + i];
    return r;
}

// Keys key0 .. key0 + KB - 1 (clamped below key_end, masked by the caller).
void load_kv(uint key0, uint key_end, uint kv_base, out float kv[KB][NV], out float vv[KB][NV]) {
    [[unroll]] for (uint j = 0; j < KB; ++j) {
        uint kr = kv_base + min(key0 + j, key_end - 1u) * pc.hd;
        [[unroll]] for (uint n = 0; n < NV; ++n) {
            uint d = lane + G * n;
            kv[j][n] = d < pc.hd ? k_cache[kr + d] : 0.0;
            vv[j][n] = d < pc.hd ? v_cache[kr + d] : 0.0;
        }
    }
}

#if defined(SPLIT)
#include "common/last_arrival.glsl"

// After this split's partial is written: if it is the last of the query's S
// splits to finish, out = (sum_s acc_s e^(M_s - M)) / (sum_s L_s e^(M_s - M))
// * sigmoid(gate), M = max_s M_s, sums in split order.
void combine_splits(uint t, uint hq, uint S, uint ob) {
    uint ai = t * pc.Hq + hq;
    if (!last_to_arrive(ai, S)) return;  // uniform
    uint hd = pc.hd, p0 = ai * pc.max_splits * (hd + 2u);
    float M = partials[p0];
    for (uint s = 1u; s < S; ++s) M = max(M, partials[p0 + s * (hd + 2u)]);
    float L = 0.0;
    for (uint s = 0u; s < S; ++s) L += partials[p0 + s * (hd + 2u) + 1u] * exp(partials[p0 + s * (hd + 2u)] - M);
    float inv_l = 1.0 / L;
    uint gb = t * pc.Hq * 2u * hd + hq * 2u * hd + hd;
    for (uint d = gl_LocalInvocationID.x; d < hd; d += WG_SIZE) {
        float sum = 0.0;
        for (uint s = 0u; s < S; ++s) {
            uint b = p0 + s * (hd + 2u);
            sum += partials[b + 2u + d] * exp(partials[b] - M);
        }
        PUT_OUT(ob + d, sum * inv_l * sigmoid_f(qg[gb + d]));
    }
}
#endif

void main() {
    uint hq = gl_WorkGroupID.x;
    uint t = gl_WorkGroupID.y;
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
    uint hd = pc.hd;
    uint kvh = hq / (pc.Hq / pc.Hkv);
    uint n_keys = pc.cache_pos + t + 1u;
    uint kv_base = kvh * pc.max_ctx * hd;
    // This workgroup's keys [k_begin, k_end): never empty (S <= n_keys).
#if defined(SPLIT)
    uint S = min((n_keys + pc.split_keys - 1u) / pc.split_keys, pc.max_splits), split = gl_WorkGroupID.z;
    if (split >= S) return;  // uniform
    uint k_begin = split * n_keys / S, k_end = (split + 1u) * n_keys / S;
#else
    uint S = 1u, k_begin = 0u, k_end = n_keys;
#endif

    float qv[NV], acc[NV];
    [[unroll]] for (uint n = 0; n < NV; ++n) {
        uint d = lane + G * n;
        qv[n] = d < hd ? q[(t * pc.Hq + hq) * hd + d] * pc.scale : 0.0;
        acc[n] = 0.0;
    }
    float m = -1.0 / 0.0;
    float l = 0.0;
    // The gates of the dims this thread writes in the combine, loaded early.
    uint gb = t * pc.Hq * 2u * hd + hq * 2u * hd + hd;
    float gate[NCH][GX];
    [[unroll]] for (uint ch = 0; ch < NCH; ++ch)
        [[unroll]] for (uint k = 0; k < GX; ++k) {
            uint x = gl_LocalInvocationID.x + WG_SIZE * k, d = ch * (G * IC) + x;
            gate[ch][k] = x < G * IC && d < hd ? sigmoid_f(qg[gb + d]) : 0.0;
        }

    // Batch b+1's K / V rows are loaded while batch b computes.  Keys past
    // the end are clamped to the last key (valid reads) and masked out.
    uint nbat = (k_end - k_begin + NG * KB - 1u) / (NG * KB);
    float kv[KB][NV], vv[KB][NV];
    load_kv(k_begin + grp * KB, k_end, kv_base, kv, vv);
    for (uint b = 0; b < nbat; ++b) {  // uniform over the workgroup
        uint key0 = k_begin + b * (NG * KB) + grp * KB;
        float kn[KB][NV], vn[KB][NV];
        load_kv(key0 + NG * KB, k_end, kv_base, kn, vn);
        float sc[KB];
        [[unroll]] for (uint j = 0; j < KB; ++j) {
            float s0 = 0.0;
            [[unroll]] for (uint n = 0; n < NV; ++n) s0 += qv[n] * kv[j][n];
            sc[j] = s0;
        }
        [[unroll]] for (uint j = 0; j < KB; ++j) sc[j] = group_sum(sc[j], b * KB + j);
        if (key0 < k_end) {  // uniform over the group
            float bm = sc[0];
            [[unroll]] for (uint j = 1; j < KB; ++j)
                if (key0 + j < k_end) bm = max(bm, sc[j]);
            float m_new = max(m, bm);
            float corr = exp(m - m_new);
            float p[KB];
            float ps = 0.0;
            [[unroll]] for (uint j = 0; j < KB; ++j) {
                p[j] = key0 + j < k_end ? exp(sc[j] - m_new) : 0.0;
                ps += p[j];
            }
            l = l * corr + ps;
            m = m_new;
            [[unroll]] for (uint n = 0; n < NV; ++n) {
                float a = acc[n] * corr;
                [[unroll]] for (uint j = 0; j < KB; ++j) a += p[j] * vv[j][n];
                acc[n] = a;
            }
        }
        kv = kn;
        vv = vn;
    }

    // Combine the groups: rescale to the common max, sum in group order.
    if (lane == 0u) mlsh[grp] = vec2(m, l);
    barrier();
    float M = mlsh[0].x;
    for (uint g = 1; g < NG; ++g) M = max(M, mlsh[g].x);  // group 0 always has key k_begin
    float L = 0.0;
    for (uint g = 0; g < NG; ++g) L += mlsh[g].y * exp(mlsh[g].x - M);
    float f = exp(m - M);  // 0 for a group without keys
    float inv_l = 1.0 / L;
    uint ob = t * pc.Hq * hd + hq * hd;
#if defined(SPLIT)
    uint pb = ((t * pc.Hq + hq) * pc.max_splits + split) * (hd + 2u);  // this split's partial
    if (S > 1u && gl_LocalInvocationID.x == 0u) {
        partials[pb] = M;
        partials[pb + 1u] = L;
    }
#endif
    [[unroll]] for (uint ch = 0; ch < NCH; ++ch) {
        [[unroll]] for (uint i = 0; i < IC; ++i)
            if (ch * IC + i < NV) comb[grp * (G * IC) + G * i + lane] = acc[ch * IC + i] * f;
        barrier();
        [[unroll]] for (uint k = 0; k < GX; ++k) {
            uint x = gl_LocalInvocationID.x + WG_SIZE * k, d = ch * (G * IC) + x;
            if (x < G * IC && d < hd) {
                float sum = comb[x];
                for (uint g = 1; g < NG; ++g) sum += comb[g * (G * IC) + x];
#if defined(SPLIT)
                if (S > 1u) partials[pb + 2u + d] = sum;
                else
#endif
                PUT_OUT(ob + d, sum * inv_l * gate[ch][k]);
            }
        }
        barrier();
    }
#if defined(SPLIT)
    if (S > 1u) combine_splits(t, hq, S, ob);
#endif
}
