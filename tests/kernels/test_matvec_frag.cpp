// The experimental fragment matvec's host side (ops/linear_frag.h): layout
// checks, the device probe's parser, and the weight repacking.  The kernel
// itself is covered by the matvec_frag_mxfp4 kernel check.
#include "ops/linear_frag.h"
#include "test_env.h"
#include "util/half.h"
#include "vk/kernel_check.h"
#include "vk/memory.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

using namespace mlxmtp::detail;
using namespace mlxmtp::detail::ops;

namespace {

// What coop_layout_probe.comp would write on a device using layout f.
std::vector<float> probe_output(const frag_layout &f) {
    std::vector<float> v(kCoopProbeFloats, 0.0f);
    v[0] = 8;
    v[1] = v[2] = v[3] = 4;
    size_t base = 4;
    for (int l = 0; l < 32; ++l)
        for (int i = 0; i < 8; ++i) v[base + l * 8 + i] = f.a[l][i];
    base += 32 * 8;
    for (int l = 0; l < 32; ++l)
        for (int i = 0; i < 4; ++i) v[base + l * 4 + i] = (f.b[l][i] >> 3) * 16 + (f.b[l][i] & 7);
    base += 32 * 4;
    for (int l = 0; l < 32; ++l)
        for (int i = 0; i < 4; ++i) v[base + l * 4 + i] = (f.c[l][i] >> 3) * 16 + (f.c[l][i] & 7);
    base += 32 * 4;
    for (int l = 0; l < 32; ++l)
        for (int i = 0; i < 4; ++i) {
            const int r = f.c[l][i] >> 3, n = f.c[l][i] & 7;
            double s = r * 16 + n;
            for (int k = 0; k < 16; ++k) s += double(r * 16 + k) * (k * 16 + n);
            v[base + l * 4 + i] = static_cast<float>(s);
        }
    for (int l = 0; l < 32; ++l) {  // element writes, stored as tiles
        for (int i = 0; i < 8; ++i) v[kCoopProbeWritesAt + f.a[l][i]] = l * 8 + i;
        for (int i = 0; i < 4; ++i) v[kCoopProbeWritesAt + 256 + f.b[l][i]] = l * 4 + i;
        for (int i = 0; i < 4; ++i) v[kCoopProbeWritesAt + 384 + f.c[l][i]] = l * 4 + i;
    }
    v[kCoopProbeEndAt] = 1;
    return v;
}

}  // namespace

// matvec_frag.comp's decode_a, its integer steps copied here: each element
// pair p of a repacked word (element 2p's magnitude bits at 3p..3p+2 and
// sign at 12 + p, element 2p + 1's at 16 + 3p.. and 28 + p) must become two
// fp16 values equal to the E2M1 values of the codes times 2^-14 (the MX
// rules' table), for every one of the pair's 256 bit patterns.  Pairs 0 and
// 1 take one multiply instead of two shifts, which is exact only because
// the shifted copies' carries stay out of the kept bits: this checks that.
TEST(MatvecFrag, DecodeGivesE2m1Values) {
    static const float kE2m1[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};  // OCP MX spec, E2M1
    auto decode_pair = [](uint32_t q, uint32_t p) -> uint32_t {  // matvec_frag.comp's decode_a
        if (p == 3) return q & 0x8E008E00u;
        if (p == 2) return (q * 8u) & 0x8E008E00u;
        return ((q & (p == 0 ? 0x40074007u : 0x20382038u)) * (p == 0 ? 514u : 68u)) & 0x8E008E00u;
    };
    auto decode_by_shifts = [](uint32_t q, uint32_t p) -> uint32_t {  // DECODE_SHIFTS=1
        return ((q << (9u - 3u * p)) & 0x0E000E00u) | ((q << (1u + p)) & 0x80008000u);
    };
    std::mt19937 rng(7);
    for (uint32_t p = 0; p < 4; ++p)
        for (uint32_t codes = 0; codes < 256; ++codes) {
            const uint32_t lo_code = codes & 15u, hi_code = codes >> 4;  // elements 2p, 2p + 1
            const uint32_t s = frag_sign_bit(p);
            ASSERT_TRUE(p < 3 || s == 15u);
            uint32_t q = ((lo_code & 7u) << (3 * p)) | ((lo_code >> 3) << s) | ((hi_code & 7u) << (16 + 3 * p)) |
                         ((hi_code >> 3) << (16 + s));
            // The other pairs' bits must not matter: fill them at random.
            const uint32_t own = (7u << (3 * p)) | (1u << s) | (7u << (16 + 3 * p)) | (1u << (16 + s));
            q |= static_cast<uint32_t>(rng()) & ~own;
            const uint32_t h = decode_pair(q, p);
            if (p < 3) {
                ASSERT_EQ(decode_by_shifts(q, p), h) << "pair " << p << " codes " << codes;
            }
            const float lo = f16_to_f32(static_cast<uint16_t>(h & 0xffffu)), hi = f16_to_f32(static_cast<uint16_t>(h >> 16));
            const float want_lo = (lo_code & 8u ? -1.0f : 1.0f) * kE2m1[lo_code & 7u] * std::ldexp(1.0f, -14);
            const float want_hi = (hi_code & 8u ? -1.0f : 1.0f) * kE2m1[hi_code & 7u] * std::ldexp(1.0f, -14);
            ASSERT_EQ(lo, want_lo) << "pair " << p << " codes " << codes;
            ASSERT_EQ(hi, want_hi) << "pair " << p << " codes " << codes;
            ASSERT_EQ(std::signbit(lo), (lo_code & 8u) != 0) << "pair " << p << " codes " << codes;
        }
}

