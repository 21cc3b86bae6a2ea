#version 450
// EXPERIMENT (with matvec_frag.comp): splits N columns of K fp32 activations
// into fp16 pairs hi and lo (common/x_split.glsl), so that a tensor-core
// product over hi and lo uses 22 bits of x.  Output per column
// n: K/2 words of hi pairs, then K/2 words of lo pairs (elements 2i, 2i + 1
// in the low and high halves).  Needs |x| < 65504 (fp16's range).
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#include "common/x_split.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { vec2 x2[]; };
layout(std430, binding = 1) writeonly buffer Xs { uint xs[]; };
layout(push_constant) uniform P { uint K; uint N; uint gx; } pc;

void main() {
    const uint i = (gl_WorkGroupID.y * pc.gx + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
    const uint half_k = pc.K / 2u;
    if (i >= pc.N * half_k) return;
    const uint n = i / half_k, p = i % half_k;
    const vec2 v = x2[i];
    f16vec2 hi, lo;
    x_split(v, hi, lo);
    xs[n * pc.K + p] = packFloat2x16(hi);
    xs[n * pc.K + half_k + p] = packFloat2x16(lo);
}
