// MX (OCP microscaling) element and scale decoding, bit-exact with MLX's
// dequantize: E8M0 scales (0 -> 2^-127, 255 -> inf), E2M1 (FP4) and E4M3
// (FP8; 0x7F decodes to 480 as MLX does).  Layout: element i of a row lives
// in uint32 word i/8 (FP4, bits 4*(i%8)) or i/4 (FP8, bits 8*(i%4)); one
// scale byte per group of 32 elements.
#ifndef MLXMTP_MX_GLSL
#define MLXMTP_MX_GLSL

float e8m0_scale(uint b) {
    return b == 0u ? uintBitsToFloat(0x00400000u) : uintBitsToFloat(b << 23);
}

const float kE2M1[8] = float[8](0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0);

float e2m1(uint code) {
    float v = kE2M1[code & 7u];
    return (code & 8u) != 0u ? -v : v;
}

float e4m3(uint code) {
    uint e = (code >> 3) & 15u;
    uint m = code & 7u;
    float v = e == 0u ? float(m) * (1.0 / 512.0)                       // m/8 * 2^-6
                      : uintBitsToFloat(((e + 120u) << 23) | (m << 20));  // (1+m/8) * 2^(e-7)
    return (code & 0x80u) != 0u ? -v : v;
}

// Exact decoding two codes at a time: the bits of two codes are moved into
// the halves of an fp16 pair, so unpackHalf2x16 gives both elements times a
// power of two (E2M1 subnormal codes land on fp16 subnormals; E4M3 0x7F on
// 1.875 * 2^0, i.e. 480 * 2^-8).  Multiply by kFp*PairScale (and the E8M0
// scale) for the element values.
//
// Elements j and j + 4 of FP4 word q (j < 4), times 2^-14: sign to bit 15,
// the three exponent / mantissa bits to bits 9..11 of each half.
uint fp4_pair(uint q, uint j) {
    uint t = q << (12u - 4u * j);
    return (t & 0x80008000u) | ((t >> 3) & 0x0E000E00u);
}
const uint kFp4PairExp = 14u;
const float kFp4PairScale = float(1u << kFp4PairExp);  // 2^14

// Elements 0 and 2 (odd = 0) or 1 and 3 (odd = 1) of FP8 word q, times 2^-8:
// sign to bit 15, the seven exponent / mantissa bits to bits 7..13.
uint fp8_pair(uint q, uint odd) {
    uint t = q << (8u - 8u * odd);
    return (t & 0x80008000u) | ((t >> 1) & 0x3F803F80u);
}
const uint kFp8PairExp = 8u;
const float kFp8PairScale = float(1u << kFp8PairExp);  // 2^8

// Byte `i` of a uint array.
#define MX_BYTE(arr, i) ((arr[(i) >> 2] >> (8u * ((i) & 3u))) & 0xffu)

#endif
