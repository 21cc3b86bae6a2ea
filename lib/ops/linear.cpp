#include "ops/linear.h"

#include "ops/basic_ops.h"
#include "ops/linear_frag.h"
#include "quant/mx.h"

#include <algorithm>

namespace mlxmtp::detail::ops {

const char *wformat_name(wformat f) {
    switch (f) {
    case wformat::f32: return "f32";
    case wformat::bf16: return "bf16";
    case wformat::mxfp4: return "mxfp4";
    case wformat::mxfp8: return "mxfp8";
    }
    return "?";
}

static const char *wformat_define(wformat f) {
    switch (f) {
    case wformat::f32: return "WEIGHT_F32";
    case wformat::bf16: return "WEIGHT_BF16";
    case wformat::mxfp4: return "WEIGHT_MXFP4";
    case wformat::mxfp8: return "WEIGHT_MXFP8";
    }
    return "WEIGHT_F32";
}

uint64_t row_bytes(wformat f, uint64_t cols) {
    switch (f) {
    case wformat::f32: return cols * 4;
    case wformat::bf16: return cols * 2;
    case wformat::mxfp4: return cols / 2;
    case wformat::mxfp8: return cols;
    }
    return 0;
}

uint64_t row_scale_bytes(wformat f, uint64_t cols) {
    return (f == wformat::mxfp4 || f == wformat::mxfp8) ? cols / 32 : 0;
}

uint8_t max_scale_byte(wformat f) {
    if (f == wformat::mxfp4) return mx_max_engine_scale_byte(mx_mode::mxfp4);
    if (f == wformat::mxfp8) return mx_max_engine_scale_byte(mx_mode::mxfp8);
    return 255;
}

uint64_t device_weight::bytes() const {
    // A bf16 frag copy reads its block scales too (one byte per 32 elements).
    const uint64_t frag_scales = frag.f16_weights ? cols / 32 : 0;
    return uint64_t(rows) * (row_bytes(format, cols) + row_scale_bytes(format, cols) + frag_scales);
}

uint32_t rows_per_chunk(wformat f, uint64_t cols, uint64_t max_range) {
    uint64_t rb = std::max<uint64_t>(row_bytes(f, cols), 1);
    uint64_t n = max_range / rb;
    // Scale chunks must start on a uint boundary: keep row counts a multiple of 4.
    n = n / 4 * 4;
    if (n == 0) fail(MLXMTP_ERR_UNSUPPORTED, "one weight row (%llu bytes) exceeds the device's binding range",
                     static_cast<unsigned long long>(rb));
    return static_cast<uint32_t>(std::min<uint64_t>(n, 0xffffffffu));
}

// Rows per subgroup (register blocking) of the matrix-vector kernel for n
// columns.  Any choice gives bit-identical results (see matvec.comp).
static uint32_t matvec_rows(wformat f, uint32_t n) {
    if (tuning().matvec_rows) return tuning().matvec_rows;
    switch (f) {
    case wformat::bf16: return 2;
    case wformat::mxfp4: return 4;
    case wformat::mxfp8: return n <= 8 ? 4 : 2;
    default: return n == 1 ? 2 : 4;
    }
}

// Units whose loads a lane issues together (memory-level parallelism).
// It does not change the summation order, so it may depend on n.
static uint32_t matvec_unroll(wformat f, uint32_t n) {
    if (tuning().matvec_unroll) return tuning().matvec_unroll;
    if (tuning().unroll_from_cols && n >= tuning().unroll_from_cols) return tuning().unroll_from_value;
    // H200 sweeps (docs/perf-matvec.md): 2 helps bf16 at every n; one-word
    // FP4 units want 4 at n <= 2 and 2 up to n = 8 except at 6 and 7 columns,
    // where 1 is better (27B verify of 7 tokens 32.8 -> 27.2 ms, of 6 tokens
    // 26.9 -> 26.3; 5 and 8 columns slower with 1); past 8 columns the
    // registers of a deeper unroll cost occupancy (several times slower).
    if (f == wformat::mxfp4) return n <= 2 ? 4 : (n == 6 || n == 7) ? 1 : n <= 8 ? 2 : 1;
    if (f == wformat::mxfp8) return n <= 8 ? 2 : 1;
    return 2;
}

// Packed words in one lane's unit of an MX weight (matvec.comp MX_WORDS).
// It sets the summation order, so it depends on the format only.  H200
// (docs/perf-matvec.md): wide units read x far apart per lane (FP4 in
// 16-byte units: 128 bytes per lane, one cache line per lane and load) and
// collapse at n >= 2; one word is best for FP4, two (16 elements) for FP8.
uint32_t matvec_mx_words(wformat f) {
    if (tuning().matvec_mx_words) return tuning().matvec_mx_words;
    return f == wformat::mxfp8 ? 2 : 1;
}

// Elements in one lane unit of the matvec kernel (matvec.comp UNIT).
static uint32_t matvec_unit(wformat f) {
    switch (f) {
    case wformat::bf16: return 8;
    case wformat::mxfp4: return 8 * matvec_mx_words(f);
    case wformat::mxfp8: return 4 * matvec_mx_words(f);
    default: return 4;
    }
}

// Subgroups in one 256-thread matvec workgroup (kernels/matvec.comp NSG).
static uint32_t matvec_subgroups_per_wg(const vk_device &dev) {
    return std::max<uint32_t>(1, 256 / std::max<uint32_t>(1, dev.info().subgroup_size));
}

// Parts of K a row set is split into (subgroup path).  It sets the
// summation order, so it depends on the weight's shape and the device, never
// on the column count (batch invariance): enough subgroups for the whole
// device even when the weight has few rows, while every part keeps at
// least two full subgroup strides of units.
uint32_t matvec_ksplit(const vk_device &dev, wformat f, uint32_t rows, uint32_t cols) {
    const uint32_t sg = std::max<uint32_t>(1, dev.info().subgroup_size);
    const uint32_t max_split = matvec_subgroups_per_wg(dev);
    const uint32_t units = cols / matvec_unit(f);
    if (tuning().matvec_ksplit) return std::min(tuning().matvec_ksplit, max_split);
    // H200 (docs/results/h200-2026-12-04c/serial): each matvec runs behind a
    // barrier, so one dispatch must fill the device on its own; 17408 x 5120
    // MXFP4 took 42.7 us at 4352 subgroups (no split) and 34.5 at twice that
    // (27B decode 12.7 -> 11.3 ms), while past ~5000 subgroups more parts
    // only cost time at n >= 4.
    const uint64_t kWantSubgroups = 4608;
    uint32_t k = 1;
    while (k < max_split && uint64_t(rows + 3) / 4 * k < kWantSubgroups && units / (2 * k) >= 2 * sg) k *= 2;
    return k;
}

static void check_cols(const device_weight &w) {
    if (!w.valid()) fail(MLXMTP_ERR_INTERNAL, "linear: weight not loaded");
    // The kernels read whole 16-byte units: 4 f32, 8 bf16, one MX group of 32.
    const uint32_t unit = w.format == wformat::f32 ? 4 : w.format == wformat::bf16 ? 8 : 32;
    if (w.cols % unit)
        fail(MLXMTP_ERR_UNSUPPORTED, "linear: %u columns are not a multiple of %u (format %s)", w.cols, unit,
             wformat_name(w.format));
}

namespace {

// Rows of G (and as many of U) per subgroup in the GLU kernel: half the plain
// kernel's, so that a subgroup holds as many accumulators as it does there.
uint32_t glu_rows(wformat f, uint32_t n) {
    if (tuning().glu_rows) return tuning().glu_rows;
    return std::max<uint32_t>(1, matvec_rows(f, n) / 2);
}

// The matrix-vector dispatches of y = W x for T columns, optionally with the
// GDN conv epilogue or (up != nullptr) as the G of a GLU pair (then T <= 16:
// one dispatch per weight chunk).
void matvec_dispatch(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y,
                     uint32_t T, const matvec_conv *conv, const device_weight *up = nullptr) {
    check_cols(w);
    vk_device &dev = cs.device();
    const bool subgroups = (dev.info().features & MLXMTP_FEATURE_SUBGROUP_ARITH) != 0;
    for (uint32_t t0 = 0; t0 < T; t0 += kMatvecMaxCols) {
        uint32_t n = std::min<uint32_t>(kMatvecMaxCols, T - t0);
        const uint32_t rows = up ? glu_rows(w.format, n) : matvec_rows(w.format, n);
        buffer_span xs = x.sub(uint64_t(t0) * w.cols * 4, uint64_t(n) * w.cols * 4);
        buffer_span ys = y.sub(uint64_t(t0) * w.rows * 4, uint64_t(n) * w.rows * 4);
        for (size_t ci = 0; ci < w.chunks.size(); ++ci) {
            const weight_chunk &c = w.chunks[ci];
            // (GLU: the plain kernel's K split for G and U alike, so that both
            // sums are bit-identical to linear_matvec's.)
            const uint32_t ksplit = subgroups ? matvec_ksplit(dev, w.format, c.rows, w.cols) : 1;
            const uint32_t rows_per_group = subgroups ? rows * (matvec_subgroups_per_wg(dev) / ksplit) : rows;
            define_list d{{"N_COLS", std::to_string(n)},
                          {"ROWS", std::to_string(rows)},
                          {"KSPLIT", std::to_string(ksplit)},
                          {"UNROLL", std::to_string(matvec_unroll(w.format, n))},
                          {"MX_WORDS", std::to_string(matvec_mx_words(w.format))},
                          {wformat_define(w.format), "1"}};
            if (conv) d.emplace_back("CONV_EPILOGUE", "1");
            if (up) d.emplace_back("GLU_EPILOGUE", "1");
            if (tuning().matvec_scale_words) d.emplace_back("SCALE_WORDS", "1");
            if (tuning().matvec_scale_clamp) d.emplace_back("SCALE_CLAMP", "1");
            for (const auto &e : tuning().matvec_defines) d.push_back(e);
            const pipeline &p = dev.kernels().get("matvec", d);
            uint32_t gx, gy;
            grid_1d(dev, (c.rows + rows_per_group - 1) / rows_per_group, &gx, &gy);
            if (conv) {
                struct {
                    uint32_t M, K, ystride, row0, ck, snap_from, slot0, ring;
                } pc{c.rows, w.cols, w.rows, c.row0, conv->K, conv->snap_from, conv->slot0, conv->ring};
                cs.dispatch(p, {c.data, c.scale_binding(), xs, ys, conv->w, conv->state, conv->snapshots}, pc, gx, gy);
                continue;
            }
            struct {
                uint32_t M, K, ystride, row0;
            } pc{c.rows, w.cols, w.rows, c.row0};
            if (up)  // U's chunk beside G's (glu_fusable: the same rows)
                cs.dispatch(p, {c.data, c.scale_binding(), xs, ys, up->chunks[ci].data, up->chunks[ci].scale_binding()},
                            pc, gx, gy);
            else
                cs.dispatch(p, {c.data, c.scale_binding(), xs, ys}, pc, gx, gy);
        }
    }
}

}  // namespace

void linear_matvec(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y,
                   uint32_t T) {
    matvec_dispatch(cs, w, x, y, T, nullptr);
}

void check_matvec_conv(const matvec_conv &conv, uint32_t T) {
    if (T > kMatvecMaxCols) fail(MLXMTP_ERR_INTERNAL, "linear_matvec_conv: %u tokens (at most %u)", T, kMatvecMaxCols);
    if (conv.K < 1 || conv.K > kMaxConvK)
        fail(MLXMTP_ERR_INTERNAL, "linear_matvec_conv supports K = 1..%u, got %u", kMaxConvK, conv.K);
    if (conv.ring == 0 || !conv.w.valid() || !conv.state.valid() || !conv.snapshots.valid())
        fail(MLXMTP_ERR_INTERNAL, "linear_matvec_conv: conv weights, state and snapshot ring are required");
    if (conv.snap_from >= T) fail(MLXMTP_ERR_INTERNAL, "linear_matvec_conv: the last token must write its snapshot");
}

void linear_matvec_conv(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &u,
                        uint32_t T, const matvec_conv &conv, const buffer_span &xpairs) {
    if (T == 0) return;
    check_matvec_conv(conv, T);
    if (w.frag.valid())  // as linear(): a weight with a frag copy takes the fragment kernel at every T <= 16
        linear_matvec_frag_conv(cs, frag_view(w), x, u, T, conv, true, xpairs);
    else
        matvec_dispatch(cs, w, x, u, T, &conv);
}

bool glu_fusable(const device_weight &gate, const device_weight &up) {
    // (A weight with a frag copy: linear() takes it through matvec_frag,
    // whose bits the fused kernel does not reproduce.)
    if (!gate.valid() || !up.valid() || gate.format != up.format || gate.rows != up.rows || gate.cols != up.cols ||
        gate.chunks.size() != up.chunks.size() || gate.frag.valid() || up.frag.valid())
        return false;
    for (size_t i = 0; i < gate.chunks.size(); ++i)
        if (gate.chunks[i].rows != up.chunks[i].rows || gate.chunks[i].row0 != up.chunks[i].row0) return false;
    return true;
}

uint32_t glu_fused_max_cols() {
    const int32_t t = tuning().glu_max_cols;
    return t < 0 ? 3 : std::min<uint32_t>(static_cast<uint32_t>(t), kMatvecMaxCols);
}

void linear_matvec_glu(command_stream &cs, const device_weight &gate, const device_weight &up,
                       const buffer_span &x, const buffer_span &act, uint32_t T) {
    if (T > kMatvecMaxCols) fail(MLXMTP_ERR_INTERNAL, "linear_matvec_glu: %u tokens (at most %u)", T, kMatvecMaxCols);
    if (!glu_fusable(gate, up)) fail(MLXMTP_ERR_INTERNAL, "linear_matvec_glu: gate and up differ in shape or layout");
    if (T == 0) return;
    matvec_dispatch(cs, gate, x, act, T, nullptr, &up);
}

// Rows per workgroup of the prefill matmul (matmul.comp BM): 128-row tiles
// (8 x 4 outputs per thread, twice the multiply-adds per shared-memory read)
// where the weight has rows enough to fill a large GPU with them, else 64.
// Any choice gives the same results.
static uint32_t matmul_rows_tile(uint32_t rows, uint32_t asked) {
    if (asked == 0) asked = tuning().matmul_rows_tile;
    if (asked == 64 || asked == 128) return asked;
    return rows >= 8192 ? 128 : 64;
}

void linear_matmul(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y,
                   uint32_t T, uint32_t rows_tile) {
    check_cols(w);
    vk_device &dev = cs.device();
    // Tokens per dispatch: x and y spans must fit one binding.
    const uint64_t range = dev.max_binding_range();
    uint64_t per = std::min<uint64_t>(range / (uint64_t(w.cols) * 4), range / (uint64_t(w.rows) * 4));
    per = std::max<uint64_t>(1, per >= 64 ? per / 64 * 64 : per);
    for (uint32_t t0 = 0; t0 < T; t0 += static_cast<uint32_t>(per)) {
        uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(per, T - t0));
        buffer_span xs = x.sub(uint64_t(t0) * w.cols * 4, uint64_t(n) * w.cols * 4);
        buffer_span ys = y.sub(uint64_t(t0) * w.rows * 4, uint64_t(n) * w.rows * 4);
        for (const weight_chunk &c : w.chunks) {
            struct {
                uint32_t M, K, ystride, row0, T;
            } pc{c.rows, w.cols, w.rows, c.row0, n};
            const uint32_t bm = matmul_rows_tile(c.rows, rows_tile);
            define_list d{{wformat_define(w.format), "1"}, {"BM", std::to_string(bm)}};
            for (const auto &e : tuning().matmul_defines) d.push_back(e);
            const pipeline &p = dev.kernels().get("matmul", d);
            cs.dispatch(p, {c.data, c.scale_binding(), xs, ys}, pc, (c.rows + bm - 1) / bm,
                        (n + 63) / 64);
        }
    }
}

