#version 450
// Gated attention input preparation: per (token, head) RMSNorm (1+w) over hd,
// interleaved M-RoPE (NeoX rotate_half pairs j, j+rot/2) on the first rot
// dims, and the K/V append to the cache.  Grid (Hq + Hkv, T): groups with
// x < Hq do query head x (from the qg projection), the others kv head x-Hq.
// The normed row is staged in shared memory for the rotation (hd <= MAX_HD).
#define WG_SIZE 128
#define MAX_HD 1024
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/wg_reduce.glsl"
layout(std430, binding = 0) readonly buffer QG { float qg[]; };
layout(std430, binding = 1) readonly buffer Kb { float k_in[]; };
layout(std430, binding = 2) readonly buffer Vb { float v_in[]; };
layout(std430, binding = 3) readonly buffer QN { float q_norm[]; };
layout(std430, binding = 4) readonly buffer KN { float k_norm[]; };
layout(std430, binding = 5) readonly buffer Pos { int pos[]; };
layout(std430, binding = 6) writeonly buffer QO { float q_out[]; };
layout(std430, binding = 7) writeonly buffer KC { float k_cache[]; };
layout(std430, binding = 8) writeonly buffer VC { float v_cache[]; };
layout(push_constant) uniform P {
    uint T; uint Hq; uint Hkv; uint hd; uint rot;
    uint sec_h; uint sec_w; float theta_log2; float eps; uint cache_pos; uint max_ctx;
} pc;

shared float xs[MAX_HD];

void main() {
    uint head = gl_WorkGroupID.x;
    uint t = gl_WorkGroupID.y;
    uint tid = gl_LocalInvocationID.x;
    bool is_q = head < pc.Hq;
    uint kvh = head - pc.Hq;
    uint src = is_q ? t * pc.Hq * 2u * pc.hd + head * 2u * pc.hd : (t * pc.Hkv + kvh) * pc.hd;
    uint cache_row = (kvh * pc.max_ctx + pc.cache_pos + t) * pc.hd;

    float ss = 0.0;
    for (uint d = tid; d < pc.hd; d += WG_SIZE) {
        float x = is_q ? qg[src + d] : k_in[src + d];
        xs[d] = x;
        ss += x * x;
        if (!is_q) v_cache[cache_row + d] = v_in[src + d];
    }
    float scale = inversesqrt(wg_sum1(ss) / float(pc.hd) + pc.eps);
    for (uint d = tid; d < pc.hd; d += WG_SIZE)
        xs[d] = xs[d] * scale * (1.0 + (is_q ? q_norm[d] : k_norm[d]));
    barrier();

    uint half_rot = pc.rot / 2u;
    for (uint d = tid; d < pc.hd; d += WG_SIZE) {
        float y = xs[d];
        if (d < pc.rot) {
            uint i = d < half_rot ? d : d - half_rot;
            uint r = 0u;  // row T
            if (i % 3u == 1u && i < 3u * pc.sec_h) r = 1u;
            else if (i % 3u == 2u && i < 3u * pc.sec_w) r = 2u;
            float inv_freq = exp2(-float(2u * i) / float(pc.rot) * pc.theta_log2);
            float ang = float(pos[r * pc.T + t]) * inv_freq;
            float c = cos(ang), s = sin(ang);
            y = d < half_rot ? y * c - xs[d + half_rot] * s : y * c + xs[d - half_rot] * s;
        }
        if (is_q) q_out[(t * pc.Hq + head) * pc.hd + d] = y;
        else k_cache[cache_row + d] = y;
    }
}
