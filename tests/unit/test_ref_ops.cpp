// Op-level checks of the scalar reference (lib/ref) against formulas and worked examples
// that do not come from its own code: the MX worked examples of the MX format note (cited in docs/quantization.md)
// section 7, algebraic properties (RoPE relative position, causal consistency), and the
// chunked vs recurrent forms of the Gated DeltaNet (two different formulations).
#include "io/safetensors.h"
#include "quant/mx.h"
#include "ref/attention.h"
#include "ref/conv1d.h"
#include "ref/gdn.h"
#include "ref/gdn_layer.h"
#include "ref/linear.h"
#include "ref/norm.h"
#include "ref/rope.h"
#include "util/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace mlxmtp::detail;
using namespace mlxmtp::detail::ref;

namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto &x : v) x = d(rng);
    return v;
}

float max_abs_diff(const std::vector<float> &a, const std::vector<float> &b) {
    float m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

}  // namespace

// mx_format.md 7, Example B: max 6.0 plus every E2M1 tie, scale 0x7F.
TEST(RefOps, Mxfp4WorkedExampleB) {
    const uint32_t words[4] = {0x02244667u, 0x8AACCEEFu, 0x65432180u, 0x80EDCBA9u};
    const uint8_t scale = 0x7F;
    weight_view w{wformat::mxfp4, 1, 32, words, &scale};
    // input [6,5,3.5,2.5,1.75,1.25,0.75,0.25, negatives, 0,-0,0.5,1,1.5,2,3,4,-0.5..-4, +-0.1015625]
    // rounded to nearest-even on the E2M1 grid:
    const float expect[32] = {6, 4, 4, 2, 2, 1, 1, 0, -6, -4, -4, -2, -2, -1, -1, -0.0f,
                              0, -0.0f, 0.5f, 1, 1.5f, 2, 3, 4, -0.5f, -1, -1.5f, -2, -3, -4, 0, -0.0f};
    std::vector<float> got = dequantize(w);
    for (int i = 0; i < 32; ++i) {
        EXPECT_EQ(got[i], expect[i]) << i;
        EXPECT_EQ(std::signbit(got[i]), std::signbit(expect[i])) << i;
    }
}

// Example C (Metal): amax 1.0 stored with scale 0x7C (0.125); the block max becomes 0.75.
TEST(RefOps, Mxfp4WorkedExampleC) {
    const uint32_t words[4] = {0x825F2467u, 0xB32109ABu, 0xAB32109Au, 0x9AB32109u};
    const uint8_t scale = 0x7C;
    weight_view w{wformat::mxfp4, 1, 32, words, &scale};
    std::vector<float> got = dequantize(w);
    const float head[8] = {0.75f, 0.5f, 0.25f, 0.125f, -0.75f, 0.375f, 0.125f, -0.0f};
    for (int i = 0; i < 8; ++i) EXPECT_EQ(got[i], head[i]) << i;
    // e8.. = -0.1875,-0.125,-0.0625,0,0.0625,0.125,0.1875 repeated (all exact at scale 1/8)
    const float rep[7] = {-0.1875f, -0.125f, -0.0625f, 0, 0.0625f, 0.125f, 0.1875f};
    for (int i = 8; i < 32; ++i) EXPECT_EQ(got[i], rep[(i - 8) % 7]) << i;
}

// Example D: mxfp8 saturation, E4M3 ties and subnormals, scale 0x7F.
TEST(RefOps, Mxfp8WorkedExampleD) {
    const uint32_t words[8] = {0x3A38387Eu, 0x7E020001u, 0x57FE0080u, 0x7744B430u, 0, 0, 0, 0};
    const uint8_t scale = 0x7F;
    weight_view w{wformat::mxfp8, 1, 32, words, &scale};
    std::vector<float> got = dequantize(w);
    const float expect[16] = {448, 1, 1, 1.25f, std::ldexp(1.0f, -9), 0, std::ldexp(1.0f, -8), 448,
                              -0.0f, 0, -448, 15, 0.5f, -0.75f, 3, 240};
    for (int i = 0; i < 16; ++i) EXPECT_EQ(got[i], expect[i]) << i;
    for (int i = 16; i < 32; ++i) EXPECT_EQ(got[i], 0.0f);
    // Example C, mxfp8: scale 0x76 = 2^-9, e0 code 0x7E -> 448 * 2^-9 = 0.875.
    EXPECT_EQ(e8m0_to_f32(0x76) * e4m3_to_f32(0x7E), 0.875f);
    EXPECT_EQ(e8m0_to_f32(0), std::ldexp(1.0f, -127));
    EXPECT_TRUE(std::isinf(e8m0_to_f32(0xFF)));
}

