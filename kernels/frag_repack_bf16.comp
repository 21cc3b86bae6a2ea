#version 450
// Repacks a bf16 weight (element i of a row in half i % 2 of word i / 2)
// for matvec_frag.comp's AF16 form, in two passes (push constant `pass`):
//  0: one E8M0 byte per row and 32-column block, [row][K / 32] as MXFP4's
//     scales: b = e - 28 (at least 0), e the biased exponent of the block's
//     largest |w|, so that A = w * 2^(113 - b) puts that largest |w| in
//     [2^14, 2^15) and the kernel's 2^(b - 127 + 14) gives w back.  An
//     all-zero block gets 0.  (e <= 255, so b <= 227 <= ops::max_scale_byte.)
//  1: the A words, one invocation per output word: (16-row tile, 64-column
//     group, 16 x 16 A tile kt, lane) holds as a uvec4 the lane's 8 fragment
//     elements (the table's A positions; columns in its x order within each
//     32-column block), element i in half i % 2 of word i / 2, each w times
//     2^(113 - b) as fp16 (exact for |w| >= 2^-31 of the block's largest:
//     bf16 keeps 8 significant bits; smaller ones round to fp16 subnormals).
//     Rows past M give zeros.
// The host reference for the bytes is ops::frag_bf16_scale_byte; the kernel
// check (matvec_frag_bf16) compares them, and the product with the exact
// bf16 weight.
#include "common/frag_order.glsl"  // KMAJOR: the pieces' order
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Src { uint src[]; };  // bf16 [M][K]
layout(std430, binding = 1) readonly buffer Lay { uint lay[]; };  // matvec_frag's table
layout(std430, binding = 2) buffer Sc { uint sc[]; };              // E8M0 bytes [M][K / 32] (pass 0 writes)
layout(std430, binding = 3) writeonly buffer Dst { uint dst[]; };  // A words (pass 1)
layout(push_constant) uniform P { uint M; uint K; uint gx; uint pass_; } pc;

uint bf16_bits(uint r, uint k) { return (src[(r * pc.K + k) >> 1] >> (16u * (k & 1u))) & 0xffffu; }

uint scale_byte(uint r, uint blk) {
    uint mx = 0u;
    for (uint i = 0u; i < 32u; ++i) mx = max(mx, bf16_bits(r, blk * 32u + i) & 0x7fffu);
    const uint e = mx >> 7;
    return e > 28u ? e - 28u : 0u;
}

void main() {
    const uint o = (gl_WorkGroupID.y * pc.gx + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
    const uint bpr = pc.K / 32u;  // blocks per row
    if (pc.pass_ == 0u) {
        const uint nb = pc.M * bpr;
        if (o * 4u >= nb) return;
        uint word = 0u;
        for (uint j = 0u; j < 4u; ++j) {
            const uint idx = o * 4u + j;
            if (idx < nb) word |= scale_byte(idx / bpr, idx % bpr) << (8u * j);
        }
        sc[o] = word;
        return;
    }
    const uint groups = pc.K / 64u, tiles = (pc.M + 15u) / 16u;
    if (o >= tiles * groups * 512u) return;
    const uint v = o >> 2, l = v & 31u, kt = (v >> 5) & 3u;
    const uvec2 tg = frag_piece_at(v >> 7, tiles, groups);
    const uint g = tg.y, tile = tg.x;
    vec2 e = vec2(0.0);
    for (uint h = 0u; h < 2u; ++h) {
        const uint a = lay[l * 16u + 2u * (o & 3u) + h];
        const uint r = tile * 16u + (a >> 4), k = g * 64u + (kt >> 1) * 32u + lay[640u + (kt & 1u) * 16u + (a & 15u)];
        if (r >= pc.M) continue;
        const uint bi = r * bpr + k / 32u, b = (sc[bi >> 2] >> (8u * (bi & 3u))) & 0xffu;
        e[h] = uintBitsToFloat(bf16_bits(r, k) << 16) * uintBitsToFloat((240u - b) << 23);
    }
    dst[o] = packHalf2x16(e);
}
