// MX codecs against references nobody here wrote: the worked examples of the
// MX format note (golden vectors below, copied from its section 7) and the
// emulator tests/fixtures/mx/mx_format_sim.py, run on the same inputs.
#include "quant/mx.h"
#include "quant_test_util.h"
#include "util/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace mlxmtp::detail;

namespace {

std::vector<uint32_t> words_of(const uint8_t *p, int nbytes) {
    std::vector<uint32_t> w(nbytes / 4);
    std::memcpy(w.data(), p, nbytes);
    return w;
}

struct group_out {
    uint8_t scale;
    std::vector<uint32_t> words;
};

group_out ref(const std::vector<float> &w, mx_mode m, mx_scale_rule r) {
    EXPECT_EQ(w.size(), 32u);
    uint8_t packed[32], s;
    mx_quantize_group_ref(w.data(), m, r, packed, &s);
    return {s, words_of(packed, m == mx_mode::mxfp4 ? 16 : 32)};
}

group_out fast(const std::vector<float> &w, mx_mode m, mx_scale_rule r) {
    uint8_t packed[32], s;
    EXPECT_EQ(mx_quantize_rows(dtype::f32, reinterpret_cast<const uint8_t *>(w.data()), 1, 32, m, r, packed, &s), -1);
    return {s, words_of(packed, m == mx_mode::mxfp4 ? 16 : 32)};
}

void expect_group(const std::vector<float> &w, mx_mode m, mx_scale_rule r, uint8_t scale,
                  const std::vector<uint32_t> &words) {
    for (auto g : {ref(w, m, r), fast(w, m, r)}) {
        EXPECT_EQ(g.scale, scale);
        EXPECT_EQ(g.words, words);
    }
}

const auto F4 = mx_mode::mxfp4;
const auto F8 = mx_mode::mxfp8;
const auto RND = mx_scale_rule::mlx_round;
const auto RUP = mx_scale_rule::round_up;

}  // namespace

// ---- section 7 of the MX format note -------------------------------------

TEST(MxGolden, A_AllZeroGroupWithNegativeZero) {
    std::vector<float> w(32, 0.0f);
    w[31] = -0.0f;
    for (auto r : {RND, RUP}) {
        expect_group(w, F4, r, 0x00, {0, 0, 0, 0x80000000u});
        expect_group(w, F8, r, 0x00, {0, 0, 0, 0, 0, 0, 0, 0x80000000u});
    }
}

TEST(MxGolden, B_Max6AndEveryE2M1Tie) {
    std::vector<float> w = {6, 5, 3.5, 2.5, 1.75, 1.25, 0.75, 0.25, -6, -5, -3.5, -2.5, -1.75, -1.25, -0.75, -0.25,
                            0, -0.0f, 0.5, 1, 1.5, 2, 3, 4, -0.5, -1, -1.5, -2, -3, -4, 0.1015625, -0.1015625};
    for (auto r : {RND, RUP}) expect_group(w, F4, r, 0x7F, {0x02244667u, 0x8AACCEEFu, 0x65432180u, 0x80EDCBA9u});
}

namespace {
std::vector<float> example_c() {
    std::vector<float> w = {1.0f, 0.5f, 0.25f, 0.125f, -0.75f, 0.375f, 0.09375f, -0.03125f};
    for (int i = 0; i < 24; ++i) w.push_back(0.0625f * static_cast<float>((i % 7) - 3));
    return w;
}
}  // namespace

TEST(MxGolden, C_Amax1RoundLog2Quirk) {
    auto w = example_c();
    expect_group(w, F4, RND, 0x7C, {0x825F2467u, 0xB32109ABu, 0xAB32109Au, 0x9AB32109u});
    expect_group(w, F4, RUP, 0x7D, {0x813D1246u, 0xA210089Au, 0x9A210089u, 0x89A21008u});
    expect_group(w, F8, RND, 0x76,
                 {0x6870787Eu, 0xD86474FCu, 0x00E0E8ECu, 0xEC6C6860u, 0x6000E0E8u, 0xE8EC6C68u, 0x686000E0u,
                  0xE0E8EC6Cu});
    expect_group(w, F8, RUP, 0x77,
                 {0x60687078u, 0xD05C6CF4u, 0x00D8E0E4u, 0xE4646058u, 0x5800D8E0u, 0xE0E46460u, 0x605800D8u,
                  0xD8E0E464u});
}

