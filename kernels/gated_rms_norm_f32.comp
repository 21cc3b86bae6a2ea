#version 450
// Gated DeltaNet output norm: y = (o * rsqrt(mean(o^2) + eps)) * w * silu(z)
// per (token, value head) row of dv values.  One workgroup per row (grid
// split over x, y); WG_SIZE threads stride over the row.
#define WG_SIZE 64
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/wg_reduce.glsl"
layout(std430, binding = 0) readonly buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer Z { float z[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint rows; uint dv; float eps; } pc;
void main() {
    uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (r >= pc.rows) return;  // uniform per workgroup
    uint base = r * pc.dv;
    float ss = 0.0;
    for (uint c = gl_LocalInvocationID.x; c < pc.dv; c += WG_SIZE) {
        float v = o[base + c];
        ss += v * v;
    }
    float scale = inversesqrt(wg_sum1(ss) / float(pc.dv) + pc.eps);
    for (uint c = gl_LocalInvocationID.x; c < pc.dv; c += WG_SIZE)
        y[base + c] = o[base + c] * scale * w[c] * silu(z[base + c]);
}