TEST(MatvecFrag, PtxLayoutIsUsable) {
    const frag_layout f = frag_layout_mma_m16n8k16();
    EXPECT_EQ(frag_layout_check(f), "");
    EXPECT_TRUE(frag_c_row_pairs(f));
    EXPECT_FALSE(frag_b_pairs(f));  // B elements (0, 1) are two k of one column
    // Lane 5 (group 1, thread 1): a0 = (1, 2), a7 = (9, 11); b2 = (k 10, n 1); c3 = (9, 3).
    EXPECT_EQ(f.a[5][0], 1 * 16 + 2);
    EXPECT_EQ(f.a[5][7], 9 * 16 + 11);
    EXPECT_EQ(f.b[5][2], 10 * 8 + 1);
    EXPECT_EQ(f.c[5][3], 9 * 8 + 3);
}

TEST(MatvecFrag, LayoutCheckRejectsBrokenLayouts) {
    frag_layout f = frag_layout_mma_m16n8k16();
    f.a[3][1] = f.a[4][1];  // an A element held twice
    EXPECT_NE(frag_layout_check(f), "");
    f = frag_layout_mma_m16n8k16();
    f.b[7][3] = 200;  // a B element out of range
    EXPECT_NE(frag_layout_check(f), "");
    f = frag_layout_mma_m16n8k16();
    std::swap(f.c[0][1], f.c[0][2]);
    EXPECT_EQ(frag_layout_check(f), "");  // still a permutation...
    EXPECT_FALSE(frag_c_row_pairs(f));    // ...but scale rows are no longer paired
}

// The probe's output as an H100 with NVIDIA's Vulkan driver 580 printed it
// (mlxmtp-kernel-bench COOP=2, 2026-12-05; tests/fixtures/device/): it must
// parse, pass every check (the multiply-add's result included) and be the
// layout frag_layout_nv_driver_580 names, which the kernel check emulates.
TEST(MatvecFrag, ObservedH100ProbeParsesToTheDriverLayout) {
    std::ifstream in(mlxmtp::test::fixture("device/coop_probe_h100_driver580.jsonl"));
    ASSERT_TRUE(in.good());
    std::vector<float> v(kCoopProbeFloats, 0.0f);
    v[0] = 8;
    v[1] = v[2] = v[3] = 4;
    size_t at = 4;
    std::string line;
    auto numbers_after = [](const std::string &l, const std::string &key) {
        std::vector<float> out;
        size_t p = l.find(key);
        if (p == std::string::npos) return out;
        p += key.size();
        for (int depth = 0; p < l.size(); ++p) {
            const char c = l[p];
            if (c == '[') ++depth;
            else if (c == ']' && --depth == 0) break;
            else if (c == '-' || (c >= '0' && c <= '9')) {
                size_t used = 0;
                out.push_back(std::stof(l.substr(p), &used));
                p += used - 1;
            }
        }
        return out;
    };
    while (std::getline(in, line)) {
        for (float x : numbers_after(line, "\"lanes\":")) v[at++] = x;
        const std::vector<float> w = numbers_after(line, "\"A_B_D\":");
        for (size_t i = 0; i < w.size(); ++i) v[kCoopProbeWritesAt + i] = w[i];
        if (!w.empty()) v[kCoopProbeEndAt] = 1;
    }
    ASSERT_EQ(at, 4u + 32 * (8 + 4 + 4 + 4));
    frag_layout f{};
    EXPECT_EQ(frag_layout_parse_probe(v, &f), "");
    const frag_layout d = frag_layout_nv_driver_580();
    EXPECT_EQ(f.a, d.a);
    EXPECT_EQ(f.b, d.b);
    EXPECT_EQ(f.c, d.c);
    EXPECT_TRUE(frag_c_row_pairs(f));
    EXPECT_TRUE(frag_b_pairs(f));  // B elements (0, 1): one k, columns 2c and 2c + 1
    const frag_layout ptx = frag_layout_mma_m16n8k16();
    EXPECT_NE(f.a, ptx.a);  // why the PTX layout gave wrong results there
}