TEST(MxGolden, D_Fp8SaturationTiesSubnormals) {
    std::vector<float> w = {448, 1.0f, 1.0625f, 1.1875f, std::ldexp(1.0f, -9), std::ldexp(1.0f, -10),
                            3 * std::ldexp(1.0f, -10), 464, -0.0f, 0.0f, -448, 15, 0.5f, -0.75f, 3, 240};
    w.resize(32, 0.0f);
    expect_group(w, F8, RND, 0x7F, {0x3A38387Eu, 0x7E020001u, 0x57FE0080u, 0x7744B430u, 0, 0, 0, 0});
    expect_group(w, F8, RUP, 0x80, {0x32303076u, 0x76010000u, 0x4FF60080u, 0x6F3CAC28u, 0, 0, 0, 0});
}

TEST(MxGolden, E_MetalScaleForBf16Amax0_53125) {
    std::vector<float> w = {0.53125f};
    for (int i = 0; i < 31; ++i) w.push_back(0.25f * static_cast<float>((i % 5) - 2));
    for (auto r : {RND, RUP}) expect_group(w, F4, r, 0x7C, {0xCE640CE6u, 0x640CE640u, 0x0CE640CEu, 0xE640CE64u});
}

TEST(MxElements, CodeTablesAndSpecials) {
    // E2M1 table of the note (section 1.4) and E4M3 facts (section 2.2).
    const float fp4[16] = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0f, -0.5, -1, -1.5, -2, -3, -4, -6};
    for (int c = 0; c < 16; ++c) {
        EXPECT_EQ(fp4_e2m1_decode(c), fp4[c]);
        EXPECT_EQ(fp4_e2m1_encode(fp4[c]), c);
    }
    EXPECT_EQ(fp4_e2m1_encode(NAN), 0x7);
    EXPECT_EQ(fp4_e2m1_encode(-NAN), 0x7);
    EXPECT_EQ(fp4_e2m1_encode(INFINITY), 0x7);
    EXPECT_EQ(fp4_e2m1_encode(-INFINITY), 0xF);
    EXPECT_EQ(fp4_e2m1_encode(-0.1f), 0x8);
    EXPECT_EQ(fp8_e4m3_encode(448.0f), 0x7E);
    EXPECT_EQ(fp8_e4m3_encode(1e9f), 0x7E);
    EXPECT_EQ(fp8_e4m3_encode(-INFINITY), 0xFE);
    EXPECT_EQ(fp8_e4m3_encode(NAN), 0x7E);
    EXPECT_EQ(fp8_e4m3_encode(-0.0f), 0x80);
    EXPECT_EQ(fp8_e4m3_decode(0x7E), 448.0f);
    EXPECT_EQ(fp8_e4m3_decode(0x01), std::ldexp(1.0f, -9));
    for (int b = 0; b < 256; ++b) {
        if ((b & 0x7F) == 0x7F) continue;  // never produced
        EXPECT_EQ(fp8_e4m3_encode(fp8_e4m3_decode(b)), b) << b;
    }
    EXPECT_EQ(e8m0_to_float(0), std::ldexp(1.0f, -127));
    EXPECT_EQ(e8m0_to_float(127), 1.0f);
    EXPECT_TRUE(std::isinf(e8m0_to_float(255)));
    // the note's version probe: mx.quantize(mx.ones((1,32)), mode="mxfp4") scale 124 (old) / 125 (round-up)
    EXPECT_EQ(mx_scale_byte(1.0f, F4, RND), 124);
    EXPECT_EQ(mx_scale_byte(1.0f, F4, RUP), 125);
    EXPECT_EQ(mx_scale_byte(INFINITY, F4, RND), 0xFF);
    EXPECT_EQ(mx_scale_byte(NAN, F8, RND), 0xFF);
}

