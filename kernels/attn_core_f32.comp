#version 450
#extension GL_EXT_control_flow_attributes : enable
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
layout(push_constant) uniform P { uint T; uint Hq; uint Hkv; uint hd; uint cache_pos; uint max_ctx; float scale; } pc;

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

void load_kv(uint key0, uint n_keys, uint kv_base, out float kv[KB][NV], out float vv[KB][NV]) {
    [[unroll]] for (uint j = 0; j < KB; ++j) {
        uint kr = kv_base + min(key0 + j, n_keys - 1u) * pc.hd;
        [[unroll]] for (uint n = 0; n < NV; ++n) {
            uint d = lane + G * n;
            kv[j][n] = d < pc.hd ? k_cache[kr + d] : 0.0;
            vv[j][n] = d < pc.hd ? v_cache[kr + d] : 0.0;
        }
    }
}

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
    uint nbat = (n_keys + NG * KB - 1u) / (NG * KB);
    float kv[KB][NV], vv[KB][NV];
    load_kv(grp * KB, n_keys, kv_base, kv, vv);
    for (uint b = 0; b < nbat; ++b) {  // uniform over the workgroup
        uint key0 = b * (NG * KB) + grp * KB;
        float kn[KB][NV], vn[KB][NV];
        load_kv(key0 + NG * KB, n_keys, kv_base, kn, vn);
        float sc[KB];
        [[unroll]] for (uint j = 0; j < KB; ++j) {
            float s0 = 0.0;
            [[unroll]] for (uint n = 0; n < NV; ++n) s0 += qv[n] * kv[j][n];
            sc[j] = s0;
        }
        [[unroll]] for (uint j = 0; j < KB; ++j) sc[j] = group_sum(sc[j], b * KB + j);
        if (key0 < n_keys) {  // uniform over the group
            float bm = sc[0];
            [[unroll]] for (uint j = 1; j < KB; ++j)
                if (key0 + j < n_keys) bm = max(bm, sc[j]);
            float m_new = max(m, bm);
            float corr = exp(m - m_new);
            float p[KB];
            float ps = 0.0;
            [[unroll]] for (uint j = 0; j < KB; ++j) {
                p[j] = key0 + j < n_keys ? exp(sc[j] - m_new) : 0.0;
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
    for (uint g = 1; g < NG; ++g) M = max(M, mlsh[g].x);  // group 0 always has key 0
    float L = 0.0;
    for (uint g = 0; g < NG; ++g) L += mlsh[g].y * exp(mlsh[g].x - M);
    float f = exp(m - M);  // 0 for a group without keys
    float inv_l = 1.0 / L;
    uint ob = t * pc.Hq * hd + hq * hd;
    [[unroll]] for (uint ch = 0; ch < NCH; ++ch) {
        [[unroll]] for (uint i = 0; i < IC; ++i)
            if (ch * IC + i < NV) comb[grp * (G * IC) + G * i + lane] = acc[ch * IC + i] * f;
        barrier();
        [[unroll]] for (uint k = 0; k < GX; ++k) {
            uint x = gl_LocalInvocationID.x + WG_SIZE * k, d = ch * (G * IC) + x;
            if (x < G * IC && d < hd) {
                float sum = comb[x];
                for (uint g = 1; g < NG; ++g) sum += comb[g * (G * IC) + x];
                o[ob + d] = sum * inv_l * gate[ch][k];
            }
        }
        barrier();
    }
}