// MX matmul over several rows and groups: weights built here from codes and scales by the
// documented packing (element i in word i/8, bits 4*(i%8); fp8 byte i%4 of word i/4).
TEST(RefOps, MxMatmulPackingAndScales) {
    const float e2m1[16] = {0, .5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -.5f, -1, -1.5f, -2, -3, -4, -6};
    std::mt19937 rng(7);
    const int64_t rows = 5, cols = 96, T = 3;
    std::vector<uint32_t> w4(rows * cols / 8, 0), w8(rows * cols / 4, 0);
    std::vector<uint8_t> s4(rows * cols / 32), s8(rows * cols / 32);
    std::vector<float> d4(rows * cols), d8(rows * cols);
    for (auto &s : s4) s = static_cast<uint8_t>(120 + rng() % 10);
    for (auto &s : s8) s = static_cast<uint8_t>(115 + rng() % 10);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
            uint32_t code4 = rng() % 16;
            w4[(r * cols + c) / 8] |= code4 << (4 * (c % 8));
            d4[r * cols + c] = e2m1[code4] * std::ldexp(1.0f, s4[r * cols / 32 + c / 32] - 127);
            // E4M3 codes built from sign/exponent/mantissa, excluding 0x7F/0xFF.
            uint32_t sign = rng() % 2, e = rng() % 16, m = rng() % 8;
            if (e == 15 && m == 7) m = 6;
            uint32_t code8 = (sign << 7) | (e << 3) | m;
            w8[(r * cols + c) / 4] |= code8 << (8 * (c % 4));
            float mag = e == 0 ? std::ldexp(static_cast<float>(m), -9) : std::ldexp(1.0f + m / 8.0f, static_cast<int>(e) - 7);
            d8[r * cols + c] = (sign ? -mag : mag) * std::ldexp(1.0f, s8[r * cols / 32 + c / 32] - 127);
        }
    std::vector<float> x = randn(T * cols, 3);
    auto naive = [&](const std::vector<float> &d) {
        std::vector<float> y(T * rows);
        for (int64_t t = 0; t < T; ++t)
            for (int64_t r = 0; r < rows; ++r) {
                double s = 0;
                for (int64_t c = 0; c < cols; ++c) s += static_cast<double>(d[r * cols + c]) * x[t * cols + c];
                y[t * rows + r] = static_cast<float>(s);
            }
        return y;
    };
    std::vector<float> y(T * rows);
    matmul({wformat::mxfp4, rows, cols, w4.data(), s4.data()}, x.data(), T, y.data());
    EXPECT_LT(max_abs_diff(y, naive(d4)), 1e-5f);
    matmul({wformat::mxfp8, rows, cols, w8.data(), s8.data()}, x.data(), T, y.data());
    EXPECT_LT(max_abs_diff(y, naive(d8)), 1e-5f);
    // bf16: exact conversion of the same fp8-valued weights (representable in bf16).
    std::vector<uint16_t> wb(rows * cols);
    for (size_t i = 0; i < wb.size(); ++i) wb[i] = f32_to_bf16(d8[i]);
    matmul({wformat::bf16, rows, cols, wb.data(), nullptr}, x.data(), T, y.data());
    EXPECT_LT(max_abs_diff(y, naive(d8)), 1e-5f);
}

