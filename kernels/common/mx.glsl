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

// Byte `i` of a uint array.
#define MX_BYTE(arr, i) ((arr[(i) >> 2] >> (8u * ((i) & 3u))) & 0xffu)

#endif
