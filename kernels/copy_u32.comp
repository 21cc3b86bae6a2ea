#version 450
// dst[i] = src[i] over uvec4 elements: the compute copy whose bandwidth is the
// device's memory ceiling (bytes read + written).
#define WG_SIZE 256
layout(local_size_x = WG_SIZE) in;
layout(std430, binding = 0) readonly buffer S { uvec4 src[]; };
layout(std430, binding = 1) writeonly buffer D { uvec4 dst[]; };
layout(push_constant) uniform P { uint n; } pc;  // uvec4 elements
void main() {
    uint stride = gl_NumWorkGroups.x * WG_SIZE;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) dst[i] = src[i];
}