TEST(RefOps, Norms) {
    // x = [3, 4]: mean square 12.5.
    const float x[2] = {3, 4}, w[2] = {0.5f, -1.0f}, z[2] = {0.0f, 2.0f};
    float y[2];
    rmsnorm_1p(x, 1, 2, w, 0.0f, y);
    EXPECT_NEAR(y[0], 3 / std::sqrt(12.5) * 1.5, 1e-6);
    EXPECT_NEAR(y[1], 0.0, 1e-7);
    const float wg[2] = {2.0f, 1.0f};
    rmsnorm_gated(x, z, 1, 2, wg, 0.0f, y);
    EXPECT_NEAR(y[0], 0.0, 1e-7);                                  // silu(0) = 0
    EXPECT_NEAR(y[1], 4 / std::sqrt(12.5) * 1.0 * (2.0 / (1.0 + std::exp(-2.0))), 1e-6);
    l2norm(x, 1, 2, 0.0f, y);
    EXPECT_NEAR(y[0], 0.6, 1e-7);
    EXPECT_NEAR(y[1], 0.8, 1e-7);
    EXPECT_NEAR(softplus(25.0f), 25.0f, 0);
    EXPECT_NEAR(softplus(0.0f), std::log(2.0), 1e-7);
}

// RoPE: rotary dims keep their norm, pass-through dims are untouched, and the rotary part of
// q.k depends only on the position difference.
TEST(RefOps, RopeRelativePosition) {
    rope_params p;
    p.head_dim = 32;
    p.rotary_dim = 8;
    p.theta = 1e7;
    p.mrope_section = {1, 1, 2};
    auto q0 = randn(32, 1), k0 = randn(32, 2);
    auto dotrot = [&](int64_t m, int64_t n) {
        auto q = q0, k = k0;
        rope_apply(p, q.data(), 1, 1, &m);
        rope_apply(p, k.data(), 1, 1, &n);
        for (int i = 8; i < 32; ++i) EXPECT_EQ(q[i], q0[i]);
        double d = 0;
        for (int i = 0; i < 8; ++i) d += static_cast<double>(q[i]) * k[i];
        return d;
    };
    EXPECT_NEAR(dotrot(5, 2), dotrot(103, 100), 1e-4);
    EXPECT_NEAR(dotrot(0, 0), dotrot(77, 77), 1e-4);
    // Interleaved M-RoPE frequency assignment for [11, 11, 10] over 32 frequencies (arch doc 2.1).
    rope_params r;
    r.head_dim = 256;
    r.rotary_dim = 64;
    r.mrope_section = {11, 11, 10};
    for (int64_t i = 0; i < 32; ++i) {
        double a = rope_angle(r, i, 1, 1000, 1000000);
        double f = std::pow(1e7, -static_cast<double>(i) / 32);
        double pos = a / f;
        int64_t want = (i % 3 == 1 && i <= 31) ? 1000 : (i % 3 == 2 && i <= 29) ? 1000000 : 1;
        EXPECT_NEAR(pos, static_cast<double>(want), 1e-6 * want) << i;
    }
}

// Conv: split calls with the carried state equal one call; the first output only sees the
// current token through w[:, K-1].
TEST(RefOps, ConvCarriedState) {
    const int64_t T = 9, C = 5, K = 4;
    auto x = randn(T * C, 11), w = randn(C * K, 12);
    std::vector<float> st(3 * C, 0.0f), y(T * C);
    conv1d_causal_silu(x.data(), T, C, w.data(), K, st.data(), y.data());
    for (int64_t c = 0; c < C; ++c) EXPECT_NEAR(y[c], silu(w[c * K + 3] * x[c]), 1e-6);
    std::vector<float> st2(3 * C, 0.0f), y2(T * C);
    conv1d_causal_silu(x.data(), 2, C, w.data(), K, st2.data(), y2.data());
    conv1d_causal_silu(x.data() + 2 * C, 1, C, w.data(), K, st2.data(), y2.data() + 2 * C);
    conv1d_causal_silu(x.data() + 3 * C, 6, C, w.data(), K, st2.data(), y2.data() + 3 * C);
    EXPECT_EQ(max_abs_diff(y, y2), 0.0f);
    EXPECT_EQ(max_abs_diff(st, st2), 0.0f);
}