void linear(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y, uint32_t T,
            const buffer_span &xpairs) {
    const bool codes_dropped = !w.chunks.empty() && !w.chunks[0].data.valid();  // only the frag copy is left
    if (w.frag.valid() && T > kMatvecMaxCols && (!w.frag.emulate || tuning().frag_prefill || codes_dropped)) {
        // Natively (H100: 2048-token 27B prefill 830 against 408 tok/s by the
        // matmul), or the emulation when asked (tests) or when it is all there is.
        // Groups of columns side by side (no barrier: disjoint outputs): 8
        // with hi / lo columns (two column groups; four spill), else 16.
        // (Even, so that every slice starts on a token pair.)
        const uint32_t cols = tuning().frag_prefill_cols
                                  ? std::max(2u, std::min(tuning().frag_prefill_cols, kFragPrefillMaxCols) & ~1u)
                                  : (w.frag.hl_cols && !w.frag.x16 ? 8u : kMatvecMaxCols);
        // xpairs (x16 copies: token-pair halves, a word per pair of tokens
        // and element; else a (hi, lo) word per token and element): each
        // slice reads its own (cols is even).
        const uint64_t xb = uint64_t(w.cols) * 4, yb = uint64_t(w.rows) * 4;
        const bool pairs = xpairs.valid() && w.frag.x_quads;
        for (uint32_t t0 = 0; t0 < T; t0 += cols) {
            const uint32_t n = std::min(cols, T - t0);
            const buffer_span xp = !pairs         ? buffer_span{}
                                   : w.frag.x16 ? xpairs.sub(uint64_t(t0 / 2) * xb, uint64_t((n + 1) / 2) * xb)
                                                : xpairs.sub(uint64_t(t0) * xb, uint64_t(n) * xb);
            linear_matvec_frag(cs, w, x.sub(t0 * xb, n * xb), y.sub(t0 * yb, n * yb), n, xp);
        }
    } else if (T > kMatvecMaxCols && !tuning().force_matvec)
        linear_matmul(cs, w, x, y, T);
    else if (w.frag.valid() && T <= kMatvecMaxCols)
        linear_matvec_frag(cs, w, x, y, T, xpairs);
    else
        linear_matvec(cs, w, x, y, T);
}

