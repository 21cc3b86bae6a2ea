// Weights on the device and the products that read them: matrix-vector /
// matrix-matrix (linear), embedding gather, argmax.  A weight larger than the
// device's maxStorageBufferRange is split into row chunks, each bound alone.
#pragma once
#include "ops/tuning.h"
#include "util/error.h"
#include "vk/command.h"

#include <string>
#include <utility>
#include <vector>

namespace mlxmtp::detail::ops {

enum class wformat : uint8_t { f32, bf16, mxfp4, mxfp8 };
const char *wformat_name(wformat f);

// Bytes of one row's elements / scales in a format (cols % 32 == 0 for MX).
uint64_t row_bytes(wformat f, uint64_t cols);
uint64_t row_scale_bytes(wformat f, uint64_t cols);
// Largest E8M0 scale byte the matrix-vector kernel takes exactly (254 minus
// the exponent of its fp16-pair decoding, kernels/common/mx.glsl): 2^113
// for MXFP4, 2^119 for MXFP8.  Real weights sit near 2^0 (MLX's scale is
// the group's largest magnitude over the largest element); larger scales
// (and 255, NaN) only come from broken or hostile checkpoints, which the
// loader rejects.
uint8_t max_scale_byte(wformat f);

struct weight_chunk {
    uint32_t row0 = 0, rows = 0;
    buffer_span data;    // rows x row_bytes
    buffer_span scales;  // rows x row_scale_bytes (MX only)
    // What the kernels' scale binding gets: the scales, or (no scales: bf16,
    // f32) the data again, which they then never read as scales.
    const buffer_span &scale_binding() const { return scales.valid() ? scales : data; }
};

// Where tensor cores run natively (the API's default), or kernel_tuning::frag_matvec: an MXFP4 weight's codes
// repacked for the fragment-decoding tensor-core matvec (ops/linear_frag.h);
// its scales stay in the weight's chunk.  A bf16 weight's copy (f16_weights)
// holds fp16 elements and its own block scales.
struct frag_copy {
    buffer_span data, table;  // repacked codes; the fragment layout's table
    buffer_span scales;        // f16_weights: the copy's E8M0 bytes [rows][cols / 32]
    buffer_span scale_words;   // the fragment-ordered scales (ops::frag_repack_scales), when scale_copy
    bool scale_copy = false;   // make_frag_copy makes scale_words (the layout has them: ops::frag_scale_words)
    bool signs12 = false;      // codes with kernel_tuning::frag_signs12's sign positions (A/B)
    bool kmajor = false;       // codes and scale words 64-column group first (frag_copy_layout's default; not with kernel_tuning::frag_tile_major)
    bool f16_weights = false;  // a bf16 weight as fp16 elements times block scales (matvec_frag.comp AF16)
    bool c_row_pairs = false;  // frag_c_row_pairs of the layout
    bool b_pairs = false;      // frag_b_pairs of the layout
    bool hl_cols = true;       // x's hi / lo in adjacent B columns (matvec_frag.comp HLC)
    bool x_quads = false;      // columns in frag_x_quads' order within each 32-column block (XQ)
    bool x16 = false;          // x rounded to fp16, 8 tokens per column group (X16; with x_quads)
    bool emulate = false;  // no cooperative matrices: the kernel's emulation
    bool valid() const { return data.valid(); }
};

struct device_weight {
    wformat format = wformat::f32;
    uint32_t rows = 0, cols = 0;
    std::vector<weight_chunk> chunks;
    frag_copy frag;  // when valid, linear() takes T <= kMatvecMaxCols through it
    bool valid() const { return !chunks.empty(); }
    uint64_t bytes() const;  // every byte a full product reads (elements + scales)
};

// Rows that fit one binding of `max_range` bytes.
uint32_t rows_per_chunk(wformat f, uint64_t cols, uint64_t max_range);

// Y[t, :] = W X[t, :] for t < T; x [T, cols], y [T, rows] (fp32).
// T <= kMatvecMaxCols = 16 (decode, MTP verify): the matrix-vector kernel, batch-invariant:
// every column's result is bit-identical whatever T is (matvec.comp, or
// matvec_frag.comp for a weight with a frag copy).
// T > 16 (prefill): the tiled matrix-matrix kernel, which matches the
// matrix-vector results within rounding only (a different summation order).
// xpairs (optional): x split into (hi, lo) pair words by its producer
// (ops::rms_norm's yp), which weights with x-quad frag copies read at T <= 16
// instead of splitting x themselves (the same bits).
void linear(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y, uint32_t T,
            const buffer_span &xpairs = {});
// The two paths, for tests and benchmarks (matvec runs groups of <= 16 columns).
void linear_matvec(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y,
                   uint32_t T);
// rows_tile: the matmul's rows per workgroup (64 or 128, the same results;
// 0: chosen by the weight's rows, or tuning().matmul_rows_tile).
void linear_matmul(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y,
                   uint32_t T, uint32_t rows_tile = 0);

// Columns one matrix-vector dispatch takes (linear() uses it up to this T).
constexpr uint32_t kMatvecMaxCols = 16;

// The Gated DeltaNet's causal depthwise conv + SiLU fused into the qkv
// projection (matvec.comp CONV_EPILOGUE): u[t, c] = silu(conv over the
// previous K-1 rows of channel c and (W x)[t, c]), for T <= kMatvecMaxCols
// tokens, with exactly the arithmetic of gdn_conv (ops/layer_ops.h) on the
// same sums as linear_matvec (batch-invariant like it).  The window starts
// from `state` [K-1, C] (read only); token t >= snap_from writes the window
// after it to slot (slot0 + t) % ring of `snapshots` [ring, K-1, C], and
// snap_from < T, so the last token's slot holds the new state.
// Largest conv kernel size the conv kernels take (common/conv_step.glsl MAX_CONV_K).
constexpr uint32_t kMaxConvK = 8;
struct matvec_conv {
    buffer_span w;          // conv1d weight [C, K] (f32)
    buffer_span state;      // [K-1, C]
    buffer_span snapshots;  // [ring, K-1, C]
    uint32_t K = 4;
    uint32_t snap_from = 0, slot0 = 0, ring = 1;
};
void linear_matvec_conv(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &u,
                        uint32_t T, const matvec_conv &conv,
                        const buffer_span &xpairs = {});
// linear_matvec_conv's checks of `conv` for T tokens (MLXMTP_ERR_INTERNAL).
void check_matvec_conv(const matvec_conv &conv, uint32_t T);

// The MLP's gate and up projections with SwiGLU as the epilogue
// (matvec.comp GLU_EPILOGUE): act[t, i] = swiglu((G x)[t, i], (U x)[t, i])
// for T <= kMatvecMaxCols tokens, one dispatch per weight chunk instead of
// two products, a barrier and swiglu.  Each product is summed exactly as
// linear_matvec sums it and swiglu is the shared `precise` function of
// common/types.glsl, so the result equals linear_matvec (G), linear_matvec
// (U), swiglu() bit for bit (kernel check matvec_glu): a session may fuse
// some chunk sizes and not others and stay batch-invariant.  G and U need
// the same shape, format and chunks and no frag copy (glu_fusable);
// otherwise MLXMTP_ERR_INTERNAL.
bool glu_fusable(const device_weight &gate, const device_weight &up);
void linear_matvec_glu(command_stream &cs, const device_weight &gate, const device_weight &up,
                       const buffer_span &x, const buffer_span &act, uint32_t T);
// Chunks of up to this many tokens take linear_matvec_glu in a session
// (tuning().glu_max_cols, else 3: H200, fourth session, the fused pass was
// 1.5% faster per decoded token but slower than the two products from 4
// columns on).
uint32_t glu_fused_max_cols();

// The matvec kernel's K split for a weight chunk of `rows` x `cols` (benchmarks report it).
uint32_t matvec_ksplit(const vk_device &dev, wformat f, uint32_t rows, uint32_t cols);
// Packed words per lane unit of an MX weight in the matvec kernel.
uint32_t matvec_mx_words(wformat f);

// EXPERIMENT (benchmarks only): the MXFP4 matrix-vector product for n <= 8
// columns on tensor cores (kernels/matvec_coop.comp), x scaled by 2^xexp
// and the weights by 2^wexp inside (fp16 ranges), the result scaled back.
// Needs vk_device::cooperative_matrix(), subgroup size 32 and K % 512 == 0;
// throws MLXMTP_ERR_UNSUPPORTED otherwise.
void linear_matvec_coop(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y,
                        uint32_t n, int32_t xexp, int32_t wexp);

// y[t, :] = W[ids[t], :] (dequantized), ids int32 [T].
void embed(command_stream &cs, const device_weight &w, const buffer_span &ids, const buffer_span &y, uint32_t T);

// out[t] = argmax over v < V of logits[t * stride + v] (int32): two
// dispatches with a barrier between them; `scratch` holds
// argmax_scratch_bytes(T, V) of per-slice partial results.
void argmax(command_stream &cs, const buffer_span &logits, const buffer_span &out, uint32_t T, uint32_t V,
            uint32_t stride, const buffer_span &scratch);
uint64_t argmax_scratch_bytes(uint32_t T, uint32_t V);

}  // namespace mlxmtp::detail::ops