TEST(MatvecFrag, ProbeParserChecksTheMultiplyAdd) {
    const frag_layout ptx = frag_layout_mma_m16n8k16();
    std::vector<float> out = probe_output(ptx);
    frag_layout f{};
    EXPECT_EQ(frag_layout_parse_probe(out, &f), "");
    EXPECT_EQ(f.a, ptx.a);
    EXPECT_EQ(f.b, ptx.b);
    EXPECT_EQ(f.c, ptx.c);
    out[4 + 32 * (8 + 4 + 4) + 31 * 4 + 3] += 1;  // a result (lane 31's last) the layouts cannot explain
    EXPECT_NE(frag_layout_parse_probe(out, &f), "");
    out = probe_output(ptx);
    std::swap(out[kCoopProbeWritesAt + 17], out[kCoopProbeWritesAt + 18]);  // writes disagree with reads
    EXPECT_EQ(frag_layout_parse_probe(out, &f), "element writes and element reads give different layouts");
    out = probe_output(ptx);
    out[kCoopProbeWritesAt + 300] = out[kCoopProbeWritesAt + 301];  // a B element stored twice
    EXPECT_NE(frag_layout_parse_probe(out, &f), "");
    out = probe_output(ptx);
    out[kCoopProbeEndAt] = 0;  // stopped early
    EXPECT_NE(frag_layout_parse_probe(out, &f), "");
    out = probe_output(ptx);
    out[1] = 8;  // unexpected fragment length
    EXPECT_NE(frag_layout_parse_probe(out, &f), "");
    out.resize(10);
    EXPECT_NE(frag_layout_parse_probe(out, &f), "");
}

// x quads: driver 580's layout has them (each lane's two k per tile split a
// tile's k into 8 pairs shared by all lanes), also with its lanes scrambled
// and element pairs swapped; the PTX layout (no B pairs) and a layout whose
// pairs disagree between lanes have none.  The order puts every lane's four
// k of a block at 4q .. 4q + 3, as matvec_frag.comp's XQ loads them.
TEST(MatvecFrag, XQuadsPutEachLanesBlockXTogether) {
    std::mt19937_64 rng(9);
    frag_layout nv = frag_layout_nv_driver_580(), scrambled = nv;
    std::shuffle(scrambled.b.begin(), scrambled.b.end(), rng);
    for (auto &lane : scrambled.b) std::swap(lane[0], lane[2]), std::swap(lane[1], lane[3]);
    for (const frag_layout &f : {nv, scrambled}) {
        std::array<uint8_t, 32> perm{};
        ASSERT_TRUE(frag_x_quads(f, &perm));
        std::vector<int> seen(32, 0);
        for (uint8_t p : perm) {
            ASSERT_LT(p, 32);
            ++seen[p];
        }
        EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
        for (const auto &lane : f.b) {
            const uint32_t ka = lane[0] >> 3, kb = lane[2] >> 3, q = perm[ka];
            EXPECT_EQ(q % 4, 0u);
            EXPECT_EQ(perm[kb], q + 1);
            EXPECT_EQ(perm[16 + ka], q + 2);
            EXPECT_EQ(perm[16 + kb], q + 3);
        }
        const auto t = frag_layout_table(f, true);
        ASSERT_EQ(t.size(), size_t(kFragTableWords));
        for (uint32_t s = 0; s < 32; ++s) EXPECT_EQ(t[640 + s], perm[s]);
    }
    EXPECT_FALSE(frag_x_quads(frag_layout_mma_m16n8k16()));
    EXPECT_ANY_THROW(frag_layout_table(frag_layout_mma_m16n8k16(), true));
    frag_layout mixed = nv;  // lane 0's second k paired differently from lane 4's first
    std::swap(mixed.b[0][2], mixed.b[4][2]);
    std::swap(mixed.b[0][3], mixed.b[4][3]);
    EXPECT_EQ(frag_layout_check(mixed), "");
    EXPECT_TRUE(frag_b_pairs(mixed));
    EXPECT_FALSE(frag_x_quads(mixed));
    const auto t = frag_layout_table(nv);  // the identity without quads
    for (uint32_t s = 0; s < 32; ++s) EXPECT_EQ(t[640 + s], s);
}

