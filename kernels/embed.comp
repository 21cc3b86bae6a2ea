#version 450
// Embedding gather: y[t, :] = dequantize(E[ids[t] - row0, :]) for tokens whose
// id falls in this chunk of the table, rows [row0, row0 + M).  One workgroup
// per token.  Formats as in matvec.comp.
#define WG_SIZE 64
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/mx.glsl"
#if defined(WEIGHT_F32)
layout(std430, binding = 0) readonly buffer Wt { float w[]; };
#else
layout(std430, binding = 0) readonly buffer Wt { uint w[]; };
#endif
layout(std430, binding = 1) readonly buffer Sc { uint sc[]; };
layout(std430, binding = 2) readonly buffer Ids { int ids[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint M; uint K; uint row0; uint T; } pc;

void main() {
    uint t = gl_WorkGroupID.x;
    if (t >= pc.T) return;
    int id = ids[t];
    if (id < int(pc.row0) || id >= int(pc.row0 + pc.M)) return;
    uint r = uint(id) - pc.row0;
    for (uint k = gl_LocalInvocationID.x; k < pc.K; k += WG_SIZE) {
#if defined(WEIGHT_F32)
        float v = w[r * pc.K + k];
#elif defined(WEIGHT_BF16)
        uint word = w[(r * pc.K + k) >> 1];
        float v = (k & 1u) == 0u ? bf16_lo(word) : bf16_hi(word);
#elif defined(WEIGHT_MXFP4)
        uint word = w[(r * pc.K + k) >> 3];
        float v = e2m1((word >> (4u * (k & 7u))) & 15u) * e8m0_scale(MX_BYTE(sc, (r * pc.K + k) >> 5));
#else
        uint word = w[(r * pc.K + k) >> 2];
        float v = e4m3((word >> (8u * (k & 3u))) & 255u) * e8m0_scale(MX_BYTE(sc, (r * pc.K + k) >> 5));
#endif
        y[t * pc.K + k] = v;
    }
}
