// Scalar reference: partial, interleaved multi-axis RoPE (Qwen3.5 text M-RoPE).
#pragma once
#include <cstdint>
#include <vector>

namespace mlxmtp::detail::ref {

struct rope_params {
    int64_t head_dim = 0;
    int64_t rotary_dim = 0;            // head_dim * partial_rotary_factor (even)
    double theta = 1e7;
    std::vector<int> mrope_section;    // {s_t, s_h, s_w}; empty = 1-D RoPE
    bool interleaved = true;
};

// The angle of frequency i (0 <= i < rotary_dim/2) for a token whose three position rows
// are (pt, ph, pw):  inv_freq[i] = theta^(-2i/rotary_dim),
//   interleaved: row = H if i%3==1 && i < 3*s_h; W if i%3==2 && i < 3*s_w; T otherwise
//   contiguous : T for i < s_t, H for i < s_t+s_h, W after.
// Text-only input has pt == ph == pw == the token position.
double rope_angle(const rope_params &p, int64_t i, int64_t pt, int64_t ph, int64_t pw);

// Rotates x in place: x is [T, heads, head_dim]; pos is [3, T] (rows t, h, w) or, if
// pos_h/pos_w are null, a single row used for all three. NeoX rotate_half pairing over
// the first rotary_dim dims (dim j with j + rotary_dim/2); dims >= rotary_dim pass through.
//   out[j]      = x[j] cos(a_j) - x[j+R/2] sin(a_j)
//   out[j+R/2]  = x[j+R/2] cos(a_j) + x[j] sin(a_j)        j < R/2
// cos/sin are computed in double and applied in fp32.
void rope_apply(const rope_params &p, float *x, int64_t T, int64_t heads, const int64_t *pos_t,
                const int64_t *pos_h = nullptr, const int64_t *pos_w = nullptr);

}  // namespace mlxmtp::detail::ref
