// MXFP4 / MXFP8 (group size 32, E8M0 scales) element and group codecs,
// bit-exact with MLX's mx.quantize on the Metal backend (MLX 0.29.4-0.32.x),
// with the PR #4353 round-up scale rule selectable.  Facts and worked
// examples: docs/quantization.md and the MX format note it cites.
#pragma once
#include "io/safetensors.h"

#include <cstdint>

namespace mlxmtp::detail {

enum class mx_mode : uint8_t { mxfp4, mxfp8 };
enum class mx_scale_rule : uint8_t {
    mlx_round,  // n = round-half-away(log2(amax/max)), MLX 0.29.4 .. 0.32.x Metal (default)
    round_up,   // n = ceil(log2(amax/max)), MLX after PR #4353 (and the CUDA backend)
};

constexpr int kMxGroup = 32;

inline int mx_bits(mx_mode m) { return m == mx_mode::mxfp4 ? 4 : 8; }
inline float mx_elem_max(mx_mode m) { return m == mx_mode::mxfp4 ? 6.0f : 448.0f; }

// E8M0 scale byte for a group with absolute maximum `amax` (>= 0 or NaN).
uint8_t mx_scale_byte(float amax, mx_mode mode, mx_scale_rule rule);
// Decoded scale: byte 0 -> 2^-127, 255 -> +inf, else 2^(b-127).
float e8m0_to_float(uint8_t b);
// Largest scale byte the engine runs exactly: 254 minus the exponent of its
// matvec's fp16-pair element decoding (kernels/common/mx.glsl kFp4PairExp,
// kFp8PairExp), i.e. 2^113 (MXFP4) and 2^119 (MXFP8).  Real weights sit near
// 2^0; the loader rejects larger scales and the quantizer refuses to write them.
inline uint8_t mx_max_engine_scale_byte(mx_mode m) { return m == mx_mode::mxfp4 ? 254 - 14 : 254 - 8; }
// Index of the first of n scale bytes above mx_max_engine_scale_byte(m), or
// -1 when all are in range (the loader's and the quantizer's check).
int64_t mx_first_scale_beyond_engine(const uint8_t *scales, uint64_t n, mx_mode m);

// Element encoders (value already divided by the scale) and decoders.
uint8_t fp4_e2m1_encode(float v);   // 4-bit code, RNE, saturating, sign kept, NaN -> 0x7
uint8_t fp8_e4m3_encode(float v);   // 8-bit code, RNE, saturating to +-448, NaN/Inf -> +-448
float fp4_e2m1_decode(uint8_t code);
float fp8_e4m3_decode(uint8_t code);

// Reference (scalar, one group): quantizes 32 float32 values.  `packed`
// receives 16 bytes (mxfp4: element 2k in the low nibble of byte k) or 32
// bytes (mxfp8), i.e. the little-endian uint32 words MLX stores.
void mx_quantize_group_ref(const float *w, mx_mode mode, mx_scale_rule rule, uint8_t *packed, uint8_t *scale);

// Fast path: quantizes `rows` x `cols` elements of dtype `src` (bf16, f16 or
// f32; cols % 32 == 0), reading the row-major source bytes at `src_data`
// (any alignment).  Writes rows*cols*bits/8 packed bytes and rows*cols/32
// scale bytes.  Byte-identical to mx_quantize_group_ref over every group.
// Returns the flat element index of the first NaN/Inf, or -1 when all
// elements were finite (output is then complete; otherwise unspecified).
int64_t mx_quantize_rows(dtype src, const uint8_t *src_data, int64_t rows, int64_t cols, mx_mode mode,
                         mx_scale_rule rule, uint8_t *packed, uint8_t *scales);

// Dequantizes `n` elements (n % 32 == 0) to float32.
void mx_dequantize(const uint8_t *packed, const uint8_t *scales, int64_t n, mx_mode mode, float *out);

// Reads element i of a bf16/f16/f32 source buffer as float32.
float load_as_f32(dtype t, const uint8_t *data, int64_t i);

// Which fast kernel mx_quantize_rows uses on this CPU ("avx2" or "generic");
// `force_generic` (testing) makes it use the portable one.
const char *mx_kernel_name();
void mx_force_generic_kernel(bool on);

}  // namespace mlxmtp::detail
