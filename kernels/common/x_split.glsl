// x split into fp16 hi and lo for tensor-core products that use 22 bits of
// x (x_split_f16.comp, matvec_frag.comp XF32): hi is x with its low 13
// mantissa bits cleared (11 significant bits, exact in fp16 for
// 2^-14 <= |x| < 65520), lo = fp16(x - hi) (x - hi is exact in fp32).  By
// bit operations rather than lo = fp16(x - fp32(fp16(x))): on an H100
// (driver 580) that form gave results no better than hi alone, as if the
// round trip were folded to x and lo were 0.
#ifndef MLXMTP_X_SPLIT_GLSL
#define MLXMTP_X_SPLIT_GLSL
void x_split(vec2 v, out f16vec2 hi, out f16vec2 lo) {
    const vec2 h = uintBitsToFloat(floatBitsToUint(v) & 0xFFFFE000u);
    hi = f16vec2(h);
    lo = f16vec2(v - h);
}
// x's (hi, lo) as one word (hi in the low half): what matvec_frag.comp's
// XP=1 takes as a B element pair; the same halves as x_split.
uint x_pair(float x) {
    f16vec2 h, l;
    x_split(vec2(x, 0.0), h, l);
    return packFloat2x16(f16vec2(h.x, l.x));
}
// x rounded to fp16 by the device's own conversion (one instruction for two
// values on NVIDIA; to nearest even there and on llvmpipe; Vulkan leaves the
// mode to the implementation, so the kernel checks accept round-to-zero
// too): producers and the kernel use this one function, so on one device
// they give the same bits.  |x| < 65520.  The x of matvec_frag.comp's X16
// form (8 tokens per column group).  (A bit-exact round to nearest even by
// integer operations cost 0.4 ms per H100 decode, 2026-12-06.)
f16vec2 x_round16(vec2 v) { return f16vec2(v); }
// Where token t's element e of an X16 producer's output lies (rows of
// `stride` elements) in halves: the pair word [(t / 2) * stride + e] holds
// tokens 2m (low half) and 2m + 1, the B element pair of matvec_frag.comp's
// X16 + XP.
uint x16_half(uint t, uint e, uint stride) { return ((t >> 1) * stride + e) * 2u + (t & 1u); }
#endif
