#version 450
// Row-wise RMSNorm: y = x * rsqrt(mean(x^2) + eps) * (ONE_PLUS ? 1 + w : w),
// one workgroup per row.  Qwen3.5's Qwen3_5RMSNorm uses ONE_PLUS = 1.
// ADD_RESIDUAL: x = a + b, also written to s: the residual add and the next
// norm in one dispatch.  VEC4 (cols % 4 == 0): vec4 loads and stores.
// The row's values are loaded once into registers (CACHE per thread, all
// loads in flight together: one memory round trip instead of one per
// loop step); rows longer than CACHE * WG_SIZE * VW loop over the rest, and
// the second pass recomputes those from the same loads (cache hits).  The
// per-thread order of the sum of squares is the plain strided loop's.
// XP_OUT: y also as (hi, lo) fp16 pair words (common/x_split.glsl x_pair),
// the x that matvec_frag.comp's XP=1 reads.  XP_OUT=2: instead y rounded to
// fp16 in token-pair words (common/x_split.glsl x16_half), the x of
// matvec_frag.comp's X16 + XP: then each workgroup normalizes rows 2m and
// 2m + 1 (each row exactly as alone: the same bits) and writes their words
// whole (16-bit stores of one row, every other half, made the H100's 27B
// decode 0.08 ms slower).
// Slices (grid y > 1; decode / verify): every workgroup of a row computes
// the row's sum of squares (the same loads and order: the same bits) and
// writes only its slice of the outputs, 1 / (grid y) of the row.
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#extension GL_EXT_control_flow_attributes : enable
#if defined(XP_OUT)
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#if XP_OUT == 2
#extension GL_EXT_shader_16bit_storage : require
#endif
#endif
#define WG_SIZE 256
#define WG_REDUCE_SUBGROUPS
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/wg_reduce.glsl"
#if defined(VEC4)
#define VT vec4
#define VW 4u
#else
#define VT float
#define VW 1u
#endif
#if defined(ADD_RESIDUAL)
layout(std430, binding = 0) readonly buffer A { VT a[]; };
layout(std430, binding = 1) readonly buffer B { VT b[]; };
layout(std430, binding = 2) readonly buffer W { VT w[]; };
layout(std430, binding = 3) writeonly buffer S { VT s[]; };
layout(std430, binding = 4) writeonly buffer Y { VT y[]; };
#define YP_BINDING 5
#define LOAD(i) (a[i] + b[i])
#else
layout(std430, binding = 0) readonly buffer X { VT x[]; };
layout(std430, binding = 1) readonly buffer W { VT w[]; };
layout(std430, binding = 2) writeonly buffer Y { VT y[]; };
#define YP_BINDING 3
#define LOAD(i) x[i]
#endif
layout(push_constant) uniform P { uint cols; float eps; uint one_plus; uint rows; } pc;
#if defined(XP_OUT) && XP_OUT == 2
#include "common/x_split.glsl"
#define PAIR_ROWS 2u
#if defined(VEC4)
layout(std430, binding = YP_BINDING) writeonly buffer YP { uvec4 yp[]; };
uvec4 words(vec4 a, vec4 b) {
    return uvec4(packFloat2x16(x_round16(vec2(a.x, b.x))), packFloat2x16(x_round16(vec2(a.y, b.y))),
                 packFloat2x16(x_round16(vec2(a.z, b.z))), packFloat2x16(x_round16(vec2(a.w, b.w))));
}
#else
layout(std430, binding = YP_BINDING) writeonly buffer YP { uint yp[]; };
uint words(float a, float b) { return packFloat2x16(x_round16(vec2(a, b))); }
#endif
#elif defined(XP_OUT)
#include "common/x_split.glsl"
#if defined(VEC4)
layout(std430, binding = YP_BINDING) writeonly buffer YP { uvec4 yp[]; };
uvec4 pairs(vec4 v) { return uvec4(x_pair(v.x), x_pair(v.y), x_pair(v.z), x_pair(v.w)); }
#else
layout(std430, binding = YP_BINDING) writeonly buffer YP { uint yp[]; };
uint pairs(float v) { return x_pair(v); }
#endif
#define STORE(i, v) { const VT o_ = (v); y[i] = o_; yp[i] = pairs(o_); }
#else
#define STORE(i, v) y[i] = (v)
#endif
#define CACHE 8
// Whether this workgroup writes element c (of n per row): its slice.
bool mine(uint c, uint n) {
    const uint S = gl_NumWorkGroups.y;
    return S == 1u || c / ((n + S - 1u) / S) == gl_WorkGroupID.y;
}
VT gain(uint c) { return pc.one_plus != 0u ? VT(1.0) + w[c] : w[c]; }
#if defined(PAIR_ROWS)
// Rows 2m and 2m + 1 (m = the workgroup): each as main() below does it alone.
void main() {
    const uint n = pc.cols / VW, t = gl_LocalInvocationID.x, m = gl_WorkGroupID.x;
    const bool two = 2u * m + 1u < pc.rows;  // uniform
    const uint b0 = 2u * m * n, b1 = b0 + n;
    VT v0[CACHE], v1[CACHE];
    [[unroll]] for (uint i = 0u; i < CACHE; ++i) {
        uint c = t + i * WG_SIZE;
        v0[i] = c < n ? LOAD(b0 + c) : VT(0.0);
        v1[i] = two && c < n ? LOAD(b1 + c) : VT(0.0);
    }
    float ss0 = 0.0, ss1 = 0.0;
    [[unroll]] for (uint i = 0u; i < CACHE; ++i) {
#if defined(ADD_RESIDUAL)
        if (t + i * WG_SIZE < n && mine(t + i * WG_SIZE, n)) {
            s[b0 + t + i * WG_SIZE] = v0[i];
            if (two) s[b1 + t + i * WG_SIZE] = v1[i];
        }
#endif
        ss0 += dot(v0[i], v0[i]);
        ss1 += dot(v1[i], v1[i]);
    }
    for (uint c = t + CACHE * WG_SIZE; c < n; c += WG_SIZE) {
        VT u0 = LOAD(b0 + c), u1 = two ? LOAD(b1 + c) : VT(0.0);
#if defined(ADD_RESIDUAL)
        if (mine(c, n)) {
            s[b0 + c] = u0;
            if (two) s[b1 + c] = u1;
        }
#endif
        ss0 += dot(u0, u0);
        ss1 += dot(u1, u1);
    }
    // One reduction for both rows (a lone last row: its own), each row's sum
    // in wg_sum1_fast's order.
    float scale0, scale1 = 0.0;
    if (two) {
        const vec2 r = wg_sum2_fast(vec2(ss0, ss1));
        scale0 = inversesqrt(r.x / float(pc.cols) + pc.eps);
        scale1 = inversesqrt(r.y / float(pc.cols) + pc.eps);
    } else {
        scale0 = inversesqrt(wg_sum1_fast(ss0) / float(pc.cols) + pc.eps);
    }
    [[unroll]] for (uint i = 0u; i < CACHE; ++i) {
        uint c = t + i * WG_SIZE;
        if (c < n && mine(c, n)) {
            const VT y0 = v0[i] * scale0 * gain(c), y1 = v1[i] * scale1 * gain(c);
            y[b0 + c] = y0;
            if (two) y[b1 + c] = y1;
            yp[m * n + c] = words(y0, y1);
        }
    }
    for (uint c = t + CACHE * WG_SIZE; c < n; c += WG_SIZE) {
        if (!mine(c, n)) continue;
        const VT y0 = LOAD(b0 + c) * scale0 * gain(c), y1 = two ? LOAD(b1 + c) * scale1 * gain(c) : VT(0.0);
        y[b0 + c] = y0;
        if (two) y[b1 + c] = y1;
        yp[m * n + c] = words(y0, y1);
    }
}
#else
void main() {
    uint n = pc.cols / VW, t = gl_LocalInvocationID.x;
    uint base = gl_WorkGroupID.x * n;
    VT v[CACHE];
    [[unroll]] for (uint i = 0u; i < CACHE; ++i) {
        uint c = t + i * WG_SIZE;
        v[i] = c < n ? LOAD(base + c) : VT(0.0);
    }
    float ss = 0.0;
    [[unroll]] for (uint i = 0u; i < CACHE; ++i) {
#if defined(ADD_RESIDUAL)
        if (t + i * WG_SIZE < n && mine(t + i * WG_SIZE, n)) s[base + t + i * WG_SIZE] = v[i];
#endif
        ss += dot(v[i], v[i]);
    }
    for (uint c = t + CACHE * WG_SIZE; c < n; c += WG_SIZE) {
        VT u = LOAD(base + c);
#if defined(ADD_RESIDUAL)
        if (mine(c, n)) s[base + c] = u;
#endif
        ss += dot(u, u);
    }
    float scale = inversesqrt(wg_sum1_fast(ss) / float(pc.cols) + pc.eps);
    [[unroll]] for (uint i = 0u; i < CACHE; ++i) {
        uint c = t + i * WG_SIZE;
        if (c < n && mine(c, n)) STORE(base + c, v[i] * scale * gain(c));
    }
    for (uint c = t + CACHE * WG_SIZE; c < n; c += WG_SIZE)
        if (mine(c, n)) STORE(base + c, LOAD(base + c) * scale * gain(c));
}
#endif