// The fragment-ordered scales (FSC): every lane's word holds its own two
// accumulator rows' scales (plus 14) of both blocks of each 64-column group,
// with zeros past the last row; layouts without row pairs have none.
TEST(MatvecFrag, ScaleWordsHoldEachLanesRowScales) {
    std::mt19937_64 rng(5);
    frag_layout scrambled = frag_layout_nv_driver_580();
    std::shuffle(scrambled.c.begin(), scrambled.c.end(), rng);  // lanes hold other rows
    for (const frag_layout &f : {frag_layout_mma_m16n8k16(), frag_layout_nv_driver_580(), scrambled}) {
        std::array<uint8_t, 32> lane_word;
        std::array<std::array<uint8_t, 2>, kFragScaleWords> word_rows;
        ASSERT_TRUE(frag_scale_words(f, &lane_word, &word_rows));
        const uint32_t rows = 37, cols = 192, bpr = cols / 32;
        std::vector<uint8_t> sc(size_t(rows) * bpr);
        for (auto &b : sc) b = static_cast<uint8_t>(rng() % 241);  // up to ops::max_scale_byte
        const auto words = frag_repack_scales(sc.data(), rows, cols, f);
        ASSERT_EQ(words.size(), size_t(3) * 3 * kFragScaleWords);  // 3 tiles, 3 groups
        const auto t = frag_layout_table(f);
        for (uint32_t l = 0; l < 32; ++l) {
            ASSERT_LT(lane_word[l], kFragScaleWords);
            EXPECT_EQ(t[672 + l], lane_word[l]);
            for (uint32_t tile = 0; tile < 3; ++tile)
                for (uint32_t g = 0; g < 3; ++g) {
                    const uint32_t w = words[(tile * 3 + g) * kFragScaleWords + lane_word[l]];
                    for (uint32_t j = 0; j < 2; ++j) {
                        const uint32_t row = tile * 16 + (f.c[l][2 * j] >> 3);
                        EXPECT_EQ(word_rows[lane_word[l]][j], f.c[l][2 * j] >> 3);
                        EXPECT_EQ(t[704 + 2 * lane_word[l] + j], f.c[l][2 * j] >> 3);
                        for (uint32_t b = 0; b < 2; ++b)
                            EXPECT_EQ((w >> (8 * (2 * j + b))) & 0xffu,
                                      row < rows ? sc[size_t(row) * bpr + 2 * g + b] + 14u : 0u);
                    }
                }
        }
    }
    frag_layout rowless = frag_layout_nv_driver_580();  // accumulator elements 0 and 1 in different rows
    std::swap(rowless.c[0][1], rowless.c[0][2]);
    EXPECT_FALSE(frag_scale_words(rowless));
    EXPECT_ANY_THROW(frag_repack_scales(nullptr, 16, 64, rowless));
}

TEST(MatvecFrag, RepackRoundTripsAndPadsWithZeros) {
    std::mt19937_64 rng(3);
    frag_layout scrambled = frag_layout_mma_m16n8k16();
    std::shuffle(scrambled.a.begin(), scrambled.a.end(), rng);
    for (const frag_layout &f : {frag_layout_mma_m16n8k16(), frag_layout_nv_driver_580(), scrambled}) {
        for (bool q : {false, true}) {
            if (q && !frag_x_quads(f)) continue;
            const uint32_t rows = 37, cols = 192;
            std::vector<uint8_t> codes(size_t(rows) * cols / 2);
            for (auto &c : codes) c = static_cast<uint8_t>(rng());
            const auto packed = frag_repack_mxfp4(codes.data(), rows, cols, f, q);
            EXPECT_EQ(packed.size(), size_t(3) * 3 * 32 * 4);  // 3 tiles, 3 groups
            EXPECT_EQ(frag_unpack_mxfp4(packed, rows, cols, f, q), codes);
            if (q) {
                EXPECT_NE(packed, frag_repack_mxfp4(codes.data(), rows, cols, f));  // another column order
            }
            // Rows 37..47 of the last tile are zero codes: unpacking as 48 rows
            // gives the codes then zeros.
            auto padded = frag_unpack_mxfp4(packed, 48, cols, f, q);
            EXPECT_TRUE(std::equal(codes.begin(), codes.end(), padded.begin()));
            EXPECT_TRUE(std::all_of(padded.begin() + codes.size(), padded.end(), [](uint8_t b) { return b == 0; }));
        }
    }
    std::vector<uint8_t> codes(32 * 40 / 2);
    EXPECT_ANY_THROW(frag_repack_mxfp4(codes.data(), 32, 40, frag_layout_mma_m16n8k16()));  // cols % 64
}

