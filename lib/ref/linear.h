// Scalar reference: weight formats and y = W x.
//
// Layouts (all row-major):
//   A weight W has `rows` outputs and `cols` inputs, stored [rows, cols] exactly as the
//   safetensors tensor ("W·x" = x @ W^T, no bias anywhere in the text model).
//   f32  : float   data[rows * cols]
//   bf16 : uint16  data[rows * cols]                 (bf16 bits)
//   mxfp4: uint32  data[rows * cols / 8]             element i of a row in word i/8, bits 4*(i%8)
//          uint8   scales[rows * cols / 32]          E8M0, group g covers cols [32g, 32g+32)
//   mxfp8: uint32  data[rows * cols / 4]             element i of a row in word i/4, bits 8*(i%4)
//          uint8   scales[rows * cols / 32]
//   Activations x are [T, cols] (token-major), outputs y are [T, rows].
#pragma once
#include <cstdint>
#include <vector>

namespace mlxmtp::detail::ref {

enum class wformat : uint8_t { f32, bf16, mxfp4, mxfp8 };

struct weight_view {
    wformat format = wformat::f32;
    int64_t rows = 0, cols = 0;
    const void *data = nullptr;
    const uint8_t *scales = nullptr;  // MX formats only
};

// E8M0 scale byte -> float: 0 -> 2^-127 (subnormal), 255 -> +inf (MLX), b -> 2^(b-127).
float e8m0_to_f32(uint8_t b);
// FP4 E2M1 code (4 bits) -> float: {0,.5,1,1.5,2,3,4,6}, bit 3 = sign.
float e2m1_to_f32(uint8_t code);
// FP8 E4M3 (OCP "FN", bias 7) -> float; 0x7F/0xFF decode to +-480 as MLX's dequantize does.
float e4m3_to_f32(uint8_t code);

// Dequantize one row of W into out[cols] (fp32, exact for every format).
void dequantize_row(const weight_view &w, int64_t row, float *out);
// Dequantize all of W into [rows, cols] fp32.
std::vector<float> dequantize(const weight_view &w);

// y[t, r] = sum_c W[r, c] * x[t, c] for t < T; fp32 in/out, double accumulation.
void matmul(const weight_view &w, const float *x, int64_t T, float *y);
// Same with an fp32 [rows, cols] matrix.
void matmul_f32(const float *w, int64_t rows, int64_t cols, const float *x, int64_t T, float *y);

}  // namespace mlxmtp::detail::ref
