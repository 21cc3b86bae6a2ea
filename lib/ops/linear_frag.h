// The tensor-core MXFP4 matrix-vector product (models where the device runs
// it natively, unless MLXMTP_MODEL_NO_TENSOR_CORES, or kernel_tuning::frag_matvec) with the codes decoded
// straight into the operand fragments (kernels/matvec_frag.comp).  The
// fragment layout comes from the device (frag_layout_probe) or, for the
// emulation lavapipe runs, from frag_layout_nv_driver_580; the weight is
// repacked once for it (frag_repack_mxfp4).
#pragma once
#include "ops/linear.h"
#include "vk/memory.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mlxmtp::detail::ops {

// Which tile element each lane's fragment element holds, for the operands
// of one 16 x 8 x 16 multiply-add.
struct frag_layout {
    std::array<std::array<uint8_t, 8>, 32> a;  // r * 16 + k of the 16 x 16 A tile (rows x k)
    std::array<std::array<uint8_t, 4>, 32> b;  // k * 8 + n of the 16 x 8 B tile
    std::array<std::array<uint8_t, 4>, 32> c;  // r * 8 + n of the 16 x 8 accumulator
};

// NVIDIA's documented register layout of mma.sync.m16n8k16 (PTX ISA); the
// Vulkan driver's differs (below), so it is one of the kernel check's layouts.
frag_layout frag_layout_mma_m16n8k16();
// The layout NVIDIA's Vulkan driver 580 reported on an H100 (2026-12-05,
// coop_layout_probe): C as in PTX, but A's element pairs (2, 3) and (4, 5)
// swapped and B's elements (0, 1) one k of two adjacent columns.  The
// emulation runs models under it (frag_device_layout) and the kernel check
// under it, PTX's and a scrambled one, so that lavapipe checks the layout the
// GPU uses.
frag_layout frag_layout_nv_driver_580();

// "" when `f` is usable by matvec_frag.comp: every operand's elements are a
// permutation over the 32 lanes.  Otherwise the reason.
std::string frag_layout_check(const frag_layout &f);
// Accumulator elements (0, 1) and (2, 3) of every lane share a row (the
// kernel then loads two scale rows per lane instead of four).
bool frag_c_row_pairs(const frag_layout &f);
// B elements (0, 1) and (2, 3) of every lane are columns 2c and 2c + 1 of
// one k (the kernel with hi / lo columns then loads and splits one x per
// pair).
bool frag_b_pairs(const frag_layout &f);

// Fragment-ordered scales (matvec_frag.comp FSC): where accumulator
// elements come in row pairs (frag_c_row_pairs) and the 32 lanes hold at
// most kFragScaleWords distinct (row, row) pairs (NVIDIA's: rows l / 4 and
// l / 4 + 8), each 16-row tile and 64-column group gets that many words,
// word q holding the E8M0 bytes plus 14 of its rows' two 32-column blocks
// (byte 2 j + b: row word_rows[q][j], block b), so a lane reads its four
// scales as one word of one 32-byte load instead of two scattered ones.
// lane_word / word_rows (optional) receive which word each lane reads and
// each word's rows (16: unused, zero bytes).  False for other layouts.
constexpr uint32_t kFragScaleWords = 8;
bool frag_scale_words(const frag_layout &f, std::array<uint8_t, 32> *lane_word = nullptr,
                      std::array<std::array<uint8_t, 2>, kFragScaleWords> *word_rows = nullptr);

