// The fragment-decoding tensor-core MXFP4 matvec's host side:
// its layout (probe, checks, table), the weight repacking and the launchers.
#include "ops/linear_frag.h"

#include "ops/basic_ops.h"
#include "vk/memory.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

namespace mlxmtp::detail::ops {

frag_layout frag_layout_mma_m16n8k16() {
    frag_layout f{};
    for (uint32_t l = 0; l < 32; ++l) {
        const uint32_t g = l >> 2, t = l & 3;
        for (uint32_t i = 0; i < 8; ++i) {
            const uint32_t r = g + 8 * ((i >> 1) & 1), k = 2 * t + (i & 1) + 8 * (i >> 2);
            f.a[l][i] = static_cast<uint8_t>(r * 16 + k);
        }
        for (uint32_t i = 0; i < 4; ++i) {
            f.b[l][i] = static_cast<uint8_t>((2 * t + (i & 1) + 8 * (i >> 1)) * 8 + g);
            f.c[l][i] = static_cast<uint8_t>((g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1));
        }
    }
    return f;
}

frag_layout frag_layout_nv_driver_580() {
    frag_layout f{};
    for (uint32_t l = 0; l < 32; ++l) {
        const uint32_t g = l >> 2, t = l & 3;
        for (uint32_t i = 0; i < 8; ++i) {
            const uint32_t r = g + 8 * (i >> 2), k = 2 * t + (i & 1) + 8 * ((i >> 1) & 1);
            f.a[l][i] = static_cast<uint8_t>(r * 16 + k);
        }
        for (uint32_t i = 0; i < 4; ++i)  // B (k, n) and the accumulator (r, n) alike
            f.b[l][i] = f.c[l][i] = static_cast<uint8_t>((g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1));
    }
    return f;
}

namespace {
template <size_t N>
std::string check_permutation(const std::array<std::array<uint8_t, N>, 32> &m, uint32_t size, const char *what) {
    std::vector<int> seen(size, 0);
    for (const auto &lane : m)
        for (uint8_t v : lane) {
            if (v >= size) return std::string(what) + ": element index out of range";
            if (seen[v]++) return std::string(what) + ": an element is held twice";
        }
    return "";
}
}  // namespace

std::string frag_layout_check(const frag_layout &f) {
    std::string e = check_permutation(f.a, 256, "A");
    if (e.empty()) e = check_permutation(f.b, 128, "B");
    if (e.empty()) e = check_permutation(f.c, 128, "C");
    return e;
}

bool frag_c_row_pairs(const frag_layout &f) {
    for (const auto &lane : f.c)
        if (lane[0] >> 3 != lane[1] >> 3 || lane[2] >> 3 != lane[3] >> 3) return false;
    return true;
}

bool frag_scale_words(const frag_layout &f, std::array<uint8_t, 32> *lane_word,
                      std::array<std::array<uint8_t, 2>, kFragScaleWords> *word_rows) {
    if (!frag_c_row_pairs(f)) return false;
    std::array<uint8_t, 32> lw{};
    std::array<std::array<uint8_t, 2>, kFragScaleWords> wr{};
    uint32_t words = 0;
    for (uint32_t l = 0; l < 32; ++l) {
        const uint8_t r0 = f.c[l][0] >> 3, r1 = f.c[l][2] >> 3;
        uint32_t q = 0;
        while (q < words && !(wr[q][0] == r0 && wr[q][1] == r1)) ++q;
        if (q == words) {
            if (words == kFragScaleWords) return false;
            wr[words++] = {r0, r1};
        }
        lw[l] = static_cast<uint8_t>(q);
    }
    for (uint32_t q = words; q < kFragScaleWords; ++q) wr[q] = {16, 16};  // unused: zero bytes
    if (lane_word) *lane_word = lw;
    if (word_rows) *word_rows = wr;
    return true;
}

std::string frag_layout_parse_probe(const std::vector<float> &out, frag_layout *f) {
    if (out.size() < kCoopProbeFloats) return "probe output too short";
    if (out[0] != 8 || out[1] != 4 || out[2] != 4 || out[3] != 4)
        return "the probe's header is " + std::to_string(int(out[0])) + ", " + std::to_string(int(out[1])) + ", " +
               std::to_string(int(out[2])) + ", " + std::to_string(int(out[3])) +
               " instead of 8, 4, 4, 4 (the shader did not run)";
    if (out[kCoopProbeEndAt] != 1) return "the probe's shader stopped before its end (after its header)";
    auto index = [&](size_t at, uint32_t limit, uint32_t *v) {
        const float x = out[at];
        if (!(x >= 0) || x >= float(limit) || x != std::floor(x)) return false;
        *v = static_cast<uint32_t>(x);
        return true;
    };
    size_t base = 4;
    for (uint32_t l = 0; l < 32; ++l)
        for (uint32_t i = 0; i < 8; ++i) {
            uint32_t v;
            if (!index(base + l * 8 + i, 256, &v)) return "A: element value out of range";
            f->a[l][i] = static_cast<uint8_t>(v);
        }
    base += 32 * 8;
    for (uint32_t l = 0; l < 32; ++l)
        for (uint32_t i = 0; i < 4; ++i) {  // loaded with a row stride of 16: k * 16 + n
            uint32_t v;
            if (!index(base + l * 4 + i, 256, &v) || (v & 15) >= 8) return "B: element value out of range";
            f->b[l][i] = static_cast<uint8_t>((v >> 4) * 8 + (v & 15));
        }
    base += 32 * 4;
    for (uint32_t l = 0; l < 32; ++l)
        for (uint32_t i = 0; i < 4; ++i) {  // r * 16 + n
            uint32_t v;
            if (!index(base + l * 4 + i, 256, &v) || (v & 15) >= 8) return "C: element value out of range";
            f->c[l][i] = static_cast<uint8_t>((v >> 4) * 8 + (v & 15));
        }
    base += 32 * 4;
    std::string e = frag_layout_check(*f);
    if (!e.empty()) return e;
    // The same layouts from element writes stored as tiles (the kernel writes
    // A and B elements): tile position p holds lane * len + element.
    frag_layout w{};
    auto stored = [&](size_t at, uint32_t count, uint32_t len, auto &&set) {
        std::vector<bool> seen(count, false);
        for (uint32_t p = 0; p < count; ++p) {
            uint32_t v;
            if (!index(at + p, count, &v) || seen[v]) return false;
            seen[v] = true;
            set(v / len, v % len, p);
        }
        return true;
    };
    const size_t wa = kCoopProbeWritesAt;
    if (!stored(wa, 256, 8, [&](uint32_t l, uint32_t i, uint32_t p) { w.a[l][i] = static_cast<uint8_t>(p); }) ||
        !stored(wa + 256, 128, 4, [&](uint32_t l, uint32_t i, uint32_t p) { w.b[l][i] = static_cast<uint8_t>(p); }) ||
        !stored(wa + 384, 128, 4, [&](uint32_t l, uint32_t i, uint32_t p) { w.c[l][i] = static_cast<uint8_t>(p); }))
        return "the stored element writes are not a permutation of the lanes' elements";
    if (w.a != f->a || w.b != f->b || w.c != f->c)
        return "element writes and element reads give different layouts";
    // R = A B + D with A(r, k) = r * 16 + k, B(k, n) = k * 16 + n, D(r, n) =
    // r * 16 + n: integers below 2^24, exact in fp32.
    for (uint32_t l = 0; l < 32; ++l)
        for (uint32_t i = 0; i < 4; ++i) {
            const uint32_t r = f->c[l][i] >> 3, n = f->c[l][i] & 7;
            double want = r * 16.0 + n;
            for (uint32_t k = 0; k < 16; ++k) want += (r * 16.0 + k) * (k * 16.0 + n);
            if (out[base + l * 4 + i] != want)
                return "the multiply-add's result does not match the reported layouts (lane " + std::to_string(l) +
                       ", element " + std::to_string(i) + ")";
        }
    return "";
}

namespace {
const char *component_name(VkComponentTypeNV t) {
    switch (t) {
    case VK_COMPONENT_TYPE_FLOAT16_NV: return "f16";
    case VK_COMPONENT_TYPE_FLOAT32_NV: return "f32";
    case VK_COMPONENT_TYPE_FLOAT64_NV: return "f64";
    case VK_COMPONENT_TYPE_SINT8_NV: return "s8";
    case VK_COMPONENT_TYPE_UINT8_NV: return "u8";
    case VK_COMPONENT_TYPE_SINT32_NV: return "s32";
    case VK_COMPONENT_TYPE_UINT32_NV: return "u32";
    default: return "?";
    }
}
}  // namespace

std::string coop_shapes_text(const vk_device &dev) {
    std::string out;
    for (const vk_device::coop_shape &c : dev.cooperative_matrix_shapes()) {
        if (!out.empty()) out += ", ";
        out += std::to_string(c.M) + "x" + std::to_string(c.N) + "x" + std::to_string(c.K) + " " +
               component_name(c.a) + "*" + component_name(c.b) + "+" + component_name(c.c) + "->" +
               component_name(c.d) + (c.scope == VK_SCOPE_SUBGROUP_NV ? "" : " (not subgroup scope)");
    }
    return out;
}

bool frag_native(const vk_device &dev) { return dev.cooperative_matrix() && dev.info().subgroup_size == 32; }

std::string frag_device_layout(vk_device &dev, frag_layout *f) {
    if (frag_native(dev)) return frag_layout_probe(dev, f);
    *f = frag_layout_nv_driver_580();
    return "";
}

std::string frag_layout_probe(vk_device &dev, frag_layout *f, std::vector<float> *raw) {
    if (!frag_native(dev))
        return "needs VK_NV_cooperative_matrix (instance_options::cooperative_matrix) and subgroup size 32";
    bool listed = dev.cooperative_matrix_shapes().empty();  // (an empty list: the query failed; try anyway)
    for (const vk_device::coop_shape &c : dev.cooperative_matrix_shapes())
        listed = listed || (c.M == 16 && c.N == 8 && c.K == 16 && c.a == VK_COMPONENT_TYPE_FLOAT16_NV &&
                            c.b == VK_COMPONENT_TYPE_FLOAT16_NV && c.c == VK_COMPONENT_TYPE_FLOAT32_NV &&
                            c.d == VK_COMPONENT_TYPE_FLOAT32_NV && c.scope == VK_SCOPE_SUBGROUP_NV);
    if (!listed) return "the driver does not list 16x8x16 f16*f16+f32->f32 (it lists " + coop_shapes_text(dev) + ")";
    arena a(dev, false, 0, "coop layout probe");
    buffer_span out = a.alloc(kCoopProbeFloats * 4, "out");
    command_stream cs(dev);
    cs.dispatch(dev.kernels().get("coop_layout_probe"), {out}, nullptr, 0, 1);
    cs.submit();
    std::vector<float> v(kCoopProbeFloats);
    download(dev, out, v.data(), v.size() * 4);
    if (raw) *raw = v;
    return frag_layout_parse_probe(v, f);
}

bool frag_b_pairs(const frag_layout &f) {
    for (const auto &lane : f.b)
        for (uint32_t p = 0; p < 4; p += 2)
            if (lane[p] >> 3 != lane[p + 1] >> 3 || (lane[p] & 7) % 2 != 0 || (lane[p + 1] & 7) != (lane[p] & 7) + 1)
                return false;
    return true;
}

bool frag_x_quads(const frag_layout &f, std::array<uint8_t, 32> *perm) {
    if (!frag_b_pairs(f)) return false;
    // quad[k]: which of a tile's 8 k pairs k is in (the pairs lanes hold);
    // role[k]: whether k is its pair's first k (a lane's element pair 0) or
    // its second (element pair 1).
    std::array<int, 16> quad, role;
    quad.fill(-1), role.fill(-1);
    int quads = 0;
    for (const auto &lane : f.b) {
        const uint32_t ka = lane[0] >> 3, kb = lane[2] >> 3;
        if (ka == kb) return false;
        if (quad[ka] < 0 && quad[kb] < 0) {
            quad[ka] = quad[kb] = quads++;
            role[ka] = 0, role[kb] = 1;
        } else if (quad[ka] != quad[kb] || role[ka] != 0 || role[kb] != 1) {
            return false;
        }
    }
    if (quads != 8) return false;
    if (perm)
        for (uint32_t s = 0; s < 32; ++s)
            (*perm)[s] = static_cast<uint8_t>(4 * quad[s & 15] + 2 * (s >> 4) + role[s & 15]);
    return true;
}

std::vector<uint32_t> frag_layout_table(const frag_layout &f, bool x_quads) {
    std::array<uint8_t, 32> perm;
    for (uint32_t s = 0; s < 32; ++s) perm[s] = static_cast<uint8_t>(s);
    if (x_quads && !frag_x_quads(f, &perm))
        fail(MLXMTP_ERR_INTERNAL, "frag_layout_table: the layout has no x quads");
    std::vector<uint32_t> t(kFragTableWords);
    for (uint32_t s = 0; s < 32; ++s) t[640 + s] = perm[s];
    std::array<uint8_t, 32> lane_word;
    std::array<std::array<uint8_t, 2>, kFragScaleWords> word_rows;
    if (frag_scale_words(f, &lane_word, &word_rows)) {  // else zeros (no copy is made: frag_copy_layout)
        for (uint32_t l = 0; l < 32; ++l) t[672 + l] = lane_word[l];
        for (uint32_t q = 0; q < kFragScaleWords; ++q)
            for (uint32_t j = 0; j < 2; ++j) t[704 + 2 * q + j] = word_rows[q][j];
    }
    for (uint32_t l = 0; l < 32; ++l) {
        for (uint32_t i = 0; i < 8; ++i) t[l * 16 + i] = f.a[l][i];
        for (uint32_t i = 0; i < 4; ++i) t[l * 16 + 8 + i] = f.b[l][i];
        for (uint32_t i = 0; i < 4; ++i) {
            t[l * 16 + 12 + i] = f.c[l][i];
            t[512 + f.c[l][i]] = l * 4 + i;
        }
    }
    return t;
}

namespace {
// Where element i (< 8) of a fragment word keeps its magnitude and sign
// bits (matvec_frag.comp's decode_a).
inline uint32_t mag_shift(uint32_t i) { return 3 * (i >> 1) + 16 * (i & 1); }
inline uint32_t sign_bit(uint32_t i) { return frag_sign_bit(i >> 1) + 16 * (i & 1); }
}  // namespace

namespace {
// Calls fn(word, i, r, k) for every fragment element of the repacked form:
// element i of word `word` (matvec_frag.comp's order) holds W[r, k], r < rows.
template <class F>
void for_each_frag_element(uint32_t rows, uint32_t cols, const frag_layout &f, bool x_quads, F fn) {
    const std::vector<uint32_t> table = frag_layout_table(f, x_quads);  // its x positions
    const uint32_t tiles = (rows + 15) / 16, groups = cols / 64;
    for (uint32_t tile = 0; tile < tiles; ++tile)
        for (uint32_t g = 0; g < groups; ++g)
            for (uint32_t l = 0; l < 32; ++l)
                for (uint32_t kt = 0; kt < 4; ++kt) {
                    const uint64_t word = ((uint64_t(tile) * groups + g) * 32 + l) * 4 + kt;
                    for (uint32_t i = 0; i < 8; ++i) {
                        const uint32_t r = tile * 16 + (f.a[l][i] >> 4),
                                       k = g * 64 + (kt >> 1) * 32 + table[640 + (kt & 1) * 16 + (f.a[l][i] & 15)];
                        if (r < rows) fn(word, i, r, k);
                    }
                }
}
}  // namespace

std::vector<uint32_t> frag_repack_mxfp4(const uint8_t *codes, uint32_t rows, uint32_t cols, const frag_layout &f,
                                       bool x_quads) {
    if (cols % 64) fail(MLXMTP_ERR_UNSUPPORTED, "frag_repack_mxfp4: cols %u is not a multiple of 64", cols);
    const uint64_t row_bytes = cols / 2;
    std::vector<uint32_t> out(uint64_t((rows + 15) / 16) * (cols / 64) * 32 * 4, 0);
    for_each_frag_element(rows, cols, f, x_quads, [&](uint64_t word, uint32_t i, uint32_t r, uint32_t k) {
        const uint32_t code = (codes[r * row_bytes + k / 2] >> (4 * (k & 1))) & 15;
        out[word] |= (code & 7) << mag_shift(i) | (code >> 3) << sign_bit(i);
    });
    return out;
}

std::vector<uint8_t> frag_unpack_mxfp4(const std::vector<uint32_t> &packed, uint32_t rows, uint32_t cols,
                                       const frag_layout &f, bool x_quads) {
    const uint64_t row_bytes = cols / 2;
    std::vector<uint8_t> codes(uint64_t(rows) * row_bytes, 0);
    for_each_frag_element(rows, cols, f, x_quads, [&](uint64_t word, uint32_t i, uint32_t r, uint32_t k) {
        const uint32_t w = packed.at(word);
        const uint32_t code = ((w >> mag_shift(i)) & 7) | (((w >> sign_bit(i)) & 1) << 3);
        codes[r * row_bytes + k / 2] |= static_cast<uint8_t>(code << (4 * (k & 1)));
    });
    return codes;
}

void x_split_f16(command_stream &cs, const buffer_span &x, const buffer_span &xs, uint32_t N, uint32_t K) {
    if (K % 2) fail(MLXMTP_ERR_UNSUPPORTED, "x_split_f16: K %u is odd", K);
    vk_device &dev = cs.device();
    uint32_t gx, gy;
    grid_1d(dev, (uint64_t(N) * K / 2 + 255) / 256, &gx, &gy);
    struct {
        uint32_t K, N, gx;
    } pc{K, N, gx};
    cs.dispatch(dev.kernels().get("x_split_f16"), {x, xs}, pc, gx, gy);
}

namespace {
// The value of define `name` in `d` (the last one; at least 1), or `dflt`.
uint32_t define_u32(const define_list &d, const char *name, uint32_t dflt) {
    uint32_t v = dflt;
    for (const auto &e : d)
        if (e.first == name) v = static_cast<uint32_t>(std::max(1ul, std::strtoul(e.second.c_str(), nullptr, 10)));
    return v;
}

// Whether define `name` in `d` is on (the last one; a value other than "0"),
// or `dflt` where it is absent: the switches, which define_u32 cannot tell
// from 1 when they are 0.
bool define_on(const define_list &d, const char *name, bool dflt) {
    bool v = dflt;
    for (const auto &e : d)
        if (e.first == name) v = e.second != "0";
    return v;
}

// matvec_frag's dispatch; `up` (GLU) the MLP's up weight beside the gate
// `w`, or `conv` (CONV) the qkv projection's conv epilogue.
// `norm` (NORM_IN: xpairs are u's halves) and `resid` (RESID_OUT: y is the
// residual stream, updated in place): the spread RMSNorm.
void frag_dispatch(command_stream &cs, const frag_weight &w, const frag_weight *up, const matvec_conv *conv,
                   const buffer_span &x_in, const buffer_span &y, uint32_t N, uint32_t ystride, bool x_f32,
                   const buffer_span &xpairs, const buffer_span &ypairs = {}, const frag_norm_in *norm = nullptr,
                   const frag_resid_out *resid = nullptr, const frag_ksplit *ks = nullptr) {
    vk_device &dev = cs.device();
    if (!w.emulate && !frag_native(dev))
        fail(MLXMTP_ERR_UNSUPPORTED, "matvec_frag: needs VK_NV_cooperative_matrix and subgroup size 32");
    // Plain products (prefill) may take up to kFragPrefillMaxCols columns:
    // the grid's y covers the column groups past a workgroup's.
    const bool plain = !up && !conv && !norm && !resid && !ks && !ypairs.valid();
    if (N < 1 || N > (plain ? kFragPrefillMaxCols : 16u) || w.cols % 64 || w.rows == 0)
        fail(MLXMTP_ERR_UNSUPPORTED, "matvec_frag: 1..16 columns (plain products %u), K %% 64 == 0 only",
             kFragPrefillMaxCols);
    if (up && (up->rows != w.rows || up->cols != w.cols || up->c_row_pairs != w.c_row_pairs ||
               up->b_pairs != w.b_pairs || up->hl_cols != w.hl_cols || up->x_quads != w.x_quads ||
               up->emulate != w.emulate || up->x16 != w.x16 || up->f16_weights != w.f16_weights))
        fail(MLXMTP_ERR_INTERNAL, "matvec_frag GLU: gate and up differ in shape or layout");
    // The x form (HLC) and the warps per workgroup (NSG: the K partition,
    // so the order of the sums) are fixed per weight: they change the bits.
    // R (row tiles per warp) and PF (groups of loads in flight) do not, so
    // they may follow N.
    const bool hlc = define_on(tuning().frag_defines, "HLC", w.hl_cols);
    // The column order is the weight's (set when it was repacked).
    if (w.x_quads && !(hlc && w.b_pairs && x_f32))
        fail(MLXMTP_ERR_INTERNAL, "matvec_frag: a weight in x-quad order needs hi / lo columns and fp32 x");
    if (w.x16 && !w.x_quads) fail(MLXMTP_ERR_INTERNAL, "matvec_frag: fp16 x (X16) needs the x-quad order");
    // Column groups: 4 tokens each with hi / lo columns, else 8 (X16: two
    // tokens per B element pair; HLC=0: hi and lo as two multiply-adds).
    const uint32_t ng = hlc && !w.x16 ? (N + 3) / 4 : (N + 7) / 8;
    // Column groups per workgroup (the kernel's NG; the grid's y covers the
    // rest; GPW in frag_defines overrides).  CONV walks every token in one
    // workgroup.
    // Past 16 columns (prefill), two groups per workgroup as at 16.
    uint32_t gpw = define_u32(tuning().frag_defines, "GPW", std::min(ng, 2u));
    if (conv || gpw > ng) gpw = ng;
    const uint32_t gy = (ng + gpw - 1) / gpw;
    // Defaults (H100, driver 580, 27B MXFP4 end to end: scripts/gpu_hlc*.sh,
    // docs/perf-matvec.md): with hi / lo columns, 8 warps per workgroup
    // (the model runs each product behind a barrier, and a warp's chain of
    // K groups bounds a dispatch: decode 11.03 ms against 11.84 with 4) and
    // R by the weight's rows: at two column groups frag_tiles_per_warp, at
    // one frag_tiles_per_warp_one_group (one tile but for the mid-sized
    // weights); 1 group of loads
    // ahead from two column groups (verify of 5..9 tokens 15.6-20.6 ms
    // against 15.9-23.1 with 2; 3 and 4 slower everywhere) and, below, at
    // one too (2 was faster there until the driver spilled at it).  The other form keeps the eleventh
    // session's NSG = 4, R by rows, PF = 2.  GLU: half as many tiles of each
    // weight, so that a warp holds as many in all.
    uint32_t tpw = w.tiles_per_warp;
    if (!tpw) {
        tpw = !hlc || gpw == 2 ? frag_tiles_per_warp(w.rows) : frag_tiles_per_warp_one_group(w.rows, w.f16_weights);
        if (up) tpw = std::max(1u, tpw / 2);
    }
    // bf16 copies (AF16: four times the A bytes per step) take PF = 1 at
    // one column group too (decode 20.77 against 21.12 ms, verify of 2..8
    // 1-3% faster: docs/results/h100-2026-12-06bf16/call2), and since the
    // scale words and the 14 - p signs MXFP4's too: at PF = 2 driver 580
    // spilled registers in the NORM_IN / CONV variants (decode 12.07 ms
    // against 8.85 at PF = 1: docs/results/h100-2026-12-06fsc).
    // K in contiguous parts per warp (KSTRIDE=0) with the copies ordered
    // 64-column group first (frag_copy::kmajor): the workgroups' warps w
    // then read adjacent pieces of their tiles at each step (H100 27B
    // decode MXFP4 8.30-8.39 against 8.55-8.62 ms with KSTRIDE=1, where a
    // workgroup's warps read adjacent pieces, and tile-first copies; bf16
    // 19.37 against 19.75; docs/results/h100-2026-12-07c).  KSTRIDE=1 in
    // frag_defines for A/B: like NSG it sets the sums' order, so it holds
    // for every product of a run.
    define_list d{{"R", std::to_string(tpw)}, {"NSG", hlc ? "8" : "4"},
                  {"PF", hlc ? "1" : "2"},
                  {"HLC", hlc ? "1" : "0"},
                  {"KSTRIDE", "0"}};
    if (w.c_row_pairs) d.emplace_back("C_ROW_PAIRS", "1");
    // Fragment-ordered scales where the copy has them (GLU: both; A/B:
    // kernel_tuning::frag_no_scale_copy makes copies without them).
    const bool fsc = w.scale_words.valid() && (!up || up->scale_words.valid());
    if (!fsc && (!w.scales.valid() || (up && !up->scales.valid())))
        fail(MLXMTP_ERR_INTERNAL, "matvec_frag: a weight without its standard scales needs its scale words");
    if (fsc) d.emplace_back("FSC", "1");
    if (w.signs12 && !w.f16_weights) d.emplace_back("SIGNS12", "1");
    if (w.kmajor != (up ? up->kmajor : w.kmajor)) fail(MLXMTP_ERR_INTERNAL, "matvec_frag: gate and up in two orders");
    if (w.kmajor) d.emplace_back("KMAJOR", "1");
    if (w.emulate) d.emplace_back("EMULATE", "1");
    if (x_f32) d.emplace_back("XF32", "1");
    if (up) d.emplace_back("GLU", "1");
    if (conv) d.emplace_back("CONV", "1");
    // Experiments (NSG, R, PF; PFG1 / PFG2: PF at one / more column groups
    // per workgroup; kernel defines such as XNEAR) override; NAME@ROWS only
    // for weights of ROWS rows, NAME@ROWS/N only at N columns too (grids per
    // weight and N, A/B).
    for (const auto &e0 : tuning().frag_defines) {
        auto e = e0;
        const size_t a = e.first.find('@');
        if (a != std::string::npos) {
            const std::string scope = e.first.substr(a), at = "@" + std::to_string(w.rows);
            if (scope != at && scope != at + "/" + std::to_string(N)) continue;
            e.first.resize(a);
        }
        if (e.first == "XQ" || e.first == "GPW" || e.first == "FSC" || e.first == "GINT" || e.first == "WNSG" ||
            e.first == "XSH")
            continue;  // the copy's; the grid; WROWS's (below)
        if (e.first == "PFG1" || e.first == "PFG2") {  // PF at one / at two or more column groups per workgroup
            if ((e.first == "PFG1") != (gpw == 1)) continue;
            e.first = "PF";
        }
        auto it = std::find_if(d.begin(), d.end(), [&](const auto &x) { return x.first == e.first; });
        if (it != d.end()) it->second = e.second;
        else d.push_back(e);
    }
    // WROWS (prefill's plain products of x16 copies, kernel_tuning::
    // frag_prefill_rows): the workgroup's warps on row tiles, each over the
    // whole K; KP keeps the K split's parts (the weight's NSG) for the sums,
    // NSG becomes the warps per workgroup (WNSG, default 8).
    const bool wrows = plain && N > 16 && w.x16 && tuning().frag_prefill_rows && !ks && !define_on(d, "TLOOP", false) &&
                       !define_on(d, "KSTRIDE", false) && !define_on(d, "TOUCH", false) &&
                       define_u32(d, "KSPLIT", 1) == 1;
    const uint32_t row_warps = wrows ? define_u32(tuning().frag_defines, "WNSG", 8) : 1;  // warps per workgroup on rows
    if (wrows) {
        const uint32_t kp = define_u32(d, "NSG", 8);
        d.erase(std::remove_if(d.begin(), d.end(), [](const auto &x) { return x.first == "NSG"; }), d.end());
        d.insert(d.end(), {{"WROWS", "1"}, {"KP", std::to_string(kp)}, {"NSG", std::to_string(row_warps)}});
    }
    const uint32_t rt = define_u32(d, "R", 1);  // 16-row tiles per warp (the kernel's R)
    // KSPLIT=S (an A/B define, frag_defines; other bits, so per weight as
    // NSG): a tile group's K over S workgroups, the last to finish adding
    // the parts (matvec_frag.comp).  Products given its scratch only; the
    // define goes back below, after the checks.
    uint32_t ksplit = define_u32(d, "KSPLIT", 1);
    if (ksplit > 1 && !(ks && ks->partials.valid() && ks->arrivals.valid())) ksplit = 1;
    d.erase(std::remove_if(d.begin(), d.end(), [](const auto &x) { return x.first == "KSPLIT"; }), d.end());
    d.emplace_back("NG", std::to_string(gpw));
    if (hlc && w.b_pairs) d.emplace_back("B_PAIRS", "1");
    if (w.x_quads) d.emplace_back("XQ", "1");
    if (w.x16) d.emplace_back("X16", "1");
    if (w.f16_weights) d.emplace_back("AF16", "1");
    // x split by its producer: the pair words instead of fp32 x.
    const uint32_t xp_max = tuning().frag_presplit_max_cols;
    const bool xp = xpairs.valid() && w.x_quads && (norm || !xp_max || N <= xp_max);  // (normed x: u's halves)
    if (xp) d.emplace_back("XP", "1");
    // XSH (an A/B define, frag_defines; WROWS with XP only): x staged in shared memory per step.
    if (wrows && xp && define_on(tuning().frag_defines, "XSH", false) && !define_on(d, "XLATE", false) &&
        !define_on(d, "XNEAR", false))
        d.emplace_back("XSH", "1");
    if (norm) {
        if (!w.x16 || !xpairs.valid() || w.cols % 64)
            fail(MLXMTP_ERR_INTERNAL, "matvec_frag: a normed x needs x16 copies and u's halves");
        if (norm->partials.size < 4ull * N * (w.cols / 16) || w.cols > 16384)
            fail(MLXMTP_ERR_INTERNAL, "matvec_frag: norm partials too small, or K over 16384");
        d.emplace_back("NORM_IN", "1");
    }
    const buffer_span &xs = xp ? xpairs : x_in;
    if (ypairs.valid()) {
        if (!up) fail(MLXMTP_ERR_INTERNAL, "matvec_frag: output pairs are the GLU epilogue's");
        d.emplace_back("XP_OUT", w.x16 ? "2" : "1");
    }
    if (resid) {
        if (up || conv) fail(MLXMTP_ERR_INTERNAL, "matvec_frag: the residual epilogue is the plain products'");
        if (resid->partials.size < 4ull * N * ((w.rows + 15) / 16))
            fail(MLXMTP_ERR_INTERNAL, "matvec_frag: residual partials too small");
        d.emplace_back("RESID_OUT", "1");
        if (resid->gain.valid()) d.emplace_back("U16_OUT", "1");
    }
    // The epilogue in one round for every row tile and column group (the
    // kernel's EPI_ALL, the same bits; the default since 2026-12-07: H100
    // 27B MXFP4 verify of 9 tokens 12.47 against 13.87 ms, decode the same;
    // EPI_ALL=0 in frag_defines opts out) where its shared memory fits:
    // red, rss, the conv's staged sums, rs_part and the emulation's tiles;
    // CONV also needs no snapshot slot written to be its input window (T <
    // ring: its tokens then run in parallel).  An EPI_ALL frag_define wins.
    if (std::none_of(d.begin(), d.end(), [](const auto &x) { return x.first == "EPI_ALL"; })) {
        const uint64_t nsg = define_u32(d, "NSG", 8), slices = uint64_t(rt) * gpw, cpg = hlc && !w.x16 ? 4 : 8;
        const uint64_t bytes = 4 * slices * nsg * (up ? 2 : 1) * 128 + (resid ? 4 * slices * 16 * cpg : 0) +
                               (conv ? 4 * slices * 16 * cpg : 0) + (norm ? 4 * 16 * 32 : 0) +
                               (w.emulate ? 2 * nsg * 384 : 0) +
                               (ksplit > 1 ? 4 * slices * 16 * cpg * (up ? 2 : 1) + 4 : 0);
        if ((conv && N >= conv->ring) || bytes > dev.info().max_shared_memory) d.emplace_back("EPI_ALL", "0");
    }
    const buffer_span &timeline = cs.device().timeline();  // diagnostics (TIMELINE, binding 15)
    if (timeline.valid()) {
        d.emplace_back("TIMELINE", "1");
        if (cs.device().sm_builtins()) d.emplace_back("SMID", "1");
    }
    const float eps = norm ? norm->eps : 0.f;
    // TLOOP=W (an A/B define, frag_defines): at most W workgroups, each
    // taking every W-th tile group in one sequence of steps (the kernel's
    // loads run ahead across its groups); the same bits.
    const uint32_t rows_per_group = rt * row_warps;  // row tiles per workgroup
    const uint32_t tile_groups = ((w.rows + 15) / 16 + rows_per_group - 1) / rows_per_group,
                   tloop = define_u32(d, "TLOOP", 0);
    const uint32_t groups = tloop ? std::min(tile_groups, tloop) : tile_groups;
    // GINT (an A/B flag, frag_defines): the column-group workgroups along x,
    // each tile group's side by side (the kernel's WG_X / WG_Y); the same bits.
    // Past 16 columns (prefill) that is the default (GINT=0 opts out): the
    // column-group workgroups of one tile group then read its weight pieces
    // together, once from memory and the others from L2.
    const bool gint = gy > 1 && !tloop && define_on(tuning().frag_defines, "GINT", N > 16) &&
                      uint64_t(groups) * gy <= 65535;
    if (gint) d.emplace_back("GINT", std::to_string(gy));
    if (ksplit > 1) {
        const uint64_t slots = uint64_t(groups) * gy, cpg = hlc && !w.x16 ? 4 : 8;
        if (ksplit > kFragMaxKsplit || tloop || gint || define_u32(d, "EPI_ALL", 1) == 0 ||
            conv || ks->partials.size < 4 * slots * ksplit * (up ? 2 : 1) * rt * gpw * 16 * cpg ||
            ks->arrivals.size < 4 * slots)
            fail(MLXMTP_ERR_INTERNAL, "matvec_frag: KSPLIT needs at most 4 parts, one tile group per workgroup, "
                                      "the one-round epilogue and its scratch");
        cs.claim_stage(ks->last_stage, "matvec_frag: a KSPLIT scratch");
        d.emplace_back("KSPLIT", std::to_string(ksplit));
    }
    if (uint64_t(groups) * (gint ? gy : 1) > 65535) fail(MLXMTP_ERR_UNSUPPORTED, "matvec_frag: too many rows for a 1-D grid");
    const pipeline &p = dev.kernels().get("matvec_frag", d);
    const uint32_t tl_base = timeline.valid() ? cs.device().timeline_records(groups * ksplit * gy) : 0;  // (CONV: gy is 1)
    struct {
        uint32_t M, K, N, ystride;
        float eps;
        uint32_t tl_base;
    } pc{w.rows, w.cols, N, ystride, eps, tl_base};
    std::vector<buffer_span> b{w.data, fsc ? w.scale_words : w.scales, xs, y, w.table};
    if (conv) b.insert(b.end(), {conv->w, conv->state, conv->snapshots});
    if (up) b.insert(b.end(), {up->data, fsc ? up->scale_words : up->scales});
    if (up && (ypairs.valid() || norm)) b.push_back(ypairs.valid() ? ypairs : y);  // binding 7 (unused without pairs)
    if (resid) b.push_back(resid->partials);
    if (resid && resid->gain.valid()) b.insert(b.end(), {resid->gain, resid->u_pairs});
    if (norm) b.push_back(norm->partials);
    if (ksplit > 1) {
        b.resize(9, y);  // unused bindings up to KSPLIT's
        b.insert(b.end(), {ks->partials, ks->arrivals});
    }
    if (timeline.valid()) {
        b.resize(15, timeline);  // unused bindings up to the timeline's
        b.push_back(timeline);
    }
    if (conv) {
        if (ystride != w.rows) fail(MLXMTP_ERR_INTERNAL, "matvec_frag CONV: the output must be [N][rows]");
        struct {
            uint32_t M, K, N, ystride, ck, snap_from, slot0, ring;
            float eps;
            uint32_t tl_base;
        } pcc{w.rows, w.cols, N, ystride, conv->K, conv->snap_from, conv->slot0, conv->ring, eps, tl_base};
        cs.dispatch(p, b, &pcc, sizeof(pcc), groups);
        return;
    }
    if (gint) cs.dispatch(p, b, &pc, sizeof(pc), groups * gy, 1);
    else cs.dispatch(p, b, &pc, sizeof(pc), groups * ksplit, gy);
}
}  // namespace

void linear_matvec_frag(command_stream &cs, const frag_weight &w, const buffer_span &xs, const buffer_span &y,
                        uint32_t N, uint32_t ystride, bool x_f32, const buffer_span &xpairs) {
    frag_dispatch(cs, w, nullptr, nullptr, xs, y, N, ystride, x_f32, xpairs);
}

void linear_matvec_frag_glu(command_stream &cs, const frag_weight &gate, const frag_weight &up,
                            const buffer_span &xs, const buffer_span &act, uint32_t N, uint32_t ystride,
                            bool x_f32, const buffer_span &xpairs, const buffer_span &act_pairs,
                            const frag_norm_in *norm, const frag_ksplit *ksplit) {
    frag_dispatch(cs, gate, &up, nullptr, xs, act, N, ystride, x_f32, xpairs, act_pairs, norm, nullptr, ksplit);
}

void linear_matvec_frag_normed(command_stream &cs, const frag_weight &w, const buffer_span &u_pairs,
                               const frag_norm_in &norm, const buffer_span &y, uint32_t N, uint32_t ystride) {
    frag_dispatch(cs, w, nullptr, nullptr, u_pairs, y, N, ystride, true, u_pairs, {}, &norm);
}

void linear_matvec_frag_resid(command_stream &cs, const frag_weight &w, const buffer_span &x,
                              const frag_resid_out &out, const buffer_span &resid, uint32_t N, uint32_t ystride,
                              const buffer_span &xpairs, const frag_ksplit *ksplit) {
    frag_dispatch(cs, w, nullptr, nullptr, x, resid, N, ystride, true, xpairs, {}, nullptr, &out, ksplit);
}

void linear_matvec_frag_conv(command_stream &cs, const frag_weight &w, const buffer_span &xs, const buffer_span &u,
                             uint32_t N, const matvec_conv &conv, bool x_f32, const buffer_span &xpairs) {
    frag_dispatch(cs, w, nullptr, &conv, xs, u, N, w.rows, x_f32, xpairs);
}

uint64_t frag_ksplit_floats(uint32_t rows) {
    // Per tile group and column-group workgroup, KSPLIT x R tiles x its
    // groups' columns: KSPLIT x the rows rounded to tile groups (R <= 4)
    // x 16 columns.
    return uint64_t(kFragMaxKsplit) * ((rows + 15) / 16 + 3) * 16 * 16;
}

uint64_t frag_ksplit_counters(uint32_t rows) {
    return uint64_t((rows + 15) / 16) * 4;  // tile groups x column-group workgroups (at most 4)
}

uint32_t frag_tiles_per_warp(uint32_t rows) {
    // H100 (driver 580), 27B shapes, n = 1..16: R = 2 beat R = 1 (x work
    // shared by two tiles) and R = 4 (177 registers at one column group,
    // 255 at two: too few warps per SM).  Weights of fewer than 256 tiles
    // keep R = 1 for workgroups enough.
    return (rows + 15) / 16 >= 256 ? 2 : 1;
}

uint32_t frag_tiles_per_warp_one_group(uint32_t rows, bool f16_weights) {
    // H100 (driver 580), 27B MXFP4 decode: two tiles per warp for the
    // weights of 384..1024 tiles (GDN qkv and z, attention q: 10240, 6144
    // and 12288 rows) take decode from 8.41-8.47 to 8.23-8.27 ms: half the
    // workgroups, so the qkv + z stage fits the resident slots in one wave
    // instead of z waiting for qkv's (docs/results/h100-2026-12-07d).  The
    // 5120-row weights (320 tiles) keep one (160 workgroups would leave SMs
    // idle), the lm_head too (no change measured); bf16 is untested there.
    const uint32_t tiles = (rows + 15) / 16;
    return !f16_weights && tiles >= 384 && tiles <= 1024 ? 2 : 1;
}

bool frag_repackable(const device_weight &w) {
    return (w.format == wformat::mxfp4 || w.format == wformat::bf16) && w.chunks.size() == 1 && w.cols % 64 == 0 &&
           w.rows > 0;
}

bool frag_eligible(const device_weight &w) {
    // Few-row weights (the GDN's a / b projections: one row per value head)
    // get a workgroup or two, but run beside the qkv and z products (and
    // each weight always takes one kernel, so decode and verify still agree).
    return frag_repackable(w) && w.rows >= kFragMinRows && (w.format == wformat::mxfp4 || !tuning().frag_no_bf16);
}

uint8_t frag_bf16_scale_byte(uint16_t max_bits) {
    const uint32_t e = (max_bits & 0x7fffu) >> 7;
    return static_cast<uint8_t>(e > 28 ? e - 28 : 0);
}


uint64_t frag_scale_words_bytes(uint32_t rows, uint32_t cols) {
    return uint64_t((rows + 15) / 16) * (cols / 64) * kFragScaleWords * 4;
}

std::vector<uint32_t> frag_repack_scales(const uint8_t *scales, uint32_t rows, uint32_t cols, const frag_layout &f) {
    std::array<std::array<uint8_t, 2>, kFragScaleWords> word_rows;
    if (!frag_scale_words(f, nullptr, &word_rows))
        fail(MLXMTP_ERR_INTERNAL, "frag_repack_scales: the layout has no scale words");
    if (cols % 64) fail(MLXMTP_ERR_UNSUPPORTED, "frag_repack_scales: cols %u is not a multiple of 64", cols);
    const uint32_t tiles = (rows + 15) / 16, groups = cols / 64, bpr = cols / 32;
    std::vector<uint32_t> out(size_t(tiles) * groups * kFragScaleWords);
    for (uint32_t tile = 0; tile < tiles; ++tile)
        for (uint32_t g = 0; g < groups; ++g)
            for (uint32_t q = 0; q < kFragScaleWords; ++q) {
                uint32_t v = 0;
                for (uint32_t j = 0; j < 2; ++j)
                    for (uint32_t b = 0; b < 2; ++b) {
                        const uint32_t r = tile * 16 + word_rows[q][j];
                        if (word_rows[q][j] < 16 && r < rows)
                            v |= (uint32_t(scales[size_t(r) * bpr + 2 * g + b]) + 14u) << (8 * (2 * j + b));
                    }
                out[(size_t(tile) * groups + g) * kFragScaleWords + q] = v;
            }
    return out;
}

void frag_repack_scales(command_stream &cs, const buffer_span &scales, const buffer_span &table,
                        const buffer_span &dst, uint32_t rows, uint32_t cols, bool kmajor) {
    if (cols % 64 || dst.size < frag_scale_words_bytes(rows, cols) || scales.size < uint64_t(rows) * (cols / 32))
        fail(MLXMTP_ERR_INTERNAL, "frag_repack_scales: %u x %u with buffers too small", rows, cols);
    vk_device &dev = cs.device();
    uint32_t gx, gy;
    grid_1d(dev, (frag_scale_words_bytes(rows, cols) / 4 + 255) / 256, &gx, &gy);
    struct {
        uint32_t M, K, gx;
    } pc{rows, cols, gx};
    const define_list kd = kmajor ? define_list{{"KMAJOR", "1"}} : define_list{};
    cs.dispatch(dev.kernels().get("frag_repack_scales", kd), {scales, table, dst}, pc, gx, gy);
}

namespace {
// The copy's fragment-ordered scales (where its layout has them), from the
// weight's standard scales or (bf16) the copy's own block bytes.
void make_scale_words(command_stream &cs, arena &a, device_weight &w) {
    if (!w.frag.scale_copy) return;
    w.frag.scale_words = a.alloc(frag_scale_words_bytes(w.rows, w.cols), "frag copy scale words");
    frag_repack_scales(cs, w.frag.f16_weights ? w.frag.scales : w.chunks.at(0).scales, w.frag.table,
                       w.frag.scale_words, w.rows, w.cols, w.frag.kmajor);
}
}  // namespace

void make_frag_copy(command_stream &cs, arena &a, device_weight &w, const frag_copy &layout) {
    if (!frag_repackable(w)) fail(MLXMTP_ERR_INTERNAL, "make_frag_copy: weight not repackable");
    const bool bf16 = w.format == wformat::bf16;
    // Per 16-row tile and 64-column group: 32 lanes x one uvec4 (MXFP4: the
    // four A tiles' codes) or four (bf16: one per A tile).
    const uint64_t words = uint64_t((w.rows + 15) / 16) * (w.cols / 64) * 128 * (bf16 ? 4 : 1);
    w.frag = layout;
    w.frag.data = a.alloc(words * 4, "frag copy");
    const buffer_span &table = w.frag.table;
    vk_device &dev = cs.device();
    uint32_t gx, gy;
    if (bf16) {
        const uint64_t scale_words = (uint64_t(w.rows) * (w.cols / 32) + 3) / 4;
        w.frag.scales = a.alloc(scale_words * 4, "frag copy scales");
        w.frag.f16_weights = true;
        const pipeline &p = dev.kernels().get("frag_repack_bf16", layout.kmajor ? define_list{{"KMAJOR", "1"}} : define_list{});
        for (uint32_t pass = 0; pass < 2; ++pass) {
            grid_1d(dev, ((pass ? words : scale_words) + 255) / 256, &gx, &gy);
            struct {
                uint32_t M, K, gx, pass;
            } pc{w.rows, w.cols, gx, pass};
            cs.dispatch(p, {w.chunks[0].data, table, w.frag.scales, w.frag.data}, pc, gx, gy);
            if (pass == 0) cs.barrier();  // pass 1 reads the scales (after pass 1, as for MXFP4: the caller's)
        }
        if (w.frag.scale_copy) {
            cs.barrier();  // the scale words read them (pass 1's binding of them is not read-only)
            make_scale_words(cs, a, w);
        }
        return;
    }
    grid_1d(dev, (words + 255) / 256, &gx, &gy);
    struct {
        uint32_t M, K, gx;
    } pc{w.rows, w.cols, gx};
    define_list sd = layout.signs12 ? define_list{{"SIGNS12", "1"}} : define_list{};
    if (layout.kmajor) sd.emplace_back("KMAJOR", "1");
    cs.dispatch(dev.kernels().get("frag_repack_mxfp4", sd), {w.chunks[0].data, table, w.frag.data}, pc, gx, gy);
    make_scale_words(cs, a, w);
}

frag_copy frag_copy_layout(const frag_layout &f, const buffer_span &table, bool emulate, bool x_quads, bool x16) {
    if (x_quads && !frag_x_quads(f)) fail(MLXMTP_ERR_INTERNAL, "frag_copy_layout: the layout has no x quads");
    if (x16 && !x_quads) fail(MLXMTP_ERR_INTERNAL, "frag_copy_layout: fp16 x needs the x-quad order");
    frag_copy c;
    c.table = table;
    c.c_row_pairs = frag_c_row_pairs(f);
    c.b_pairs = frag_b_pairs(f);
    c.scale_copy = frag_scale_words(f) && !tuning().frag_no_scale_copy;
    c.signs12 = tuning().frag_signs12;
    c.kmajor = !tuning().frag_tile_major;
    c.x_quads = x_quads;
    c.x16 = x16;
    c.emulate = emulate;
    return c;
}

frag_weight frag_view(const device_weight &w) {
    frag_weight fw;
    fw.rows = w.rows;
    fw.cols = w.cols;
    fw.data = w.frag.data;
    fw.scales = w.frag.f16_weights ? w.frag.scales : w.chunks.at(0).scales;
    fw.scale_words = w.frag.scale_words;
    fw.signs12 = w.frag.signs12;
    fw.kmajor = w.frag.kmajor;
    fw.table = w.frag.table;
    fw.c_row_pairs = w.frag.c_row_pairs;
    fw.b_pairs = w.frag.b_pairs;
    fw.hl_cols = w.frag.hl_cols;
    fw.x_quads = w.frag.x_quads;
    fw.x16 = w.frag.x16;
    fw.emulate = w.frag.emulate;
    fw.f16_weights = w.frag.f16_weights;
    return fw;
}

void linear_matvec_frag(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y,
                        uint32_t T, const buffer_span &xpairs) {
    linear_matvec_frag(cs, frag_view(w), x, y, T, w.rows, true, xpairs);
}

void linear_matvec_frag_normed(command_stream &cs, const device_weight &w, const buffer_span &u_pairs,
                               const frag_norm_in &norm, const buffer_span &y, uint32_t T) {
    if (!w.frag.valid()) fail(MLXMTP_ERR_INTERNAL, "linear_matvec_frag_normed: no frag copy");
    linear_matvec_frag_normed(cs, frag_view(w), u_pairs, norm, y, T, w.rows);
}

void linear_matvec_frag_resid(command_stream &cs, const device_weight &w, const buffer_span &x,
                              const frag_resid_out &out, const buffer_span &resid, uint32_t T,
                              const buffer_span &xpairs, const frag_ksplit *ksplit) {
    if (!w.frag.valid()) fail(MLXMTP_ERR_INTERNAL, "linear_matvec_frag_resid: no frag copy");
    linear_matvec_frag_resid(cs, frag_view(w), x, out, resid, T, w.rows, xpairs, ksplit);
}

void linear_matvec_frag_conv_normed(command_stream &cs, const device_weight &w, const buffer_span &u_pairs,
                                    const frag_norm_in &norm, const buffer_span &u, uint32_t T,
                                    const matvec_conv &conv) {
    if (!w.frag.valid()) fail(MLXMTP_ERR_INTERNAL, "linear_matvec_frag_conv_normed: no frag copy");
    if (T == 0) return;
    check_matvec_conv(conv, T);
    frag_dispatch(cs, frag_view(w), nullptr, &conv, u_pairs, u, T, w.rows, true, u_pairs, {}, &norm);
}

bool frag_glu_fusable(const device_weight &gate, const device_weight &up) {
    return gate.frag.valid() && up.frag.valid() && gate.rows == up.rows && gate.cols == up.cols;
}

void linear_matvec_frag_glu(command_stream &cs, const device_weight &gate, const device_weight &up,
                            const buffer_span &x, const buffer_span &act, uint32_t T, const buffer_span &xpairs,
                            const buffer_span &act_pairs, const frag_norm_in *norm, const frag_ksplit *ksplit) {
    if (!frag_glu_fusable(gate, up)) fail(MLXMTP_ERR_INTERNAL, "linear_matvec_frag_glu: no matching frag copies");
    linear_matvec_frag_glu(cs, frag_view(gate), frag_view(up), x, act, T, gate.rows, true, xpairs, act_pairs, norm,
                           ksplit);
}

}  // namespace mlxmtp::detail::ops
