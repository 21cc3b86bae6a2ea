#version 450
// Row-wise RMSNorm: y = x * rsqrt(mean(x^2) + eps) * (ONE_PLUS ? 1 + w : w).
// One workgroup per row.  Qwen3.5's Qwen3_5RMSNorm uses ONE_PLUS = 1.
#define WG_SIZE 128
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/wg_reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint cols; float eps; uint one_plus; } pc;
void main() {
    uint row = gl_WorkGroupID.x;
    uint base = row * pc.cols;
    float ss = 0.0;
    for (uint c = gl_LocalInvocationID.x; c < pc.cols; c += WG_SIZE) {
        float v = x[base + c];
        ss += v * v;
    }
    float scale = inversesqrt(wg_sum1(ss) / float(pc.cols) + pc.eps);
    for (uint c = gl_LocalInvocationID.x; c < pc.cols; c += WG_SIZE) {
        float g = pc.one_plus != 0u ? 1.0 + w[c] : w[c];
        y[base + c] = x[base + c] * scale * g;
    }
}