// Parses coop_layout_probe.comp's output into `f` and checks it (its header
// 8, 4, 4, 4 and end marker, so that a shader that did not run or stopped
// early is named; the layout from element reads equal to the one from
// element writes; the multiply-add's result against A B + D at the reported
// positions; frag_layout_check).  "" on success, else the reason.
std::string frag_layout_parse_probe(const std::vector<float> &out, frag_layout *f);
// The probe's output buffer, in floats: the element reads at 4, the stored
// element writes at kCoopProbeWritesAt, the end marker (1: the shader ran
// to its end) at kCoopProbeEndAt.
constexpr uint64_t kCoopProbeFloats = 2048;
constexpr uint64_t kCoopProbeWritesAt = 1024;
constexpr uint64_t kCoopProbeEndAt = kCoopProbeWritesAt + 256 + 128 + 128;
// The cooperative-matrix shapes the driver lists, as text ("16x8x16
// f16*f16+f32->f32", ...; the probe's diagnostics).
std::string coop_shapes_text(const vk_device &dev);
// Runs the probe on `dev` (VK_NV_cooperative_matrix enabled, subgroup size
// 32) and parses it; `raw` (optional) receives its output.  Fails (with the
// listed shapes) when the driver does not list 16x8x16 f16*f16+f32->f32.
std::string frag_layout_probe(vk_device &dev, frag_layout *f, std::vector<float> *raw = nullptr);
// The kernel runs natively: VK_NV_cooperative_matrix enabled, subgroup size 32.
bool frag_native(const vk_device &dev);
// The layout to run under on `dev`: the probe's where native, else (the
// emulation) the layout NVIDIA's driver 580 reported, so that lavapipe runs
// models under the layout the GPU uses.  "" on success, else the probe's reason.
std::string frag_device_layout(vk_device &dev, frag_layout *f);

// x quads (matvec_frag.comp XQ): where every lane's B elements are two
// element pairs (frag_b_pairs) whose two k split a tile's 16 k into the same
// 8 pairs for every lane, `perm` (optional) receives the x position within a
// 32-column block of each block k (tile * 16 + k) such that a lane's k of
// the block's two tiles lie at 4q .. 4q + 3 (tile 0's pairs, then tile 1's).
// False (perm untouched) for any other layout.
bool frag_x_quads(const frag_layout &f, std::array<uint8_t, 32> *perm = nullptr);

// The kernel's table binding: per lane A, B, C element indices, then the
// inverse of C (r * 8 + n -> lane * 4 + element), then the x position of
// each block k (frag_x_quads' order with x_quads, else the identity), then
// (at 672) each lane's scale word and (at 704) each scale word's two rows
// (frag_scale_words; zeros where the layout has none).
// x_quads needs frag_x_quads(f).
constexpr uint32_t kFragTableWords = 32 * 16 + 128 + 32 + 32 + 2 * kFragScaleWords;
std::vector<uint32_t> frag_layout_table(const frag_layout &f, bool x_quads = false);

// Where a repacked fragment word keeps element 2p's sign (element 2p + 1's
// is 16 higher; magnitudes at 3p .. 3p + 2 and 16 higher): 14 - p, and 15
// for pair 3, so that matvec_frag.comp's decode_a places pairs 0 and 1 by a
// multiply, pair 2 by one shift and pair 3 in place.
constexpr uint32_t frag_sign_bit(uint32_t p) { return p == 3 ? 15 : 14 - p; }
// Repacks an MXFP4 weight's codes (rows x cols / 2 bytes, element i of a row
// in the nibble 4 * (i % 8) of little-endian word i / 8; cols % 64 == 0)
// into matvec_frag.comp's order: per 16-row tile (the last padded with
// zero codes), 64-column group and lane, 4 words (one per 16 x 16 A tile).
// Scales stay in the standard [row][cols / 32] layout.  x_quads: columns
// reordered within each 32-column block (frag_x_quads; the device form reads
// the order from the table).
std::vector<uint32_t> frag_repack_mxfp4(const uint8_t *codes, uint32_t rows, uint32_t cols, const frag_layout &f,
                                       bool x_quads = false);
// The fragment-ordered scales (frag_scale_words; the host reference of
// frag_repack_scales.comp): per 16-row tile and 64-column group
// kFragScaleWords words from the standard [rows][cols / 32] E8M0 bytes
// (each at most ops::max_scale_byte, so that plus 14 stays a finite fp32
// exponent); rows past `rows` give zero bytes.  The layout must have them.
std::vector<uint32_t> frag_repack_scales(const uint8_t *scales, uint32_t rows, uint32_t cols, const frag_layout &f);
// The same on the device, from `scales` into `dst` (frag_scale_words_bytes
// of them), with the kernel's table (kmajor: 64-column group first, as
// frag_copy_layout's copies by default).  Records into cs.
void frag_repack_scales(command_stream &cs, const buffer_span &scales, const buffer_span &table,
                        const buffer_span &dst, uint32_t rows, uint32_t cols, bool kmajor = false);
