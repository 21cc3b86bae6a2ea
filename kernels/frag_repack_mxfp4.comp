#version 450
// EXPERIMENT (with matvec_frag.comp): repacks an MXFP4 weight's codes from
// the standard layout (element i of a row in nibble i % 8 of word i / 8)
// into matvec_frag.comp's fragment order, on the device (the host form,
// ops::frag_repack_mxfp4, documents the order; both must agree: the
// matvec_frag kernel check compares them).  One invocation per output word:
// (16-row tile, 64-column group, lane, 16 x 16 A tile); rows past M give
// zero codes.
#include "common/frag_order.glsl"  // KMAJOR: the pieces' order
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 1) readonly buffer Lay { uint lay[]; };  // matvec_frag's table
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };
layout(push_constant) uniform P { uint M; uint K; uint gx; } pc;

void main() {
    const uint o = (gl_WorkGroupID.y * pc.gx + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
    const uint groups = pc.K / 64u, tiles = (pc.M + 15u) / 16u;
    if (o >= tiles * groups * 128u) return;
    const uvec2 tg = frag_piece_at(o >> 7, tiles, groups);
    const uint kt = o & 3u, l = (o >> 2) & 31u, g = tg.y, tile = tg.x;
    uint w = 0u;
    for (uint i = 0u; i < 8u; ++i) {
        const uint a = lay[l * 16u + i];
        // The table's x position of this k within its 32-column block
        // (matvec_frag.comp's XQ order; the identity otherwise).
        const uint r = tile * 16u + (a >> 4), k = g * 64u + (kt >> 1) * 32u + lay[640u + (kt & 1u) * 16u + (a & 15u)];
        if (r >= pc.M) continue;
        const uint code = (src[r * (pc.K / 8u) + k / 8u] >> (4u * (k % 8u))) & 15u;
        w |= (code & 7u) << (3u * (i >> 1) + 16u * (i & 1u));   // magnitude
#if defined(SIGNS12) && SIGNS12  // A/B (kernel_tuning::frag_signs12): the earlier sign positions 12 + p
        w |= (code >> 3) << (12u + (i >> 1) + 16u * (i & 1u));
#else
        w |= (code >> 3) << ((i >> 1) == 3u ? 15u : 14u - (i >> 1)) + 16u * (i & 1u);  // sign (ops::frag_sign_bit)
#endif
    }
    dst[o] = w;
}