// ---- against the emulator --------------------------------------------------

namespace {

// Runs tests/fixtures/mx/mx_format_sim.py over `vals` (a multiple of 32).
std::vector<group_out> run_sim(const std::vector<float> &vals, mx_mode m, mx_scale_rule r) {
    qtest::temp_dir d;
    std::string in = d / "in.f32", out = d / "out.bin";
    qtest::write_bytes(in, std::string(reinterpret_cast<const char *>(vals.data()), vals.size() * 4));
    std::string cmd = std::string("/usr/bin/python3 '") + MLXMTP_SOURCE_DIR + "/tests/tools/mx_sim_quantize.py' '" +
                      MLXMTP_FIXTURES_DIR + "/mx' '" + in + "' '" + out + "' " +
                      (m == F4 ? "4" : "8") + " " + (r == RUP ? "roundup" : "metal");
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::string bytes = qtest::read_bytes(out);
    int wb = m == F4 ? 16 : 32;
    size_t ng = vals.size() / 32;
    EXPECT_EQ(bytes.size(), ng * (1 + wb));
    std::vector<group_out> res;
    for (size_t g = 0; g < ng && (g + 1) * (1 + wb) <= bytes.size(); ++g) {
        const uint8_t *p = reinterpret_cast<const uint8_t *>(bytes.data()) + g * (1 + wb);
        res.push_back({p[0], words_of(p + 1, wb)});
    }
    return res;
}

float f32_from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Edge-case groups: ties, subnormals, saturation, zero groups, NaN, Inf, the
// sqrt(2) scale boundary, tiny and huge magnitudes, random bf16 and f32.
std::vector<float> edge_groups() {
    std::vector<float> v;
    auto add = [&](std::vector<float> g) {
        g.resize(32, 0.0f);
        v.insert(v.end(), g.begin(), g.end());
    };
    add({});                                                   // all zero
    add(std::vector<float>(32, -0.0f));                        // all -0
    add({6, 5, 3.5, 2.5, 1.75, 1.25, 0.75, 0.25, -5, -3.5, -0.25, 0.5, 1.5, 3});  // fp4 ties at scale 1
    add({448, 464, 480, 1.0625f, 1.1875f, -448, 240, 232, 15.5f});                   // fp8 ties, saturation
    for (int e = -140; e <= 127; e += 7) {  // magnitudes across the whole range, incl. subnormal amax
        std::vector<float> g;
        for (int i = 0; i < 32; ++i) g.push_back(std::ldexp(1.0f + i / 32.0f, e) * (i % 3 == 0 ? -1.0f : 1.0f));
        add(g);
    }
    for (uint32_t bits : {0x00000001u, 0x00000007u, 0x00400000u, 0x007fffffu, 0x00800000u, 0x7f7fffffu})
        add({f32_from_bits(bits), -f32_from_bits(bits) / 3});
    // amax/6 and amax/448 right at the sqrt(2) mantissa boundary (0x3504F3 / 0x3504F4)
    for (uint32_t field : {0x3504F2u, 0x3504F3u, 0x3504F4u, 0x3504F5u})
        for (int e : {-20, -3, 0, 5}) {
            float x = f32_from_bits((static_cast<uint32_t>(e + 127) << 23) | field);
            add({x * 6.0f, x * 3.0f, -x});
            add({x * 448.0f, x * 100.0f, -x});
        }
    // specials
    add({1.0f, NAN, 0.5f});
    add({NAN, 2.0f, -1.0f});
    add({1.0f, INFINITY, 0.5f});
    add({-INFINITY, 2.0f});
    add({3.0f, -NAN});
    // scaled values that land on fp8 subnormal ties after scaling
    add({448, std::ldexp(1.0f, -9), std::ldexp(3.0f, -10), std::ldexp(5.0f, -11), std::ldexp(1.0f, -10)});
    std::mt19937 rng(1234);
    std::normal_distribution<float> nd(0.0f, 0.02f);
    for (int g = 0; g < 300; ++g) {  // bf16-valued "real" weights
        std::vector<float> gr;
        for (int i = 0; i < 32; ++i) gr.push_back(bf16_to_f32(f32_to_bf16(nd(rng) * (g % 7 + 1))));
        add(gr);
    }
    std::uniform_int_distribution<uint32_t> ud;
    for (int g = 0; g < 300; ++g) {  // arbitrary finite f32 bit patterns within a modest exponent span
        std::vector<float> gr;
        int base = static_cast<int>(ud(rng) % 200) + 20;
        for (int i = 0; i < 32; ++i) {
            uint32_t u = (ud(rng) & 0x807fffffu) | (static_cast<uint32_t>(base + ud(rng) % 12) << 23);
            gr.push_back(f32_from_bits(u));
        }
        add(gr);
    }
    return v;
}

bool finite_group(const float *w) {
    for (int i = 0; i < 32; ++i)
        if (!std::isfinite(w[i])) return false;
    return true;
}

}  // namespace