uint64_t frag_scale_words_bytes(uint32_t rows, uint32_t cols);
// The inverse (tests): the standard codes of the rows < rows.
std::vector<uint8_t> frag_unpack_mxfp4(const std::vector<uint32_t> &packed, uint32_t rows, uint32_t cols,
                                       const frag_layout &f, bool x_quads = false);

// A repacked weight on the device, with its layout table.
struct frag_weight {
    uint32_t rows = 0, cols = 0;
    buffer_span data, scales, table;
    // The fragment-ordered scales (frag_repack_scales): when valid the kernel
    // reads them (FSC=1; the same bits) and `scales` may be empty.
    buffer_span scale_words;
    bool signs12 = false;  // kernel_tuning::frag_signs12's sign positions (SIGNS12; A/B)
    bool kmajor = false;   // ordered 64-column group first (KMAJOR; the copies' default: frag_copy::kmajor)
    bool c_row_pairs = false;  // frag_c_row_pairs of the layout
    bool b_pairs = false;      // frag_b_pairs of the layout
    // x's hi / lo halves as adjacent B columns (HLC=1: 4 tokens per column
    // group, one multiply-add per A tile) instead of two multiply-adds per A
    // tile (8 tokens per group).  The bits differ between the two, so every
    // call on one weight must use the same (tuning().frag_defines' HLC
    // overrides it for all alike).
    bool hl_cols = true;
    // Repacked in frag_x_quads' column order (the table's too): the kernel
    // then loads a lane's x of a block as one vec4 (XQ=1; needs hl_cols,
    // b_pairs and fp32 x).
    bool x_quads = false;
    // x rounded to fp16 (11 significant bits instead of hi / lo's 22) with
    // two tokens in a B element pair (X16=1; needs x_quads): 8 tokens per
    // column group, so a product of up to 8 columns takes the multiply-adds
    // of one.  Other bits than hi / lo (every call on one weight uses one
    // form); the producers' pairs then come as fp16 token-pair halves.
    bool x16 = false;
    bool emulate = false;  // run EMULATE=1 (no cooperative matrices: lavapipe, tests)
    // A bf16 weight repacked by frag_repack_bf16 (AF16=1): data holds fp16
    // elements, scales the copy's block bytes.
    bool f16_weights = false;
    uint32_t tiles_per_warp = 0;  // the kernel's R (0: frag_tiles_per_warp; frag_defines override both)
};

// The spread RMSNorm (matvec_frag.comp NORM_IN / RESID_OUT; the session's
// decode / verify layers): the residual add + RMSNorm between an output
// projection and the next products without a stage of its own.  The output
// projection adds into the residual stream s [T][rows] in place and writes
// its sums of squares per 16 rows (partials [T][rows / 16]) and u =
// fp16(s (1 + gain) / 256) as fp16 token-pair halves (x16: the pairs
// buffer's layout); the next products read u as their x pairs and multiply
// each output by 256 / rms(s) (from the partials; x16 copies only).
struct frag_norm_in {
    buffer_span partials;
    float eps = 0.f;
};
struct frag_resid_out {
    buffer_span partials;
    buffer_span gain;     // the next norm's weights, fp32 [rows] (u not written without it)
    buffer_span u_pairs;  // u's halves
};
// KSPLIT's scratch (matvec_frag.comp; an A/B define through frag_defines,
// e.g. KSPLIT@5120=2): each part's sums, at least frag_ksplit_floats (GLU:
// twice), and one arrival counter per tile group and column-group
// workgroup (zeros before the first dispatch; each dispatch leaves them
// zero).  Products dispatched without it do not take KSPLIT.  One scratch
// serves one dispatch at a time: dispatches that share it must be ordered
// by a barrier (the session's KSPLIT products each have a stage of their own).
struct frag_ksplit {
    buffer_span partials, arrivals;
    // The stage of its last dispatch (command_stream::claim_stage): a
    // second dispatch in the same stage is an internal error.
    mutable uint64_t last_stage = 0;
};
// The scratch a KSPLIT product of `rows` rows needs at up to 16 columns and
// KSPLIT <= kFragMaxKsplit: floats of partials, and arrival counters.
constexpr uint32_t kFragMaxKsplit = 4;
// Columns one plain fragment product (no epilogue: prefill) may take in one
// dispatch; the others take at most 16 (kMatvecMaxCols).
constexpr uint32_t kFragPrefillMaxCols = 256;
uint64_t frag_ksplit_floats(uint32_t rows);
uint64_t frag_ksplit_counters(uint32_t rows);