// The device repacking (frag_repack_mxfp4.comp, what models use) writes the
// host form's words, under the PTX layout, the driver-580 layout and a
// scrambled one, tile first or (the default) 64-column group first.
TEST(MatvecFrag, DeviceRepackEqualsHostRepack) {
    mlxmtp::test::validation_scope vs;
    vk_device &dev = mlxmtp::test::validated_device();
    std::mt19937_64 rng(5);
    frag_layout scrambled = frag_layout_mma_m16n8k16();
    std::shuffle(scrambled.a.begin(), scrambled.a.end(), rng);
    for (const frag_layout &f : {frag_layout_mma_m16n8k16(), frag_layout_nv_driver_580(), scrambled}) {
        for (bool q : {false, true}) {
            if (q && !frag_x_quads(f)) continue;
            const uint32_t rows = 145, cols = 320;  // >= kFragMinRows, a padded last tile
            std::vector<uint8_t> codes(size_t(rows) * cols / 2);
            for (auto &c : codes) c = static_cast<uint8_t>(rng());
            arena a(dev, false, 0, "repack test");
            device_weight w;
            w.format = wformat::mxfp4;
            w.rows = rows;
            w.cols = cols;
            weight_chunk c;
            c.rows = rows;
            c.data = a.alloc(codes.size(), "codes");
            c.scales = a.alloc(size_t(rows) * cols / 32, "scales");
            upload(dev, c.data, codes.data(), codes.size());
            w.chunks.push_back(c);
            ASSERT_TRUE(frag_eligible(w));
            const auto t = frag_layout_table(f, q);
            buffer_span table = a.alloc(t.size() * 4, "table");
            upload(dev, table, t.data(), t.size() * 4);
            const auto tile_first = frag_repack_mxfp4(codes.data(), rows, cols, f, q);
            const uint32_t tiles = (rows + 15) / 16, groups = cols / 64;
            for (bool km : {true, false}) {  // group first (the default), tile first (frag_tile_major)
                frag_copy layout = frag_copy_layout(f, table, true, q);
                EXPECT_TRUE(layout.kmajor);
                layout.kmajor = km;
                {
                    command_stream cs(dev);
                    make_frag_copy(cs, a, w, layout);
                    cs.submit();
                }
                std::vector<uint32_t> want = tile_first;  // [tile][group][128 words], or [group][tile]
                if (km)
                    for (uint32_t tile = 0; tile < tiles; ++tile)
                        for (uint32_t g = 0; g < groups; ++g)
                            std::copy_n(&tile_first[(size_t(tile) * groups + g) * 128], 128,
                                        &want[(size_t(g) * tiles + tile) * 128]);
                std::vector<uint32_t> got(want.size());
                ASSERT_EQ(w.frag.data.size, want.size() * 4);
                download(dev, w.frag.data, got.data(), got.size() * 4);
                EXPECT_EQ(got, want) << "group first " << km;
            }
        }
    }
}

// The kernel check under a lane-scrambled PTX layout (seed % 6 = 5; the
// kernel check test's seeds cover the other layouts).
TEST(MatvecFrag, KernelCheckUnderScrambledPtxLayout) {
    mlxmtp::test::validation_scope vs;
    for (const kernel_check &c : kernel_checks()) {
        if (std::string(c.name) != "matvec_frag_mxfp4") continue;
        const kernel_check_result r = c.run(mlxmtp::test::validated_device(), 5);
        EXPECT_TRUE(r.passed) << "error " << r.error << " > " << r.tolerance;
    }
}
