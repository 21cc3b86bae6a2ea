#version 450
// Row-wise RMSNorm: y = x * rsqrt(mean(x^2) + eps) * (ONE_PLUS ? 1 + w : w),
// one workgroup per row.  Qwen3.5's Qwen3_5RMSNorm uses ONE_PLUS = 1.
// ADD_RESIDUAL: x = a + b, also written to s: the residual add and the next
// norm in one dispatch.  VEC4 (cols % 4 == 0): vec4 loads and stores.
// Two passes over the row; the second recomputes x from the same loads
// (cache hits), so every thread's view of x is its own.
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
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
#define LOAD(i) (a[i] + b[i])
#else
layout(std430, binding = 0) readonly buffer X { VT x[]; };
layout(std430, binding = 1) readonly buffer W { VT w[]; };
layout(std430, binding = 2) writeonly buffer Y { VT y[]; };
#define LOAD(i) x[i]
#endif
layout(push_constant) uniform P { uint cols; float eps; uint one_plus; } pc;
void main() {
    uint n = pc.cols / VW;
    uint base = gl_WorkGroupID.x * n;
    float ss = 0.0;
    for (uint c = gl_LocalInvocationID.x; c < n; c += WG_SIZE) {
        VT v = LOAD(base + c);
#if defined(ADD_RESIDUAL)
        s[base + c] = v;
#endif
        ss += dot(v, v);
    }
    float scale = inversesqrt(wg_sum1_fast(ss) / float(pc.cols) + pc.eps);
    for (uint c = gl_LocalInvocationID.x; c < n; c += WG_SIZE) {
        VT g = pc.one_plus != 0u ? VT(1.0) + w[c] : w[c];
        y[base + c] = LOAD(base + c) * scale * g;
    }
}