class MxVsSim : public ::testing::TestWithParam<std::tuple<mx_mode, mx_scale_rule>> {};

TEST_P(MxVsSim, EveryGroupMatchesTheEmulator) {
    auto [m, r] = GetParam();
    std::vector<float> vals = edge_groups();
    std::vector<group_out> sim = run_sim(vals, m, r);
    ASSERT_EQ(sim.size(), vals.size() / 32);
    size_t n_finite = 0;
    for (bool generic : {false, true}) {
        mx_force_generic_kernel(generic);
        for (size_t g = 0; g < sim.size(); ++g) {
            const float *w = &vals[g * 32];
            group_out rr = ref(std::vector<float>(w, w + 32), m, r);
            EXPECT_EQ(rr.scale, sim[g].scale) << "group " << g;
            EXPECT_EQ(rr.words, sim[g].words) << "group " << g;
            uint8_t packed[32], s;
            int64_t bad = mx_quantize_rows(dtype::f32, reinterpret_cast<const uint8_t *>(w), 1, 32, m, r, packed, &s);
            if (finite_group(w)) {
                ++n_finite;
                EXPECT_EQ(bad, -1);
                EXPECT_EQ(s, sim[g].scale) << "group " << g << (generic ? " generic" : " fast");
                EXPECT_EQ(words_of(packed, m == F4 ? 16 : 32), sim[g].words) << "group " << g;
            } else {
                ASSERT_GE(bad, 0) << "non-finite group " << g << " not reported";
                EXPECT_FALSE(std::isfinite(w[bad]));
            }
        }
    }
    mx_force_generic_kernel(false);
    EXPECT_GT(n_finite, 600u);
}

INSTANTIATE_TEST_SUITE_P(AllModes, MxVsSim,
                         ::testing::Combine(::testing::Values(mx_mode::mxfp4, mx_mode::mxfp8),
                                            ::testing::Values(mx_scale_rule::mlx_round, mx_scale_rule::round_up)));