void embed(command_stream &cs, const device_weight &w, const buffer_span &ids, const buffer_span &y, uint32_t T) {
    if (!w.valid()) fail(MLXMTP_ERR_INTERNAL, "embed: weight not loaded");
    const pipeline &p = cs.device().kernels().get("embed", {{wformat_define(w.format), "1"}});
    for (const weight_chunk &c : w.chunks) {
        struct {
            uint32_t M, K, row0, T;
        } pc{c.rows, w.cols, c.row0, T};
        cs.dispatch(p, {c.data, c.scale_binding(), ids, y}, pc, T);
    }
}

namespace {
constexpr uint32_t kArgmaxSpan = 2048;  // logits per partial workgroup
uint32_t argmax_groups(uint32_t V) { return std::max<uint32_t>(1, (V + kArgmaxSpan - 1) / kArgmaxSpan); }
}  // namespace

uint64_t argmax_scratch_bytes(uint32_t T, uint32_t V) { return uint64_t(T) * argmax_groups(V) * 8; }

void argmax(command_stream &cs, const buffer_span &logits, const buffer_span &out, uint32_t T, uint32_t V,
            uint32_t stride, const buffer_span &scratch) {
    if (T == 0) return;
    const uint32_t G = argmax_groups(V);
    if (scratch.size < argmax_scratch_bytes(T, V)) fail(MLXMTP_ERR_INTERNAL, "argmax: scratch too small");
    struct {
        uint32_t V, stride, G, span;
    } pc{V, stride, G, kArgmaxSpan};
    kernel_registry &k = cs.device().kernels();
    cs.dispatch(k.get("argmax_f32", {{"PARTIAL", "1"}}), {logits, scratch}, pc, G, T);
    cs.barrier();
    cs.dispatch(k.get("argmax_f32"), {scratch, out}, pc, T);
}

}  // namespace mlxmtp::detail::ops
