#version 450
// Reads a weight's bytes so that they sit in the L2 cache when its product
// runs (ops::l2_prefetch; kernel_tuning::l2_prefetch): recorded beside a
// stage that leaves memory idle (the GDN recurrence, the attention core),
// the next product then streams from L2.  The loads feed a value that is
// written to `sink` only if it equals a constant (so they are not removed;
// the sink is never read).
#extension GL_EXT_control_flow_attributes : enable
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer S { uvec4 src[]; };
layout(std430, binding = 1) writeonly buffer D { uint sink[]; };
layout(push_constant) uniform P { uint n; } pc;  // uvec4 elements
#define UNR 4u  // loads in flight per invocation
void main() {
    const uint stride = gl_NumWorkGroups.x * 256u;
    uvec4 acc = uvec4(0u);
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += UNR * stride) {
        uvec4 v[UNR];
        [[unroll]] for (uint u = 0u; u < UNR; ++u) v[u] = i + u * stride < pc.n ? src[i + u * stride] : uvec4(0u);
        [[unroll]] for (uint u = 0u; u < UNR; ++u) acc ^= v[u];
    }
    const uint h = acc.x ^ acc.y ^ acc.z ^ acc.w;
    if (h == 0x9e3779b9u) sink[0] = h;
}