// The chunked WY form and the token recurrence are two independent formulations of the
// delta rule: they must agree for outputs and final state, including a carried initial
// state, partial last chunks and Hv = 3 Hk.
TEST(RefOps, GdnChunkedMatchesRecurrent) {
    const int64_t T = 150, Hk = 2, Hv = 6, dk = 16, dv = 8;
    auto q = randn(T * Hk * dk, 21), k = randn(T * Hk * dk, 22), v = randn(T * Hv * dv, 23);
    l2norm(q.data(), T * Hk, dk, 1e-6f, q.data());
    l2norm(k.data(), T * Hk, dk, 1e-6f, k.data());
    for (auto &e : q) e *= 0.25f;
    auto a = randn(T * Hv, 24), b = randn(T * Hv, 25);
    std::vector<float> A_log = {0.1f, 1.0f, 2.0f, 0.5f, 2.7f, 0.0f}, dt = {0.3f, -0.5f, 0.0f, 1.0f, 0.2f, -1.0f};
    std::vector<float> g(T * Hv), beta(T * Hv);
    gdn_gates(a.data(), b.data(), T, Hv, A_log.data(), dt.data(), g.data(), beta.data());
    for (size_t i = 0; i < g.size(); ++i) {
        ASSERT_LE(g[i], 0.0f);
        ASSERT_GT(beta[i], 0.0f);
        ASSERT_LT(beta[i], 1.0f);
    }
    auto s0 = randn(Hv * dk * dv, 26, 0.3f);
    std::vector<float> s1 = s0, s2 = s0, o1(T * Hv * dv), o2(T * Hv * dv);
    gdn_recurrent(q.data(), k.data(), v.data(), g.data(), beta.data(), T, Hk, Hv, dk, dv, s1.data(), o1.data());
    gdn_chunked(q.data(), k.data(), v.data(), g.data(), beta.data(), T, Hk, Hv, dk, dv, s2.data(), o2.data(), 64);
    EXPECT_LT(max_abs_diff(o1, o2), 2e-5f);
    EXPECT_LT(max_abs_diff(s1, s2), 2e-5f);
    // Split prefill (70 chunked + 80 recurrent) carries the state exactly.
    std::vector<float> s3 = s0, o3(T * Hv * dv);
    gdn_chunked(q.data(), k.data(), v.data(), g.data(), beta.data(), 70, Hk, Hv, dk, dv, s3.data(), o3.data(), 16);
    gdn_recurrent(q.data() + 70 * Hk * dk, k.data() + 70 * Hk * dk, v.data() + 70 * Hv * dv, g.data() + 70 * Hv,
                  beta.data() + 70 * Hv, T - 70, Hk, Hv, dk, dv, s3.data(), o3.data() + 70 * Hv * dv);
    EXPECT_LT(max_abs_diff(o1, o3), 2e-5f);
    EXPECT_LT(max_abs_diff(s1, s3), 2e-5f);
}

// One token with a zero state: S = beta k v^T, so o = beta (q.k) v, which is independent of
// the decay; value head h uses key head h / (Hv/Hk).
TEST(RefOps, GdnFirstTokenClosedForm) {
    const int64_t Hk = 2, Hv = 4, dk = 4, dv = 3;
    auto q = randn(Hk * dk, 31), k = randn(Hk * dk, 32), v = randn(Hv * dv, 33);
    std::vector<float> g = {-0.5f, -1.0f, -2.0f, 0.0f}, beta = {0.1f, 0.5f, 0.9f, 1.0f};
    std::vector<float> s(Hv * dk * dv, 0.0f), o(Hv * dv);
    gdn_recurrent(q.data(), k.data(), v.data(), g.data(), beta.data(), 1, Hk, Hv, dk, dv, s.data(), o.data());
    for (int64_t h = 0; h < Hv; ++h) {
        int64_t kh = h / 2;
        double qk = 0;
        for (int64_t i = 0; i < dk; ++i) qk += q[kh * dk + i] * k[kh * dk + i];
        for (int64_t j = 0; j < dv; ++j) EXPECT_NEAR(o[h * dv + j], beta[h] * qk * v[h * dv + j], 1e-5) << h;
    }
}

