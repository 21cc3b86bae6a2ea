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
#endif