// 16-row tiles per warp for a weight of `rows` rows (2 from 256 tiles on,
// else 1).  Any R gives the same bits; it trades x work per word against
// registers and workgroups.
uint32_t frag_tiles_per_warp(uint32_t rows);
// The kernel's R at one column group per workgroup (HLC; GLU halves it):
// 2 for MXFP4 weights of 384..1024 row tiles, else 1.
uint32_t frag_tiles_per_warp_one_group(uint32_t rows, bool f16_weights);

// xs [N][K] words <- x [N][K] fp32 split into fp16 hi / lo (x_split_f16.comp).
void x_split_f16(command_stream &cs, const buffer_span &x, const buffer_span &xs, uint32_t N, uint32_t K);
// y[n * ystride + m] = sum_k W[m, k] x[n, k] for n < N <= 16, from x_split_f16's
// xs, or (x_f32) from x [N][K] fp32 itself, split inside the kernel.
// xpairs (optional, with x_f32 and x_quads): the same x split by its
// producer into (hi, lo) pair words (ops::rms_norm's yp): read instead of x,
// no split in the kernel (XP=1), bit for bit the same result.  With w.x16,
// x rounded by its producer into fp16 token-pair halves (the producers'
// `f16` form) instead, again bit for bit what the kernel's own rounding gives.
void linear_matvec_frag(command_stream &cs, const frag_weight &w, const buffer_span &xs, const buffer_span &y,
                        uint32_t N, uint32_t ystride, bool x_f32 = false, const buffer_span &xpairs = {});
// The MLP's gate and up products with SwiGLU as the epilogue (GLU=1):
// act = swiglu(gate x, up x), bit for bit what two linear_matvec_frag and
// swiglu() give (any tiles_per_warp).  gate and up: the same shape and
// layout (gate's table serves both), else MLXMTP_ERR_INTERNAL.
void linear_matvec_frag_glu(command_stream &cs, const frag_weight &gate, const frag_weight &up,
                            const buffer_span &xs, const buffer_span &act, uint32_t N, uint32_t ystride,
                            bool x_f32 = false, const buffer_span &xpairs = {}, const buffer_span &act_pairs = {},
                            const frag_norm_in *norm = nullptr, const frag_ksplit *ksplit = nullptr);
// The spread RMSNorm's two ends on a frag_weight (the device_weight forms
// below are the session's): y [N][ystride] = W RMSNorm(s) from u (as the
// x16 pairs) and the partials; resid [N][ystride] += W x in place with the
// partials and u (x fp32, xpairs as linear_matvec_frag's).
void linear_matvec_frag_normed(command_stream &cs, const frag_weight &w, const buffer_span &u_pairs,
                               const frag_norm_in &norm, const buffer_span &y, uint32_t N, uint32_t ystride);
void linear_matvec_frag_resid(command_stream &cs, const frag_weight &w, const buffer_span &x,
                              const frag_resid_out &out, const buffer_span &resid, uint32_t N, uint32_t ystride,
                              const buffer_span &xpairs = {}, const frag_ksplit *ksplit = nullptr);
// The Gated DeltaNet qkv projection with its conv + SiLU as the epilogue
// (CONV=1; linear_matvec_conv's contract, u [N][rows]): bit for bit
// linear_matvec_frag followed by gdn_conv.  The caller checks `conv`
// (linear_matvec_conv does).
void linear_matvec_frag_conv(command_stream &cs, const frag_weight &w, const buffer_span &xs, const buffer_span &u,
                             uint32_t N, const matvec_conv &conv, bool x_f32 = false, const buffer_span &xpairs = {});

