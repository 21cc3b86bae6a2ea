#version 450
// y[i] = silu(gate[i]) * up[i]; one thread per element, 1-D grid split over (x, y).
#define WG_SIZE 256
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
layout(std430, binding = 0) readonly buffer G { float gate[]; };
layout(std430, binding = 1) readonly buffer U { float up[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n; } pc;
void main() {
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * WG_SIZE + gl_LocalInvocationID.x;
    if (i >= pc.n) return;
    y[i] = swiglu(gate[i], up[i]);
}