// bf16 / f16 sources are converted exactly, so quantizing them equals quantizing their f32 values.
TEST(MxFastPath, SourceDtypesAgreeWithReference) {
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    const int rows = 5, cols = 96;
    std::vector<uint16_t> b(rows * cols), h(rows * cols);
    std::vector<float> fb(rows * cols), fh(rows * cols);
    for (int i = 0; i < rows * cols; ++i) {
        float x = nd(rng) * std::ldexp(1.0f, (i / 32) % 9 - 4);
        b[i] = f32_to_bf16(x);
        fb[i] = bf16_to_f32(b[i]);
        // random finite f16 bit patterns (exponent field 1..30, some subnormals)
        uint32_t r = rng();
        h[i] = static_cast<uint16_t>((r & 0x83ffu) | (((r >> 16) % 31) << 10));
        fh[i] = f16_to_f32(h[i]);
    }
    for (auto m : {F4, F8})
        for (auto r : {RND, RUP})
            for (bool generic : {false, true}) {
                mx_force_generic_kernel(generic);
                int bytes = cols * mx_bits(m) / 8;
                std::vector<uint8_t> pb(rows * bytes), sb(rows * cols / 32), ph(rows * bytes), sh(rows * cols / 32);
                ASSERT_EQ(mx_quantize_rows(dtype::bf16, reinterpret_cast<uint8_t *>(b.data()), rows, cols, m, r,
                                           pb.data(), sb.data()), -1);
                ASSERT_EQ(mx_quantize_rows(dtype::f16, reinterpret_cast<uint8_t *>(h.data()), rows, cols, m, r,
                                           ph.data(), sh.data()), -1);
                for (int g = 0; g < rows * cols / 32; ++g) {
                    group_out e1 = ref(std::vector<float>(&fb[g * 32], &fb[g * 32] + 32), m, r);
                    group_out e2 = ref(std::vector<float>(&fh[g * 32], &fh[g * 32] + 32), m, r);
                    int gb = mx_bits(m) * 4;
                    EXPECT_EQ(sb[g], e1.scale);
                    EXPECT_EQ(words_of(&pb[g * gb], gb), e1.words);
                    EXPECT_EQ(sh[g], e2.scale);
                    EXPECT_EQ(words_of(&ph[g * gb], gb), e2.words);
                }
            }
    mx_force_generic_kernel(false);
}

TEST(MxDequant, ExactForRepresentableValues) {
    // Values of the form code * 2^k quantize and dequantize exactly when the group max is 6 * 2^k (fp4).
    std::vector<float> w = {6, 4, 3, 2, 1.5, 1, 0.5, 0, -6, -4, -3, -2, -1.5, -1, -0.5, -0.0f};
    w.resize(32, 0.0f);
    for (auto &x : w) x = std::ldexp(x, -5);
    uint8_t packed[16], s;
    ASSERT_EQ(mx_quantize_rows(dtype::f32, reinterpret_cast<uint8_t *>(w.data()), 1, 32, F4, RND, packed, &s), -1);
    float out[32];
    mx_dequantize(packed, &s, 32, F4, out);
    for (int i = 0; i < 32; ++i) EXPECT_EQ(out[i], w[i]) << i;
}

// util/half.h's f32_to_f16 (the host side of the X16 rounding of
// kernels/common/x_split.glsl) against the compiler's IEEE conversion to
// _Float16 (round to nearest even): every fp16 boundary and its neighbours,
// ties, subnormals, overflow, and a million random floats over fp16's range.
TEST(Half, F32ToF16RoundsAsTheCompilersConversion) {
#ifdef __FLT16_MAX__
    auto same = [](float f) {
        const _Float16 h = static_cast<_Float16>(f);
        uint16_t want;
        std::memcpy(&want, &h, 2);
        const uint16_t got = f32_to_f16(f);
        if (std::isnan(f)) return (got & 0x7c00u) == 0x7c00u && (got & 0x3ffu) != 0;
        return got == want;
    };
    for (uint32_t h = 0; h < 0x7c00u; ++h) {  // each finite fp16, the midpoints to the next, and their neighbours
        const float a = f16_to_f32(static_cast<uint16_t>(h)), b = f16_to_f32(static_cast<uint16_t>(h + 1));
        const float mid = static_cast<float>((double(a) + double(b)) / 2);
        for (float f : {a, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f), b}) {
            ASSERT_TRUE(same(f)) << f;
            ASSERT_TRUE(same(-f)) << -f;
        }
    }
    for (float f : {65504.0f, 65519.99f, 65520.0f, 1e9f, std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN(), 1e-30f, 2.9802322e-08f, 5.96e-8f, 0.0f, -0.0f})
        ASSERT_TRUE(same(f)) << f;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> e(-26.0f, 16.0f);
    for (int i = 0; i < 1000000; ++i) {
        const float f = std::ldexp(1.0f + float(rng() % 8388608) / 8388608.0f, int(std::floor(e(rng))));
        ASSERT_TRUE(same(i % 2 ? f : -f)) << f;
    }
#else
    GTEST_SKIP() << "the compiler has no _Float16 to compare against";
#endif
}