// The AF16 form of a bf16 weight (frag_repack_bf16.comp; the host reference
// for tests): the E8M0 byte of a 32-column block whose largest |w| has the
// bf16 bit pattern max_bits (sign ignored).  The copy holds each element w
// as the fp16 value w * 2^(113 - byte), exact where |w| is at least 2^-31 of
// the block's largest.
uint8_t frag_bf16_scale_byte(uint16_t max_bits);

// Model weights (kernel_tuning::frag_matvec).  Whether `w` can have a frag
// copy: MXFP4 or bf16 (unless kernel_tuning::frag_no_bf16), one chunk,
// cols % 64 == 0, rows >= kFragMinRows (any: the GDN's a / b projections
// too, whose x the spread norm gives only to fragment products; a last tile
// of fewer than 16 rows is padded).
constexpr uint32_t kFragMinRows = 1;
bool frag_eligible(const device_weight &w);
// Whether make_frag_copy can repack `w` at all (MXFP4 or bf16, one chunk,
// cols % 64 == 0), whatever the model's policy above.
bool frag_repackable(const device_weight &w);
// Repacks `w`'s codes on the device into w.frag (allocated from `a`), which
// takes the layout's table (shared by every weight of a model) and flags
// from `layout` (its data ignored).  A bf16 weight's copy also gets its block
// scales (two passes of frag_repack_bf16.comp).  Records into cs.
void make_frag_copy(command_stream &cs, arena &a, device_weight &w, const frag_copy &layout);
// The frag_copy of layout `f` (its flags) with `table` (frag_layout_table(f,
// x_quads) on the device), no data.
// x16: the copies' x form (frag_weight::x16; needs x_quads).
frag_copy frag_copy_layout(const frag_layout &f, const buffer_span &table, bool emulate, bool x_quads = false,
                           bool x16 = false);
// linear()'s path for a weight with a frag copy: fp32 x [T][cols] -> y [T][rows]
// (xpairs: as above).
void linear_matvec_frag(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y,
                        uint32_t T, const buffer_span &xpairs = {});

// The session's gate and up path when both have frag copies of one shape:
// fp32 x [T][cols] -> act [T][rows] = swiglu(gate x, up x), for every
// T <= kMatvecMaxCols (bit-identical to the unfused frag path, so any T may
// take it).
bool frag_glu_fusable(const device_weight &gate, const device_weight &up);
// act_pairs (optional): act also as (hi, lo) pair words (XP_OUT), the down
// projection's xpairs.
// norm (optional): x is RMSNorm(s) as for linear_matvec_frag_normed, xpairs u's halves.
void linear_matvec_frag_glu(command_stream &cs, const device_weight &gate, const device_weight &up,
                            const buffer_span &x, const buffer_span &act, uint32_t T, const buffer_span &xpairs = {},
                            const buffer_span &act_pairs = {}, const frag_norm_in *norm = nullptr,
                            const frag_ksplit *ksplit = nullptr);
// y [T][rows] = W RMSNorm(s), from u (as xpairs) and the partials.
void linear_matvec_frag_normed(command_stream &cs, const device_weight &w, const buffer_span &u_pairs,
                               const frag_norm_in &norm, const buffer_span &y, uint32_t T);
// resid [T][rows] += W x in place, with the partials and u (xpairs: as
// linear_matvec_frag's).
void linear_matvec_frag_resid(command_stream &cs, const device_weight &w, const buffer_span &x,
                              const frag_resid_out &out, const buffer_span &resid, uint32_t T,
                              const buffer_span &xpairs = {}, const frag_ksplit *ksplit = nullptr);
// The qkv projection with its conv epilogue (linear_matvec_conv's) from u.
void linear_matvec_frag_conv_normed(command_stream &cs, const device_weight &w, const buffer_span &u_pairs,
                                    const frag_norm_in &norm, const buffer_span &u, uint32_t T,
                                    const matvec_conv &conv);

// The frag_weight view of a weight with a frag copy.
frag_weight frag_view(const device_weight &w);

}  // namespace mlxmtp::detail::ops
