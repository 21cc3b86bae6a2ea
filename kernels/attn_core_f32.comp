#version 450
// Causal gated attention core for one (query head, query token) per
// workgroup (grid Hq x T), online softmax over key blocks of WG_SIZE keys:
// thread i scores key i of the block (q staged in shared memory), the block
// max / sum are workgroup reductions, then each thread accumulates DPT
// output dims (d = tid + WG_SIZE * n) over the block's keys, reading V rows
// coalesced.  Query t sees keys 0 .. cache_pos + t.  The output is gated:
// out = softmax(q K^T / sqrt(hd)) V * sigmoid(gate).
//   q [T, Hq, hd], qg [T, Hq*2*hd] (gate = second half per head),
//   k_cache, v_cache [Hkv, max_ctx, hd], out [T, Hq*hd]
#define WG_SIZE 128
#ifndef DPT
#define DPT 2
#endif
#define MAX_HD (WG_SIZE * DPT)
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/wg_reduce.glsl"
layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer QG { float qg[]; };
layout(std430, binding = 2) readonly buffer KC { float k_cache[]; };
layout(std430, binding = 3) readonly buffer VC { float v_cache[]; };
layout(std430, binding = 4) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint T; uint Hq; uint Hkv; uint hd; uint cache_pos; uint max_ctx; float scale; } pc;

shared float qsh[MAX_HD];
shared float psh[WG_SIZE];

void main() {
    uint hq = gl_WorkGroupID.x;
    uint t = gl_WorkGroupID.y;
    uint tid = gl_LocalInvocationID.x;
    uint kvh = hq / (pc.Hq / pc.Hkv);
    uint n_keys = pc.cache_pos + t + 1u;
    uint kv_base = kvh * pc.max_ctx * pc.hd;

    for (uint d = tid; d < pc.hd; d += WG_SIZE) qsh[d] = q[(t * pc.Hq + hq) * pc.hd + d] * pc.scale;
    barrier();

    float acc[DPT];
    for (uint n = 0; n < DPT; ++n) acc[n] = 0.0;
    float m = -1.0 / 0.0;
    float l = 0.0;

    for (uint k0 = 0; k0 < n_keys; k0 += WG_SIZE) {
        uint key = k0 + tid;
        float sc = -1.0 / 0.0;
        if (key < n_keys) {
            uint kr = kv_base + key * pc.hd;
            float s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
            uint d = 0;
            for (; d + 4u <= pc.hd; d += 4u) {
                s0 += qsh[d] * k_cache[kr + d];
                s1 += qsh[d + 1u] * k_cache[kr + d + 1u];
                s2 += qsh[d + 2u] * k_cache[kr + d + 2u];
                s3 += qsh[d + 3u] * k_cache[kr + d + 3u];
            }
            for (; d < pc.hd; ++d) s0 += qsh[d] * k_cache[kr + d];
            sc = (s0 + s1) + (s2 + s3);
        }
        float m_new = max(m, wg_max1(sc));
        float p = key < n_keys ? exp(sc - m_new) : 0.0;
        float corr = exp(m - m_new);
        psh[tid] = p;
        l = l * corr + wg_sum1(p);  // the reduction's barriers also publish psh
        m = m_new;
        uint nb = min(uint(WG_SIZE), n_keys - k0);
        for (uint n = 0; n < DPT; ++n) {
            uint d = tid + n * WG_SIZE;
            float a = acc[n] * corr;
            if (d < pc.hd)
                for (uint kk = 0; kk < nb; ++kk) a += psh[kk] * v_cache[kv_base + (k0 + kk) * pc.hd + d];
            acc[n] = a;
        }
        barrier();  // psh is rewritten by the next block
    }
    float inv_l = 1.0 / l;
    for (uint n = 0; n < DPT; ++n) {
        uint d = tid + n * WG_SIZE;
        if (d < pc.hd) {
            float gate = qg[t * pc.Hq * 2u * pc.hd + hq * 2u * pc.hd + pc.hd + d];
            o[t * pc.Hq * pc.hd + hq * pc.hd + d] = acc[n] * inv_l * sigmoid_f(gate);
        }
    }
}