// Attention: a batch of T queries equals T one-token calls over a growing cache (causality),
// and GQA maps query head j to kv head j / (Hq/Hkv).
TEST(RefOps, AttentionCausalAndGqa) {
    const int64_t S = 12, Hq = 4, Hkv = 2, hd = 8;
    auto q = randn(S * Hq * hd, 41), k = randn(S * Hkv * hd, 42), v = randn(S * Hkv * hd, 43);
    std::vector<float> o(S * Hq * hd), o1(S * Hq * hd);
    attention_core(q.data(), k.data(), v.data(), S, S, Hq, Hkv, hd, 0.35f, o.data());
    for (int64_t t = 0; t < S; ++t)
        attention_core(q.data() + t * Hq * hd, k.data(), v.data(), 1, t + 1, Hq, Hkv, hd, 0.35f,
                       o1.data() + t * Hq * hd);
    EXPECT_LT(max_abs_diff(o, o1), 1e-6f);
    // First position attends only to itself: output = v[0] of its kv head.
    for (int64_t h = 0; h < Hq; ++h)
        for (int64_t e = 0; e < hd; ++e) EXPECT_NEAR(o[h * hd + e], v[(h / 2) * hd + e], 1e-6);
    // Zero queries: uniform weights, the output is the mean of the visible values.
    std::vector<float> qz(Hq * hd, 0.0f), oz(Hq * hd);
    attention_core(qz.data(), k.data(), v.data(), 1, S, Hq, Hkv, hd, 1.0f, oz.data());
    for (int64_t h = 0; h < Hq; ++h)
        for (int64_t e = 0; e < hd; ++e) {
            double m = 0;
            for (int64_t s = 0; s < S; ++s) m += v[(s * Hkv + h / 2) * hd + e];
            EXPECT_NEAR(oz[h * hd + e], m / S, 1e-6);
        }
}

// Cross-check with the quantizer's own codec (lib/quant/mx.h, written independently): every
// linear weight of the dev fixture, quantized to MXFP4 and MXFP8, dequantizes identically
// through the reference's weight_view, and the reference matmul equals a dense product with
// the quantizer's dequantized weights.
TEST(RefOps, MxDequantMatchesQuantizerCodec) {
    auto ck = checkpoint::open(std::string(MLXMTP_FIXTURES_DIR) + "/tiny-qwen35-dev");
    int checked = 0;
    for (const tensor_info *t : ck->tensors()) {
        if (t->type != dtype::bf16 || t->shape.size() != 2 || t->shape[1] % 32 != 0) continue;
        const int64_t rows = t->shape[0], cols = t->shape[1];
        for (mx_mode mode : {mx_mode::mxfp4, mx_mode::mxfp8}) {
            const int bits = mx_bits(mode);
            std::vector<uint32_t> words(rows * cols * bits / 32);
            std::vector<uint8_t> scales(rows * cols / 32);
            ASSERT_EQ(mx_quantize_rows(t->type, t->data, rows, cols, mode, mx_scale_rule::mlx_round,
                                       reinterpret_cast<uint8_t *>(words.data()), scales.data()),
                      -1);
            std::vector<float> theirs(rows * cols);
            mx_dequantize(reinterpret_cast<const uint8_t *>(words.data()), scales.data(), rows * cols, mode,
                          theirs.data());
            weight_view w{mode == mx_mode::mxfp4 ? wformat::mxfp4 : wformat::mxfp8, rows, cols, words.data(),
                          scales.data()};
            std::vector<float> mine = dequantize(w);
            ASSERT_EQ(0, std::memcmp(mine.data(), theirs.data(), mine.size() * 4)) << t->name;
            auto x = randn(3 * cols, 5);
            std::vector<float> y(3 * rows), y2(3 * rows);
            matmul(w, x.data(), 3, y.data());
            matmul_f32(theirs.data(), rows, cols, x.data(), 3, y2.data());
            EXPECT_EQ(max_abs_diff(y, y2), 0.0f) << t->name;
            ++checked;
        }
    }
    EXPECT_GT(checked, 40);
}
