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
    uint sec_h; uint sec_w; float base_hi; float base_lo; float eps; uint cache_pos; uint max_ctx;
} pc;

shared float xs[MAX_HD];

// Error-free product a*b = p + e (Dekker / Veltkamp split; no reliance on a
// fused fma, which Vulkan does not guarantee).
vec2 two_prod(float a, float b) {
    precise float p = a * b;
    precise float ca = 4097.0 * a;
    precise float ah = ca - (ca - a);
    precise float al = a - ah;
    precise float cb = 4097.0 * b;
    precise float bh = cb - (cb - b);
    precise float bl = b - bh;
    precise float e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    return vec2(p, e);
}

// Double-float (hi + lo) product, for inv_freq = base^i accurate to ~1e-14.
vec2 df_mul(vec2 a, vec2 b) {
    vec2 pe = two_prod(a.x, b.x);
    precise float e = pe.y + (a.x * b.y + a.y * b.x);
    precise float hi = pe.x + e;
    precise float lo = e - (hi - pe.x);
    return vec2(hi, lo);
}

// cos / sin of p * f (f a double-float) with the product's rounding error
// kept and an exact reduction modulo 2 pi, so that large positions keep full
// fp32 accuracy (|p| < 2^24).
void rope_cos_sin(float p, vec2 f, out float c, out float s) {
    vec2 ae = two_prod(p, f.x);
    precise float e = ae.y + p * f.y;
    float n = round(ae.x * 0.15915494309189535);
    vec2 m = two_prod(n, 6.28318548202514648);  // n * float(2 pi), exactly
    precise float r = (ae.x - m.x) - m.y;
    r = r + (e + n * 1.7484555314695172e-7);    // 2 pi - float(2 pi)
    c = cos(r);
    s = sin(r);
}

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
            vec2 inv_freq = vec2(1.0, 0.0), base = vec2(pc.base_hi, pc.base_lo);
            for (uint e = i; e != 0u; e >>= 1) {  // base^i by squaring
                if ((e & 1u) != 0u) inv_freq = df_mul(inv_freq, base);
                base = df_mul(base, base);
            }
            float c, s;
            rope_cos_sin(float(pos[r * pc.T + t]), inv_freq, c, s);
            y = d < half_rot ? y * c - xs[d + half_rot] * s : y * c + xs[d - half_rot] * s;
        }
        if (is_q) q_out[(t * pc.Hq + head) * pc.hd + d] = y;
        else k_cache[cache_row + d] = y;
    }
}
