#version 450
// The fragment-ordered scales of a frag copy (matvec_frag.comp FSC; the
// host form, ops::frag_repack_scales, documents the order and the kernel
// check compares both): per 16-row tile and 64-column group 8 words, word q
// holding the E8M0 bytes plus 14 of its two rows' (the table's, at 704)
// two 32-column blocks, byte 2 j + b for row j and block b.  One
// invocation per word; rows past M (and unused words, row 16) give zeros.
#include "common/frag_order.glsl"  // KMAJOR: the pieces' order
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Src { uint src[]; };  // E8M0 bytes [M][K / 32]
layout(std430, binding = 1) readonly buffer Lay { uint lay[]; };  // matvec_frag's table
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };
layout(push_constant) uniform P { uint M; uint K; uint gx; } pc;

uint scale_byte(uint row, uint blk) {
    const uint i = row * (pc.K / 32u) + blk;
    return (src[i >> 2] >> (8u * (i & 3u))) & 0xffu;
}

void main() {
    const uint o = (gl_WorkGroupID.y * pc.gx + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
    const uint groups = pc.K / 64u, tiles = (pc.M + 15u) / 16u;
    if (o >= tiles * groups * 8u) return;
    const uvec2 tg = frag_piece_at(o >> 3, tiles, groups);
    const uint q = o & 7u, g = tg.y, tile = tg.x;
    uint w = 0u;
    for (uint j = 0u; j < 2u; ++j) {
        const uint r = lay[704u + 2u * q + j], row = tile * 16u + r;
        if (r >= 16u || row >= pc.M) continue;
        for (uint b = 0u; b < 2u; ++b) w |= (scale_byte(row, 2u * g + b) + 14u) << (8u * (2u * j + b));
    }
    dst[o] = w;
}
