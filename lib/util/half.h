// bf16 / fp16 <-> fp32 conversions on the host.
#pragma once
#include <cstdint>
#include <cstring>

namespace mlxmtp::detail {

inline float bf16_to_f32(uint16_t h) {
    uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Round to nearest even; NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

// Round to nearest even, as IEEE's conversion (subnormals kept, overflow to
// infinity, NaN stays NaN): the reference for the fp16 halves that
// kernels/common/x_split.glsl's x_round16 gives on the device (kernel checks).
inline uint16_t f32_to_f16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520: infinity
    if (a >= 0x38800000u) {  // normal: 2^-14 and up
        const uint32_t r = a + 0xfffu + ((a >> 13) & 1u);
        return static_cast<uint16_t>(sign | (((r >> 13) - ((127u - 15u) << 10)) & 0x7fffu));
    }
    if (a < 0x33000000u) return sign;  // below half the smallest subnormal (2^-25): zero
    // Subnormal: the value in units of 2^-24, rounded to nearest even.
    const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e;  // m * 2^(e - 150) / 2^-24 = m >> (126 - e)
    const uint32_t q = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    return static_cast<uint16_t>(sign | (q + (rem > half || (rem == half && (q & 1u)))));
}

inline float f16_to_f32(uint16_t h) {
    uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else {  // subnormal
            exp = 127 - 15 + 1;
            while ((man & 0x400u) == 0) { man <<= 1; --exp; }
            man &= 0x3ffu;
            u = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

}  // namespace mlxmtp::detail
