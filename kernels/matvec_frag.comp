#version 450
// The tensor-core MXFP4 matrix-vector product (models where the device runs
// it natively, the default): Y[n, m] = sum_k W[m, k] * X[n, k] for n < N <= 16
// (N <= CPG * NG), with the FP4 codes decoded straight into the A fragments
// (no shared-memory round trip, which made matvec_coop.comp's n = 1 twice
// as slow as matvec.comp: docs/perf-matvec.md).
//
// Fragment layout.  VK_NV_cooperative_matrix leaves which tile element each
// lane's fragment element i holds to the implementation, but allows element
// access (A[i]).  The host finds the layout on the device
// (coop_layout_probe.comp, ops::frag_layout_probe) and repacks the weight
// once (ops::frag_repack_mxfp4): per 16-row tile and 64-column group, lane
// l's uvec4 holds, for each of the group's four 16 x 16 A tiles, the 8 codes
// of its fragment elements in one word, placed so that element pair p
// (elements 2p, 2p + 1) becomes an fp16 pair in at most three instructions
// (decode_a).  The kernel itself only reads the B and C layouts from the
// table binding (which x element a B element is; which output an
// accumulator element is), so it runs under any layout the probe reports.
// (NVIDIA's driver 580 does not use the PTX mma.m16n8k16 element order for
// A and B: its B elements (0, 1) are one k of two columns.)
//
// Arithmetic.  A holds the codes as fp16 times 2^-14 (exact: E2M1's
// subnormal code lands on an fp16 subnormal); B holds x split into
// hi and lo = fp16(x - hi) (common/x_split.glsl: x_split_f16.comp, or here with
// XF32=1; |x| < 65504), so each product uses 22 bits of x (lo may be an
// fp16 subnormal: the matrix unit is expected to keep those; gpu_frag.sh's
// max_diff_rel would show a flush).  Two forms of B:
//  - HLC=1 (the default): token c of a column group's 4 has its hi half in
//    B column 2c and its lo half in column 2c + 1, so one multiply-add per
//    A tile serves both halves (half the multiply-adds of HLC=0 up to 4
//    tokens: the H100's n = 1 went from 1.2x matvec.comp's time to 0.7-0.9x).
//    The two columns' sums are added at the end (out_sum).  B_PAIRS=1 (a
//    layout whose B elements (0, 1) and (2, 3) are columns 2c, 2c + 1 of one
//    k, as NVIDIA's driver 580 has) loads and splits one x per pair.
//  - HLC=0: 8 tokens per group, hi and lo as two multiply-adds per A tile.
// The two forms give different bits; every call on a weight uses one.
// x quads (XQ=1, with HLC, B_PAIRS and XF32; ops::frag_x_quads): where the
// layout gives every lane two k per tile (its element pairs) and those pairs
// split a tile's 16 k the same way for every column, the weight is repacked
// with its columns reordered within each 32-column block (the table's
// position of each k) so that a lane's four x of a block are adjacent: one
// vec4 load per block and column group instead of four scalar loads.  The
// sums then run in another order (other bits), the same for every N.
// XP=1 (with XQ): x comes split by its producer, one word per element
// holding (hi, lo) as an fp16 pair (common/x_split.glsl x_pair): the words
// are the B element pairs, no split here; bit for bit the XQ results.
// XP_OUT=1 (GLU): the epilogue also writes its output's pair words, the
// down projection's XP input.
// X16=1 (with HLC, B_PAIRS, XQ): x rounded to fp16 (11 significant bits:
// common/x_split.glsl x_round16), no lo half; B columns 2c and 2c + 1 are
// two tokens, so a column group holds 8 tokens and one multiply-add per A
// tile serves them all (a verify of up to 8 tokens costs the multiply-adds
// of a decode).  x comes as fp32 (two vec4 loads per block: the lane's two
// tokens, rounded here) or, with XP, rounded by its producer into token-pair
// words (common/x_split.glsl x16_half: one uvec4 per block, as XP); both
// give the same bits.  XP_OUT=2 (GLU, X16): the output's token-pair halves.
// Per 32-column MX block and output element, one fp32 accumulator tile
// starts at zero and takes the block's multiply-adds (one chain: two
// accumulators alternating crashed the H200 driver's pipeline creation in
// matvec_coop.comp), and is added into the lane's fp32 sum times
// 2^(s - 127 + 14), s the block's E8M0 byte (<= 240: ops::max_scale_byte).
// FSC=1 (where the layout allows: ops::frag_scale_words): the scales come
// fragment-ordered (frag_repack_scales.comp): per tile and 64-column group 8
// words, word q the bytes plus 14 of two rows' two blocks, so a lane takes
// its four scales as one word (the table's at 672) of one 32-byte warp load
// and each scale is a shift and a mask (the standard layout: two loads
// from rows K / 32 bytes apart, 8 rows a load, and the byte arithmetic).
// The same values, so the same bits.
// Warps split K into contiguous parts (NSG of them: a fixed number per
// weight, as it sets the sums' order), or with KSTRIDE=1 take every NSG-th
// 64-column group (the workgroup's warps then read adjacent pieces at each
// step); their sums are added in warp order through shared memory.
//
// Column groups past NG: workgroup y takes groups y NG .. y NG + NG - 1
// (the host splits N > CPG * NG over the grid's y; each workgroup reads the
// weights again, mostly from L2, but behind a barrier the dispatch then has
// the grid and the chains of one column group).  CONV keeps every token in
// one workgroup (its epilogue walks them in order).
//
// Batch invariance: column n's result depends only on its columns of B and
// the fixed warp / block order, not on N, NG, R, PF or the grid (the matrix unit
// computes each column of D on its own), so a verify of n tokens gives
// decode's bits for each of them as long as both use this kernel with the
// same HLC and NSG.
//
// GLU=1: the MLP's gate (bindings 0, 1) and up (bindings 5, 6) products with
// SwiGLU as the epilogue (one stage fewer per layer): a warp holds R tiles
// of each, so every B fragment serves 2R tiles, and y = swiglu(G x, U x)
// (common/types.glsl).  Each product is summed exactly as the plain kernel
// sums it (any R gives the same bits), so the result is swiglu_f32 of two
// plain products bit for bit.
//
// CONV=1: the Gated DeltaNet qkv projection with its causal conv + SiLU as
// the epilogue (one stage fewer per layer), as matvec.comp's CONV_EPILOGUE:
// the thread that finishes a row (channel) walks its N tokens in order
// (common/conv_step.glsl, the operations of gdn_conv_f32) from the window in
// conv_state, writes u = conv(W x) and the window after token t to snapshot
// slot (slot0 + t) % ring for t >= snap_from.  Bit for bit the plain kernel
// followed by gdn_conv_f32.
//
// AF16=1: a bf16 weight, repacked (frag_repack_bf16.comp) into fp16 A
// elements times a power of two per row and 32-column block (an E8M0 byte
// in the scales binding, as MXFP4's): the block's largest |w| lands in
// [2^14, 2^15), so every bf16 value of the block down to 2^-31 of that
// largest one is exact.  Per 16-row tile and 64-column group a lane reads
// four uvec4, one per 16 x 16 A tile (its 8 elements as fp16 pairs), and
// takes them as the fragment without any decode; everything else (x forms,
// scales, sums, epilogues) is the MXFP4 kernel's.
// Spread RMSNorm (the session's decode / verify layers; docs/kernels.md):
// the residual add + RMSNorm between an output projection and the next
// products, without a stage of its own.  RESID_OUT=1 (plain products: the
// attention and GDN output projections, the down projection): y is the
// residual stream, updated in place, s = y + W x (the residual add); each
// workgroup writes per column the sum of s^2 over its 16-row tile (rows
// 0..15 in order) to partials [N][M / 16] (binding 5), and with U16_OUT
// the next products' x before its 1 / rms: u = fp16(s (1 + g) 2^-8), g the
// norm's weights (binding 6), as fp16 token-pair halves (binding 7; the
// x16_half layout).  NORM_IN=1 (X16 + XP: x is such a u): each workgroup
// adds its columns' K / 16 partials (each lane four at a time from
// l, l + 32, ...; then the 32 lane sums in order) into rs = inversesqrt(ss /
// K + eps), and every output is its sum times rs 2^8 (GLU: both products'
// before SwiGLU; CONV: before the conv).  The partials at NORM_BINDING.
// Against the norm stage: x rounded to fp16 before 1 / rms instead of after
// (the same relative precision: 2^-8 keeps |s (1 + g)| < 2^24 in range and
// values from 2^-6 normal), one rounding more on the output; the same
// bits for every N.
// TIMELINE=1 (diagnostics; vk_device::timeline, verify-bench --timeline):
// thread 0 of every workgroup writes a record of 8 words to tl (binding 15;
// records from word 4, record pc.tl_base + the workgroup's index in the
// grid: the host hands each dispatch its range, so no atomic): the device
// clock at its start and end (2 x 2 words), M, K | N << 24, the workgroup
// (x | y << 20) and the SM it ran on (SMID=1; else ~0).  tl[1] caps them.
// DECODE_SHIFTS=1: decode_a's pairs 0 to 2 by two shifts (same bits; A/B).
// SIGNS12=1: codes with the signs at 12 + p (kernel_tuning::frag_signs12;
// same bits; A/B).
// DIAG_FOLD (timing only, wrong results): what folding the block scales into
// A would give: each A pair times an fp16 factor made from the scale word
// (one multiply per pair), the multiply-adds chained over the whole K into
// one accumulator per tile and column group (no per-block accumulator, no
// fp32 scale multiply-adds).
// Diagnostics (timing only, wrong results): DIAG_NO_DECODE, DIAG_NO_SCALES, DIAG_NO_MMA, DIAG_NO_LO,
// DIAG_NO_X (no x loads: every B element 1; XF32 forms), DIAG_B_CONST (hi / lo
// columns: every B fragment a constant, so no x loads and no B builds), DIAG_X_L1 (x of the warp's
// first two steps only: L1 hits instead of L2 reads, B still built), DIAG_PRESPLIT (XQ: x's words
// used as (hi, lo) pairs, no split).
//
// EMULATE=1 replaces the cooperative-matrix types by per-lane arrays and
// the multiply-add by a shared-memory emulation (workgroup barriers; warps
// are 32 consecutive invocations), so lavapipe runs the same decode,
// layout and reduction logic under a layout from the table.
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : enable
#if (defined(XP_OUT) && XP_OUT == 2) || (defined(U16_OUT) && U16_OUT)
#extension GL_EXT_shader_16bit_storage : require
#endif
#include "common/x_split.glsl"
#ifndef TIMELINE
#define TIMELINE 0
#endif
#if TIMELINE
#extension GL_EXT_shader_realtime_clock : require
#if defined(SMID) && SMID
#extension GL_NV_shader_sm_builtins : require
#endif
layout(std430, binding = 15) buffer Tl { uint tl[]; };
#endif
#ifndef EMULATE
#define EMULATE 0
#endif
#if !EMULATE
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#endif
#ifndef NSG
#define NSG 4  // warps per workgroup (each a contiguous part of K; the host passes its default)
#endif
#ifndef R
#define R 1  // 16-row tiles per warp (every B fragment serves R tiles)
#endif
#ifndef NG
#define NG 1  // column groups (N <= CPG * NG: 4 tokens each with HLC, else 8)
#endif
#ifndef PF
#define PF 2  // 64-column groups of loads in flight per warp (the host passes its default: linear_matvec_frag)
#endif
#ifndef KSTRIDE
#define KSTRIDE 0  // 1: warp sg takes K's 64-column groups sg, sg + NSG, ... (see step_group; other bits; the host's default is 0)
#endif
#include "common/frag_order.glsl"  // KMAJOR (the host's copies by default): pieces group first
#ifndef TLOOP
#define TLOOP 0  // 1: workgroup x takes tile groups x, x + gridsize, ... (see main; an A/B knob)
#endif
#ifndef GINT
#define GINT 0  // A/B: column-group workgroups interleaved along the grid's x (see WG_X)
#endif
#if GINT > 1 && TLOOP
#error "GINT is for one tile group per workgroup"
#endif
// GINT=G (the host's grid y, G > 1): workgroup x = tile group * G + column-group
// workgroup, so that a tile's G workgroups start together and all but the
// first read its weight from L2; the same bits as the grid's y.
// KSPLIT=S (A/B; other bits: it sets the sums' order, so the host keeps it
// per weight for decode and verify alike): each tile group's K split over S
// workgroups side by side along x (workgroup x = tile group * S + part), so
// a warp's chain through K is S times shorter and the grid S times finer
// (the 5120-row products' 320 workgroups left 2 or 3 per SM).  Each part
// sums its warps' outputs in warp order and stores them (binding 9); the
// last part to arrive (binding 10's counter of the tile group) adds the S
// parts in part order and runs the epilogue.
#ifndef KSPLIT
#define KSPLIT 1
#endif
#if KSPLIT > 1 && (GINT > 1 || TLOOP || CONV)
#error "KSPLIT takes one tile group per workgroup and no CONV"
#endif
#if GINT > 1
#define WG_X (gl_WorkGroupID.x / GINT)
#define WG_Y (gl_WorkGroupID.x % GINT)
#elif KSPLIT > 1
#define WG_X (gl_WorkGroupID.x / KSPLIT)
#define WG_Y gl_WorkGroupID.y
#else
#define WG_X gl_WorkGroupID.x
#define WG_Y gl_WorkGroupID.y
#endif
#define KPART (gl_WorkGroupID.x % KSPLIT)  // this workgroup's part of K
// WROWS=1 (prefill's plain products, X16): the NSG warps of a workgroup take
// NSG consecutive row tile groups (R tiles each) instead of NSG parts of K,
// and each walks the whole K.  The sums keep the bits of the K split: the
// weight's KP parts (its decode NSG) are summed one at a time from zero, in
// block order, and added in part order into a running total from 0.0, as
// out_sum adds the warps' sums; each output then is one accumulator element
// of one lane, written from registers (no shared-memory epilogue).  What
// changes is who reads x: the workgroup's warps read the same x at each step
// (one L2 read for NSG R row tiles, the rest from L1) where the K split had
// every warp of every tile group read its own part from L2.
#ifndef WROWS
#define WROWS 0
#endif
#ifndef KP
#define KP NSG  // WROWS: the K parts whose sums are added in order (the weight's NSG)
#endif
#if WROWS && !(X16 && !GLU && !CONV && !RESID_OUT && !NORM_IN && KSPLIT == 1 && !TLOOP && !KSTRIDE && !TOUCH)
#error "WROWS is for plain X16 products with contiguous K parts"
#endif
#define NSGT (NSG * KSPLIT)                // warps over a tile group's K
#ifndef TOUCH
#define TOUCH 0  // A/B: touch loads (one word per sector) TOUCH steps past the weight loads (see touch_w)
#endif
#if TOUCH && TLOOP
#error "TOUCH is for one tile group per workgroup"
#endif
#ifndef XNEAR
#define XNEAR 0  // 1: x loaded one 64-column group ahead instead of PF (see load_x)
#endif
#ifndef XLATE
#define XLATE 0  // 1: x loaded at its step, not ahead (WROWS: x is an L1 hit; fewer registers; the same bits)
#endif
#if XLATE && XNEAR
#error "XLATE and XNEAR are two ways to load x"
#endif
#ifndef XSH
#define XSH 0  // 1 (WROWS with XP): x staged in shared memory per step, one global read per workgroup (the same bits)
#endif
#if XSH && !(WROWS && XP && !XLATE && !XNEAR)
#error "XSH stages XP words for WROWS"
#endif
#ifndef XF32
#define XF32 0  // 1: read fp32 x and split it here (no x_split_f16 pass; more work per step)
#endif
#ifndef GLU
#define GLU 0
#endif
#ifndef CONV
#define CONV 0
#endif
#if GLU && CONV
#error "GLU and CONV are exclusive"
#endif
#ifndef C_ROW_PAIRS
#define C_ROW_PAIRS 0  // accumulator elements (0, 1) and (2, 3) of a lane share a row
#endif
#ifndef HLC
#define HLC 0  // 1: x's hi and lo halves in adjacent B columns (4 tokens per column group); see the header
#endif
#ifndef B_PAIRS
#define B_PAIRS 0  // HLC: B elements (0, 1) and (2, 3) of a lane are columns 2c, 2c + 1 of one k
#endif
#if B_PAIRS && !HLC
#error "B_PAIRS needs HLC"
#endif
#ifndef XQ
#define XQ 0  // x quads: the weight's K order within each 32-column block makes a lane's x one vec4 (see the header)
#endif
#if XQ && !(HLC && B_PAIRS && XF32)
#error "XQ needs HLC, B_PAIRS and XF32"
#endif
#ifndef XP
#define XP 0  // x pre-split by its producer: one (hi, lo) fp16 pair word per element (common/x_split.glsl x_pair)
#endif
#if XP && !XQ
#error "XP needs XQ"
#endif
#ifndef XP_OUT
#define XP_OUT 0  // GLU: the output also as (hi, lo) pair words (binding 7), the x of an XP product (the down projection)
#endif
#if XP_OUT && !GLU
#error "XP_OUT is the GLU epilogue's"
#endif
#ifndef X16
#define X16 0  // x rounded to fp16, two tokens per B element pair (see the header)
#endif
#if X16 && !XQ
#error "X16 needs XQ"
#endif
#ifndef AF16
#define AF16 0  // A from fp16 words (a repacked bf16 weight; see the header), no FP4 decode
#endif
#ifndef NORM_IN
#define NORM_IN 0  // x = RMSNorm(s) from s and its tile partials (see the header)
#endif
#ifndef RESID_OUT
#define RESID_OUT 0  // y += W x in place, and the tile partials of y^2 (see the header)
#endif
#ifndef U16_OUT
#define U16_OUT 0  // RESID_OUT: also the next products' u (see the header)
#endif
#if NORM_IN && !(X16 && XP)
#error "NORM_IN reads x16 token-pair halves"
#endif
#if U16_OUT && !RESID_OUT
#error "U16_OUT is RESID_OUT's"
#endif
#define NORM_U16_SCALE 256.0  // u = fp16(s (1 + g) / NORM_U16_SCALE); outputs times rs NORM_U16_SCALE
#if RESID_OUT && (GLU || CONV)
#error "RESID_OUT is the plain products'"
#endif
#if AF16
#define QW 4u  // uvec4 per lane, row tile and 64-column group: one per 16 x 16 A tile
#else
#define QW 1u  // one uvec4: the 8 codes of each of the four A tiles in a word
#endif
#if HLC && !X16
#define CPG 4u  // tokens per column group
#else
#define CPG 8u
#endif
#if HLC && B_PAIRS && XF32
#define XE 2u  // x values loaded per lane, tile and group (one per element pair)
#else
#define XE 4u
#endif
#if EMULATE
#define UNROLL [[dont_unroll]]
#else
#define UNROLL [[unroll]]
#endif
#define NSR (C_ROW_PAIRS != 0 ? 2 : 4)  // scale rows per lane
#ifndef FSC
#define FSC 0  // 1: the scales binding holds the fragment-ordered words (see the header)
#endif
#if FSC && !C_ROW_PAIRS
#error "FSC needs C_ROW_PAIRS"
#endif
#define NSW (FSC != 0 ? 1 : NSR)  // scale words per lane and row tile
layout(local_size_x = NSG * 32) in;
layout(std430, binding = 0) readonly buffer Wf { uvec4 wf[]; };  // [tile][group64][QW][lane]
layout(std430, binding = 1) readonly buffer Sc { uint sc[]; };    // E8M0 bytes [row][K / 32] (FSC: [tile][group64][8] words)
#if XP  // X16: x [n / 2][K / 4], token-pair fp16 words, rounded by the producer
layout(std430, binding = 2) readonly buffer Xs { uvec4 xp4[]; };  // x [n][K / 4]: (hi, lo) pair words, split by the producer
#elif XQ
layout(std430, binding = 2) readonly buffer Xs { vec4 xf4[]; };   // x [n][K / 4] fp32, split here
#elif XF32
layout(std430, binding = 2) readonly buffer Xs { float xf[]; };   // x [n][K] fp32, split here
#else
layout(std430, binding = 2) readonly buffer Xs { uint xs[]; };    // [n]: K/2 hi pairs, K/2 lo pairs
#endif
#if RESID_OUT
layout(std430, binding = 3) buffer Y { float y[]; };              // [n][ystride]: the residual stream, += W x
layout(std430, binding = 5) writeonly buffer Pt { float part_out[]; };  // [n][tiles]: sums of y^2 per tile
#if U16_OUT
layout(std430, binding = 6) readonly buffer Ng { float norm_g[]; };  // [M]: the next norm's weights
layout(std430, binding = 7) writeonly buffer Pu { float16_t u16[]; };  // x16_half halves of u
#endif
#else
layout(std430, binding = 3) writeonly buffer Y { float y[]; };    // [n][ystride]
#endif
// Per lane 16 entries: A elements r * 16 + c (8; the emulation's), B
// elements k * 8 + n (4), accumulator elements r * 8 + n (4); then 128
// entries: for each accumulator element r * 8 + n, lane * 4 + element;
// then 32: the x position (within its 32-column block) of each k of the
// block's two 16 x 16 tiles (tile * 16 + k; the identity without XQ).
layout(std430, binding = 4) readonly buffer Lay { uint lay[]; };
#if GLU
#include "common/types.glsl"
layout(std430, binding = 5) readonly buffer Wu { uvec4 wu[]; };  // up's codes, as wf
layout(std430, binding = 6) readonly buffer Su { uint su[]; };    // up's scales, as sc
#if XP_OUT == 2
layout(std430, binding = 7) writeonly buffer YP { float16_t yp16[]; };  // y's token-pair fp16 halves (x16_half)
#elif XP_OUT
layout(std430, binding = 7) writeonly buffer YP { uint yp[]; };   // y's (hi, lo) pair words, as y
#endif
#define NW 2
#define WLOAD(t, i) ((t) < R ? wf[i] : wu[i])
#define SLOAD(t, i) ((t) < R ? sc[i] : su[i])
#else
#define NW 1
#define WLOAD(t, i) wf[i]
#define SLOAD(t, i) sc[i]
#endif
#define NT (R * NW)  // row tiles per warp (GLU: R of G, then the same R of U)
#if CONV
//   conv_w [C, ck], conv_state [ck-1, C], conv_snap [ring, ck-1, C]; C = M = ystride
#include "common/types.glsl"
layout(std430, binding = 5) readonly buffer CW { float conv_w[]; };
layout(std430, binding = 6) readonly buffer CSt { float conv_state[]; };
layout(std430, binding = 7) writeonly buffer CSn { float conv_snap[]; };
layout(push_constant) uniform P {
    uint M; uint K; uint N; uint ystride;
    uint ck; uint snap_from; uint slot0; uint ring;
    float eps;  // NORM_IN
    uint tl_base;  // TIMELINE: this dispatch's first record
} pc;
#include "common/conv_epilogue.glsl"
#else
layout(push_constant) uniform P {
    uint M; uint K; uint N; uint ystride;
    float eps;  // NORM_IN
    uint tl_base;  // TIMELINE: this dispatch's first record
} pc;
#endif
#if NORM_IN
#if CONV || GLU
#define NORM_BINDING 8  // (GLU: after XP_OUT's binding 7, bound either way)
#else
#define NORM_BINDING 5
#endif
layout(std430, binding = NORM_BINDING) readonly buffer Pn { vec4 part_in4[]; };  // [n][K / 64] vec4
shared float rs_part[16 * 32];  // per column of the workgroup, the 32 lane sums
#endif

#if EMULATE
struct afrag { float16_t v[8]; };
struct bfrag { float16_t v[4]; };
struct cfrag { float v[4]; };
#define AE(a, i) a.v[i]
#define BE(b, i) b.v[i]
#define CE(c, i) c.v[i]
#define C_ZERO cfrag(float[4](0.0, 0.0, 0.0, 0.0))
#define A_INIT afrag(float16_t[8](float16_t(0.0), float16_t(0.0), float16_t(0.0), float16_t(0.0), \
                                  float16_t(0.0), float16_t(0.0), float16_t(0.0), float16_t(0.0)))
#define B_INIT bfrag(float16_t[4](float16_t(0.0), float16_t(0.0), float16_t(0.0), float16_t(0.0)))
#define B_ONE bfrag(float16_t[4](float16_t(1.0), float16_t(1.0), float16_t(1.0), float16_t(1.0)))
#else
#define afrag fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define bfrag fcoopmatNV<16, gl_ScopeSubgroup, 16, 8>
#define cfrag fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>
#define AE(a, i) a[i]
#define BE(b, i) b[i]
#define CE(c, i) c[i]
#define C_ZERO cfrag(0.0)
#define A_INIT afrag(0.0)
#define B_INIT bfrag(0.0)
#define B_ONE bfrag(1.0)
#endif

uint sg, l;         // warp, lane
uint gw;            // the warp among the tile group's NSGT (KSPLIT: part * NSG + sg)
uint bk[4], bn[4];  // B element j: x[n][k] with k = bk[j], n = bn[j] (+ 8 per column group)
uint crow[4];       // this lane's accumulator rows
uint sq;            // FSC: which of a tile's 8 scale words this lane reads

#if EMULATE
uint aidx[8], bidx[4], cidx[4];
shared float16_t emA[NSG * 256];  // (fp16, exact: the fragments' own type; half the shared memory)
shared float16_t emB[NSG * 128];
cfrag mma(afrag a, bfrag b, cfrag c) {
    memoryBarrierShared();
    barrier();
    UNROLL for (uint i = 0u; i < 8u; ++i) emA[sg * 256u + aidx[i]] = a.v[i];
    UNROLL for (uint i = 0u; i < 4u; ++i) emB[sg * 128u + bidx[i]] = b.v[i];
    memoryBarrierShared();
    barrier();
    UNROLL for (uint e = 0u; e < 4u; ++e) {
        const uint r = cidx[e] >> 3, n = cidx[e] & 7u;
        float s = c.v[e];
        for (uint k = 0u; k < 16u; ++k) s = fma(float(emA[sg * 256u + r * 16u + k]), float(emB[sg * 128u + k * 8u + n]), s);
        c.v[e] = s;
    }
    return c;
}
#define MMA(a, b, c) mma(a, b, c)
#else
#define MMA(a, b, c) coopMatMulAddNV(a, b, c)
#endif

// The 8 codes of one A fragment -> fp16 elements times 2^-14.  Word layout
// (ops::frag_repack_mxfp4, ops::frag_sign_bit): element 2p's magnitude bits
// at 3p..3p+2 and sign at 14 - p (pair 3: 15), element 2p + 1's 16 higher;
// pair 3 is already in place, and pair 2 (magnitudes at 6..8, sign at 12)
// one shift by 3 away.  Pairs 0 and 1: the pair's 8 bits t, then one
// multiply t * (2^(9 - 3p) + 2^(1 + p)) moves magnitudes and signs at once
// (the two shifted copies overlap only where carries stay out of the kept
// bits, so this is (t << (9 - 3p)) | (t << (1 + p)) on them: checked for
// all 256 t by the unit test MatvecFrag.DecodeGivesE2m1Values).  Per pair
// then at most a mask, a multiply and a mask (with the signs at 12 + p,
// SIGNS12, pair 2 took two shifts, two masks and an or).
#ifndef DECODE_SHIFTS
#define DECODE_SHIFTS 0  // 1: every pair by two shifts (A/B timing of the multiply)
#endif
uint pair_by_shifts(uint q, uint p) {
    return ((q << (9u - 3u * p)) & 0x0E000E00u) | ((q << (1u + p)) & 0x80008000u);
}
afrag decode_a(uint q) {
    afrag a = A_INIT;
    UNROLL for (uint p = 0u; p < 4u; ++p) {
#ifdef DIAG_NO_DECODE  // timing only (wrong results): the word's bits as the pair, no placement
        const uint h = q;
#else
#if defined(SIGNS12) && SIGNS12  // A/B: signs at 12 + p (frag_repack_mxfp4.comp SIGNS12), pair 2 by two shifts
        const uint h = p == 3u ? q & 0x8E008E00u
                       : p == 2u ? ((q << 3u) & 0x0E000E00u) | ((q << 1u) & 0x80008000u)
                                 : ((q & (p == 0u ? 0x10071007u : 0x20382038u)) * (p == 0u ? 520u : 68u)) & 0x8E008E00u;
#else
        const uint h = p == 3u              ? q & 0x8E008E00u
                       : DECODE_SHIFTS != 0 ? pair_by_shifts(q, p)
                       : p == 2u            ? (q * 8u) & 0x8E008E00u
                               : ((q & (p == 0u ? 0x40074007u : 0x20382038u)) * (p == 0u ? 514u : 68u)) & 0x8E008E00u;
#endif
#endif
        const f16vec2 v = unpackFloat2x16(h);
        AE(a, 2u * p) = v.x;
        AE(a, 2u * p + 1u) = v.y;
    }
    return a;
}

// AF16: one A tile's 8 fp16 elements, element i in half i % 2 of word i / 2.
afrag load_a(uvec4 q) {
    afrag a = A_INIT;
    UNROLL for (uint p = 0u; p < 4u; ++p) {
        const f16vec2 v = unpackFloat2x16(q[p]);
        AE(a, 2u * p) = v.x;
        AE(a, 2u * p + 1u) = v.y;
    }
    return a;
}

// The token (column of x) B element j holds in column group 0: HLC puts
// token c's hi half in B column 2c and its lo half in column 2c + 1.
uint bcol_token(uint j) {
#if HLC && !X16
    return bn[j] >> 1;
#else
    return bn[j];
#endif
}

// One 64-column group's loads (zeros past the warp's part or the tiles):
// the weights' (w_step) and x's (x_step), each loaded PF groups ahead, or
// x only one group ahead with XNEAR=1 (x mostly comes from L1 / L2: its
// registers then go to more weight loads in flight; an A/B knob: with PF =
// 2..6 decode was slower on the H100, docs/performance.md).
struct w_step {
    uvec4 q[NT][QW];
    uint s[NT][NSW];  // the two block scales of each scale row, in the low 16 bits (FSC: both rows' in one word)
};
struct x_step {
#if XP
    uvec4 xq[2][NG];  // per 32-column block: tile 0's element pairs' (hi, lo) words (.xy), tile 1's (.zw)
                      // (X16: the lane's token pair's words)
#elif X16
    vec4 xq[2][NG], xq1[2][NG];  // per 32-column block: as XQ, of the lane's two tokens
#elif XQ
    vec4 xq[2][NG];  // per 32-column block: tile 0's element pairs' x (.xy), tile 1's (.zw)
#elif XF32
    float xv[4][NG][XE];  // per 16-column tile: the B elements' x (B_PAIRS: one per element pair)
#else
    uint xh[4][NG][4], xl[4][NG][4];  // per 16-column tile: the B elements' fp16 bits, hi and lo
#endif
};
uint wg_tile0, tiles, kg0, kg1, kgroups;
uint xq0;  // XQ: this lane's x quad in a block (the position of tile 0's first element pair)
uint gbase;  // this workgroup's first column group (workgroup y: NG groups each; see the header)

// The 64-column group of this warp's step it: KSTRIDE=0, the warp's
// contiguous part of K (groups kg0 .. kg1 - 1); KSTRIDE=1, every NSG-th group
// from sg (kg1 = kgroups), so that at each step the workgroup's warps read
// adjacent pieces of the weight (and of x).  The partition sets the order of
// the sums: fixed per weight, as NSG.
uint step_group(uint it) {
#if KSTRIDE
    return gw + it * NSGT;
#else
    return kg0 + it;
#endif
}

w_step load_w(uint it, uint tile0) {
    w_step d;
    const uint kg = step_group(it);
    const bool ok = kg < kg1;  // uniform per warp
    UNROLL for (uint t = 0u; t < NT; ++t) {
        const uint tile = tile0 + t % R;
        const bool tok = ok && tile < tiles;
        UNROLL for (uint w = 0u; w < QW; ++w)
            d.q[t][w] = tok ? WLOAD(t, (frag_piece(tile, kg, tiles, kgroups) * QW + w) * 32u + l) : uvec4(0u);
#if defined(DIAG_NO_SCALES)  // timing only (wrong results): no scale loads, a constant scale
        UNROLL for (uint j = 0u; j < NSW; ++j) d.s[t][j] = 0u;
#elif FSC  // the lane's word of the tile's 8 (one 32-byte load per warp)
        d.s[t][0] = tok ? SLOAD(t, frag_piece(tile, kg, tiles, kgroups) * 8u + sq) : 0u;
#else
        UNROLL for (uint j = 0u; j < NSR; ++j) {
            const uint row = min(tile * 16u + crow[C_ROW_PAIRS != 0 ? 2u * j : j], pc.M - 1u);
            const uint byte = row * (pc.K / 32u) + 2u * kg;  // even: both blocks in one word
            d.s[t][j] = tok ? (SLOAD(t, byte >> 2) >> (8u * (byte & 3u))) & 0xffffu : 0u;
        }
#endif
    }
    return d;
}

x_step load_x(uint it) {
    x_step d;
#ifdef DIAG_X_L1  // timing only (wrong results): x of the warp's first two steps only (L1 hits), B built as usual
    const uint kg = step_group(it) < kg1 ? kg0 + (it & 1u) : kg1;
#else
    const uint kg = step_group(it);
#endif
    const bool ok = kg < kg1;  // uniform per warp
#if XQ
    UNROLL for (uint blk = 0u; blk < 2u; ++blk)
        UNROLL for (uint g = 0u; g < NG; ++g) {
            const uint n = bcol_token(0u) + CPG * (gbase + g);  // X16: the first of the lane's two (B_PAIRS: even)
#if XP && X16
            d.xq[blk][g] = ok && n < pc.N ? xp4[((n >> 1) * pc.K + kg * 64u + blk * 32u + xq0) >> 2] : uvec4(0u);
#elif XP
            d.xq[blk][g] = ok && n < pc.N ? xp4[(n * pc.K + kg * 64u + blk * 32u + xq0) >> 2] : uvec4(0u);
#else
            d.xq[blk][g] = ok && n < pc.N ? xf4[(n * pc.K + kg * 64u + blk * 32u + xq0) >> 2] : vec4(0.0);
#if X16  // the lane's second token
            d.xq1[blk][g] = ok && n + 1u < pc.N ? xf4[((n + 1u) * pc.K + kg * 64u + blk * 32u + xq0) >> 2] : vec4(0.0);
#endif
#endif
        }
#else
    UNROLL for (uint kt = 0u; kt < 4u; ++kt)
        UNROLL for (uint g = 0u; g < NG; ++g)
            UNROLL for (uint e = 0u; e < XE; ++e) {
                const uint j = XE == 2u ? 2u * e : e;
                const uint n = bcol_token(j) + CPG * (gbase + g), k = kg * 64u + kt * 16u + bk[j];
                const bool xok = ok && n < pc.N;
#if defined(DIAG_NO_X) && XF32
                d.xv[kt][g][e] = xok ? 1.0 : 0.0;
#elif XF32
                d.xv[kt][g][e] = xok ? xf[n * pc.K + k] : 0.0;
#else
                const uint i = n * pc.K + (k >> 1), sh = 16u * (k & 1u);
#if HLC  // element j takes one half of x (bn[j] & 1: lo)
                d.xh[kt][g][e] = xok ? (xs[i + ((bn[j] & 1u) != 0u ? pc.K / 2u : 0u)] >> sh) & 0xffffu : 0u;
#else
                d.xh[kt][g][e] = xok ? (xs[i] >> sh) & 0xffffu : 0u;
                d.xl[kt][g][e] = xok ? (xs[i + pc.K / 2u] >> sh) & 0xffffu : 0u;
#endif
#endif
            }
#endif
    return d;
}

#if TOUCH
// TOUCH=D (A/B, timing; the same bits): D steps before a step's weight loads
// are issued, each of its 32-byte sectors (and its tiles' scale words) is
// touched by a one-word load whose value only feeds a sink, so that the
// loads find the piece in L2: one register per 1 KB in flight (the weight
// loads hold 4 per 512 B).  A ring of D slots, consumed when the weight
// loads of its step are issued, so that the touches returned long before.
#define TW ((QW * 16u + 31u) / 32u)  // touch loads per tile: weight sectors
struct t_step {
    uint w[NT][TW];
    uint s[NT];
};
t_step touch_w(uint it) {
    t_step d;
    const uint kg = step_group(it);
    const bool ok = kg < kg1;  // uniform per warp
    UNROLL for (uint t = 0u; t < NT; ++t) {
        const uint tile = wg_tile0 + t % R;
        const bool tok = ok && tile < tiles;
        const uint piece = frag_piece(tile, kg, tiles, kgroups);
        UNROLL for (uint i = 0u; i < TW; ++i) {
            const uint c = i * 32u + l;  // the lane's sector of the piece (2 uvec4 each)
            d.w[t][i] = tok && c < QW * 16u ? WLOAD(t, piece * QW * 32u + 2u * c).x : 0u;
        }
#if FSC
        d.s[t] = tok ? SLOAD(t, piece * 8u + (l & 7u)) : 0u;
#else
        d.s[t] = 0u;
#endif
    }
    return d;
}
uint touch_sink(t_step d) {
    uint v = 0u;
    UNROLL for (uint t = 0u; t < NT; ++t) {
        v ^= d.s[t];
        UNROLL for (uint i = 0u; i < TW; ++i) v ^= d.w[t][i];
    }
    return v;
}
#define UNR TOUCH  // the step loop's unroll: the ring's slots
#else
#define UNR PF
#endif
#if UNR % PF != 0
#error "TOUCH must be a multiple of PF"
#endif
// PSTEP=1 (A/B; the same bits): the K loop's UNR steps as UNR calls with a
// constant p instead of an [[unroll]] loop.  spirv-opt leaves that loop
// rolled (p then indexes buf and xbuf at run time, which at PF >= 2 the
// driver kept in local memory: the spills of PF = 2); constant indices let
// spirv-opt keep them in registers whatever the driver unrolls.
#ifndef PSTEP
#define PSTEP 0
#endif
#if PSTEP && UNR > 8
#error "PSTEP takes at most 8 steps per loop iteration"
#endif

// Step s of the workgroup's sequence: TLOOP, step s % iters of its tile
// group s / iters (zeros past the last); else step s of its one group.
uint iters_g, total_g, tl_stride;  // TLOOP: steps per tile group, in all; tile stride between groups
w_step load_ws(uint s) {
#if TLOOP
    return s < total_g ? load_w(s % iters_g, gl_WorkGroupID.x * R + (s / iters_g) * tl_stride) : load_w(iters_g, 0u);
#else
    return load_w(s, wg_tile0);
#endif
}
#if XSH
// A step's x for the workgroup's NG column groups: CPG NG / 2 token pairs x
// the step's 64 pair words (16 uvec4 each), read from memory once (each
// thread its share, one step ahead) and by the lanes from shared memory.
#define XSH_Q (NG * CPG / 2u * 16u)
#define XSH_PER ((XSH_Q + NSG * 32u - 1u) / (NSG * 32u))
shared uvec4 xsh[XSH_Q];
uvec4 xsh_r[XSH_PER];
void xsh_fetch(uint kg) {  // this thread's share of step kg (zeros past N or K)
    UNROLL for (uint i = 0u; i < XSH_PER; ++i) {
        const uint q = gl_LocalInvocationID.x + i * NSG * 32u, pair = gbase * CPG / 2u + q / 16u;
        xsh_r[i] = q < XSH_Q && kg < kgroups && 2u * pair < pc.N ? xp4[(pair * pc.K + kg * 64u) / 4u + q % 16u]
                                                                  : uvec4(0u);
    }
}
x_step xsh_step() {  // the fetched step into shared memory, then this lane's words (uniform: every warp's steps)
    memoryBarrierShared();
    barrier();  // the previous step's reads are done
    UNROLL for (uint i = 0u; i < XSH_PER; ++i) {
        const uint q = gl_LocalInvocationID.x + i * NSG * 32u;
        if (q < XSH_Q) xsh[q] = xsh_r[i];
    }
    memoryBarrierShared();
    barrier();
    x_step d;
    UNROLL for (uint blk = 0u; blk < 2u; ++blk)
        UNROLL for (uint g = 0u; g < NG; ++g)
            d.xq[blk][g] = xsh[((bcol_token(0u) + CPG * g) >> 1) * 16u + ((blk * 32u + xq0) >> 2)];
    return d;
}
#endif

x_step load_xs(uint s) {
#if TLOOP
    return load_x(s < total_g ? s % iters_g : iters_g);
#else
    return load_x(s);
#endif
}

#if NORM_IN
// The lane sums of this workgroup's columns' partials (rs_part; the
// epilogue adds them, after its barriers): warp sg takes columns sg, sg +
// NSG, ...; lane l the vec4 at l, l + 32, ... (loads first, then the sum in order).
#define NORM_MAX_Q 8  // vec4 per lane: K up to 32 * 4 * 16 * 8 = 16384
void norm_partials() {
    const uint q4 = pc.K / 64u, c0 = gbase * CPG, nt = min(pc.N - min(c0, pc.N), NG * CPG);
    for (uint j = sg; j < nt; j += NSG) {
        vec4 v[NORM_MAX_Q];
        UNROLL for (uint q = 0u; q < NORM_MAX_Q; ++q) {
            const uint i = l + 32u * q;
            v[q] = i < q4 ? part_in4[(c0 + j) * q4 + i] : vec4(0.0);
        }
        float a = 0.0;
        UNROLL for (uint q = 0u; q < NORM_MAX_Q; ++q) a += (v[q].x + v[q].y) + (v[q].z + v[q].w);
        rs_part[j * 32u + l] = a;
    }
}
// rs 2^8 of column col (local to the workgroup's groups): the lane sums in order.
float norm_out_scale(uint col) {
    const uint j = col - gbase * CPG;
    float ss = 0.0;
    for (uint i = 0u; i < 32u; ++i) ss += rs_part[j * 32u + i];
    return inversesqrt(ss / float(pc.K) + pc.eps) * NORM_U16_SCALE;
}
#define NORM_OUT(v, col) ((v) * norm_out_scale(col))
#else
#define NORM_OUT(v, col) (v)
#endif

bfrag make_b(f16vec2 v0, f16vec2 v1) {  // elements (0, 1), (2, 3)
    bfrag b = B_INIT;
    BE(b, 0) = v0.x;
    BE(b, 1) = v0.y;
    BE(b, 2) = v1.x;
    BE(b, 3) = v1.y;
    return b;
}

// EPI_ALL=1 (the default; the host passes EPI_ALL=0 where the shared
// memory is short, CONV's ring would be overwritten, or with
// EPI_ALL=0 in kernel_tuning::frag_defines): the epilogue takes every row tile and column
// group of the workgroup in one round through shared memory (two barriers,
// every thread busy) instead of one round (two or three barriers, half the
// threads idle) per tile and group: at two column groups and R = 2 four
// rounds became one.  CONV then stages every token's sum of a channel in
// shared memory and runs the conv of each (channel, token) in its own
// thread (the window from the staged sums and conv_state) instead of one
// thread per channel walking its tokens.  The same operations in the same
// order, so the same bits.
#ifndef EPI_ALL
#define EPI_ALL 1
#endif
#define EPI_TG (EPI_ALL != 0 ? R * NG : 1)  // row tile x column group slices of red at once
// Per warp (and weight): 32 lanes x 4 accumulator elements of one row tile
// and column group; EPI_ALL: of every one, slice t NG + g.
shared float red[WROWS != 0 ? 1 : EPI_TG * NSG * NW * 128];  // (WROWS: no shared sums)
#if KSPLIT > 1
#if !EPI_ALL
#error "KSPLIT takes the one-round epilogue"
#endif
layout(std430, binding = 9) coherent buffer Kp { float kpart[]; };     // [tile group slot][part][NW][EPI_TG 16 CPG]
layout(std430, binding = 10) coherent buffer Ar { uint arrivals[]; };  // [tile group slot]: zeros, left zero
#include "common/last_arrival.glsl"
shared float ksum[NW * EPI_TG * 16 * CPG];  // the last part's sums over every part
#endif
#if RESID_OUT
shared float rss[EPI_TG * 16 * CPG];  // each slice's s^2, [row][column]
#endif
#if CONV && EPI_ALL
shared float cin[R * 16 * NG * CPG];  // the conv's inputs: [row tile][row][token]
#endif

// Output (row r of the tile, token col of the staged column group) of
// weight h (GLU: 0 gate, 1 up) from slice tg of red: the warps' sums in
// warp order (HLC: each warp's hi + lo first).
float out_sum(uint tg, uint h, uint r, uint col) {
    float v = 0.0;
#if HLC && !X16
    const uint c0 = 2u * (col % CPG);
    const uint li0 = lay[512u + r * 8u + c0], li1 = lay[512u + r * 8u + c0 + 1u];
    for (uint w = 0u; w < NSG; ++w) {
        const uint base = ((tg * NSG + w) * NW + h) * 128u;
        v += red[base + li0] + red[base + li1];
    }
#else
    const uint li = lay[512u + r * 8u + (col % CPG)];
    for (uint w = 0u; w < NSG; ++w) v += red[((tg * NSG + w) * NW + h) * 128u + li];
#endif
    return v;
}

#if KSPLIT > 1
// This part's sums over its warps to kpart; true (uniform) in the last part
// of its tile group to arrive, with each output's sum over the parts, in
// part order whichever came last, in ksum.
bool ksplit_gather() {
    const uint no = EPI_TG * 16u * CPG, slot = WG_Y * (gl_NumWorkGroups.x / KSPLIT) + WG_X;
    for (uint o = gl_LocalInvocationID.x; o < no; o += NSG * 32u) {
        const uint tg = o / (16u * CPG), ot = o % (16u * CPG), col = (gbase + tg % NG) * CPG + ot % CPG;
        UNROLL for (uint h = 0u; h < NW; ++h)
            kpart[((slot * KSPLIT + KPART) * NW + h) * no + o] = out_sum(tg, h, ot / CPG, col);
    }
    if (!last_to_arrive(slot, KSPLIT)) return false;
    for (uint o = gl_LocalInvocationID.x; o < no; o += NSG * 32u)
        UNROLL for (uint h = 0u; h < NW; ++h) {
            float v = kpart[(slot * KSPLIT * NW + h) * no + o];
            for (uint k = 1u; k < KSPLIT; ++k) v += kpart[((slot * KSPLIT + k) * NW + h) * no + o];
            ksum[h * no + o] = v;  // read back by this same invocation (write_out's o)
        }
    return true;
}
#endif

// The sum of output o of slice tg (row r, token col) of weight h: over the
// warps, or (KSPLIT) over the parts.
float tile_sum(uint tg, uint h, uint r, uint col, uint o) {
#if KSPLIT > 1
    return ksum[(h * EPI_TG + tg) * 16u * CPG + o];
#else
    return out_sum(tg, h, r, col);
#endif
}

#if !CONV
// Output o (row o / CPG of row tile t, token o % CPG of column group g) from
// slice tg of red; RESID_OUT: its s^2 into slice tg of rss (0 past the edges).
// resid: RESID_OUT's y before the add (resid_of; EPI_ALL loads it before the
// K loop, so the epilogue does not wait on it).
void write_out(uint t, uint g, uint tg, uint o, float resid) {
    const uint r = o / CPG, col = (gbase + g) * CPG + o % CPG;
    const uint row = (wg_tile0 + t) * 16u + r;
#if RESID_OUT
    rss[tg * 16u * CPG + o] = 0.0;
#endif
    if (col >= pc.N || row >= pc.M) return;
#if NORM_IN  // one scale for both sums (GLU)
    const float ns = norm_out_scale(col);
    float v = tile_sum(tg, 0u, r, col, o) * ns;
#if GLU
    v = swiglu(v, tile_sum(tg, 1u, r, col, o) * ns);
#endif
#else
    float v = tile_sum(tg, 0u, r, col, o);
#if GLU
    v = swiglu(v, tile_sum(tg, 1u, r, col, o));
#endif
#endif
#if RESID_OUT  // the residual add (the norm kernel's a + b)
    v = v + resid;
    rss[tg * 16u * CPG + o] = v * v;
#if U16_OUT
    u16[x16_half(col, row, pc.ystride)] = x_round16(vec2(v * (1.0 + norm_g[row]) / NORM_U16_SCALE, 0.0)).x;
#endif
#endif
    y[col * pc.ystride + row] = v;
#if XP_OUT == 2
    yp16[x16_half(col, row, pc.ystride)] = x_round16(vec2(v, 0.0)).x;
#elif XP_OUT
    yp[col * pc.ystride + row] = x_pair(v);
#endif
}

// RESID_OUT: output o's residual (0 past the edges).
float resid_of(uint t, uint g, uint o) {
#if RESID_OUT
    const uint col = (gbase + g) * CPG + o % CPG, row = (wg_tile0 + t) * 16u + o / CPG;
    return col < pc.N && row < pc.M ? y[col * pc.ystride + row] : 0.0;
#else
    return 0.0;
#endif
}

#if RESID_OUT
// Column c of row tile t and column group g: slice tg's 16 squares in row
// order, the tile's partial.
void write_partial(uint t, uint g, uint tg, uint c) {
    const uint col = (gbase + g) * CPG + c;
    float ss = 0.0;
    for (uint r = 0u; r < 16u; ++r) ss += rss[tg * 16u * CPG + r * CPG + c];
    if (col < pc.N && wg_tile0 + t < tiles) part_out[col * tiles + wg_tile0 + t] = ss;
}
#endif
#endif

// EPI_ALL without CONV: each thread's outputs' residuals, read before the
// K loop (the epilogue would wait on them); 0 elsewhere.
#define EPI_PER_THREAD (EPI_ALL != 0 && CONV == 0 ? (EPI_TG * 16 * CPG + NSG * 32 - 1) / (NSG * 32) : 1)
void load_resid(out float yres[EPI_PER_THREAD]) {
    UNROLL for (uint i = 0u; i < EPI_PER_THREAD; ++i) {
#if EPI_ALL && !CONV && RESID_OUT
        const uint o = gl_LocalInvocationID.x + i * NSG * 32u, tg = o / (16u * CPG);
        yres[i] = o < EPI_TG * 16u * CPG ? resid_of(tg / NG, tg % NG, o % (16u * CPG)) : 0.0;
#else
        yres[i] = 0.0;
#endif
    }
}

// The workgroup's tile group (wg_tile0) from the warps' sums: every row
// tile and column group in one round (EPI_ALL) or one at a time.  yres:
// RESID_OUT's residuals of this thread's outputs (load_resid).  TLOOP: a
// barrier first, so that the previous tile group's reads of the shared
// sums are done.
void epilogue(float acc[NT][NG][4], float yres[EPI_PER_THREAD]) {
#if TLOOP
    memoryBarrierShared();
    barrier();
#endif
#if EPI_ALL  // every row tile and column group in one round
    UNROLL for (uint t = 0u; t < R; ++t)
        UNROLL for (uint g = 0u; g < NG; ++g)
            UNROLL for (uint h = 0u; h < NW; ++h)
                UNROLL for (uint e = 0u; e < 4u; ++e)
                    red[(((t * NG + g) * NSG + sg) * NW + h) * 128u + l * 4u + e] = acc[t + h * R][g][e];
    memoryBarrierShared();
    barrier();
#if KSPLIT > 1
    if (!ksplit_gather()) return;  // uniform: another part finishes the tile group
#endif
#if CONV  // every (channel, token)'s sum, then each conv in its own thread
    for (uint o = gl_LocalInvocationID.x; o < R * 16u * NG * CPG; o += NSG * 32u) {
        const uint t = o / (16u * NG * CPG), r = (o / (NG * CPG)) % 16u, j = o % (NG * CPG);
        const uint col = gbase * CPG + j;
        cin[o] = col < pc.N ? NORM_OUT(out_sum(t * NG + j / CPG, 0u, r, col), col) : 0.0;
    }
    memoryBarrierShared();
    barrier();
    for (uint o = gl_LocalInvocationID.x; o < R * 16u * NG * CPG; o += NSG * 32u) {
        const uint t = o / (16u * NG * CPG), r = (o / (NG * CPG)) % 16u, j = o % (NG * CPG);
        const uint col = gbase * CPG + j, c = (wg_tile0 + t) * 16u + r, C = pc.ystride;
        if (col < pc.N && c < pc.M) {
            const uint K1 = pc.ck - 1u;
            float win[MAX_CONV_K];  // the K1 rows before token col: staged sums, or conv_state's before token 0
            UNROLL for (uint q = 0u; q < MAX_CONV_K; ++q) {
                const int tau = int(col) - int(K1) + int(q);
                win[q] = q >= K1 ? 0.0 : tau >= 0 ? cin[o - j + uint(tau)] : conv_state[(col + q) * C + c];
            }
            y[col * C + c] = conv_channel_token_alone(col, c, C, win, cin[o]);
        }
    }
#else
    for (uint o = gl_LocalInvocationID.x; o < EPI_TG * 16u * CPG; o += NSG * 32u) {
        const uint tg = o / (16u * CPG);
        write_out(tg / NG, tg % NG, tg, o % (16u * CPG), yres[(o - gl_LocalInvocationID.x) / (NSG * 32u)]);
    }
#endif
#if RESID_OUT
    memoryBarrierShared();
    barrier();
    if (gl_LocalInvocationID.x < EPI_TG * CPG) {
        const uint tg = gl_LocalInvocationID.x / CPG;
        write_partial(tg / NG, tg % NG, tg, gl_LocalInvocationID.x % CPG);
    }
#endif
#else
    // One row tile and column group at a time through shared memory (its
    // size then does not grow with R or NG).
    UNROLL for (uint t = 0u; t < R; ++t) {
#if CONV  // a row's tokens in one thread, in order, across the column groups
        const uint cr = gl_LocalInvocationID.x, c = (wg_tile0 + t) * 16u + cr, C = pc.ystride;
        const bool conv_thread = cr < 16u && c < pc.M;
        float win[MAX_CONV_K], wc[MAX_CONV_K];
        if (conv_thread) conv_channel_begin(c, C, win, wc);
#endif
        UNROLL for (uint g = 0u; g < NG; ++g) {
            if (t > 0u || g > 0u) {  // the previous group's sums are read
                memoryBarrierShared();
                barrier();
            }
            UNROLL for (uint h = 0u; h < NW; ++h)
                UNROLL for (uint e = 0u; e < 4u; ++e)
                    red[(sg * NW + h) * 128u + l * 4u + e] = acc[t + h * R][g][e];
            memoryBarrierShared();
            barrier();
#if CONV
            if (conv_thread)
                for (uint col = (gbase + g) * CPG; col < min(pc.N, (gbase + g + 1u) * CPG); ++col)
                    y[col * C + c] = conv_channel_token(col, c, C, win, wc, NORM_OUT(out_sum(0u, 0u, cr, col), col));
#else
            for (uint o = gl_LocalInvocationID.x; o < 16u * CPG; o += NSG * 32u) write_out(t, g, 0u, o, resid_of(t, g, o));
#if RESID_OUT
            memoryBarrierShared();
            barrier();
            if (gl_LocalInvocationID.x < CPG) write_partial(t, g, 0u, gl_LocalInvocationID.x);
#endif
#endif
        }
    }
#endif
}

// The K loop's state (main and k_step).
float acc[NT][NG][4];
#if defined(DIAG_FOLD) && AF16
#undef DIAG_FOLD  // MXFP4 only (a bf16 MTP head keeps its form)
#endif
#ifdef DIAG_FOLD
#if WROWS || TLOOP || !HLC
#error "DIAG_FOLD: the plain K split with hi / lo columns only"
#endif
cfrag cacc[NT][NG];  // the chained accumulators (copied into acc after the K loop)
#endif
#if WROWS
float tot[NT][NG][4];  // the parts done so far, added in part order
#endif
w_step buf[PF];
#if XNEAR
x_step xnext;
#elif !XLATE && !XSH
x_step xbuf[PF];
#endif
#if TOUCH
t_step tring[TOUCH];
uint tsink;
#endif
float yres[EPI_PER_THREAD];
uint total, iters;

// Step s = st + p of the warp (p < UNR: the ring slots and the PF buffers
// are indexed by p, so that where p is a constant, as with PSTEP=1, every
// index is and the buffers stay in registers; see PSTEP).
void k_step(const uint p, const uint st) {
    if (st + p < total) {  // uniform
        const w_step d = buf[p % PF];
#if TOUCH  // step st + p + PF's touches (issued TOUCH steps ago), then the step TOUCH further
        tsink ^= touch_sink(tring[p]);
        tring[p] = touch_w(st + p + PF + TOUCH);
#endif
        buf[p % PF] = load_ws(st + p + PF);
#if XNEAR
        const x_step dx = xnext;
        xnext = load_xs(st + p + 1u);
#elif XLATE
        const x_step dx = load_xs(st + p);
#elif XSH
        const x_step dx = xsh_step();
        xsh_fetch(st + p + 1u);
#else
        const x_step dx = xbuf[p % PF];
        xbuf[p % PF] = load_xs(st + p + PF);
#endif
#if HLC
        bfrag bx[4][NG];  // one B per 16-column tile: hi and lo side by side
        UNROLL for (uint kt = 0u; kt < 4u; ++kt)
            UNROLL for (uint g = 0u; g < NG; ++g) {
#if defined(DIAG_B_CONST)  // timing only (wrong results): every B a constant (no x loads, no B builds)
                bx[kt][g] = B_ONE;
#elif XP  // the producer's (hi, lo) words (X16: token pairs) are the element pairs
                const uvec2 pw = (kt & 1u) == 0u ? dx.xq[kt >> 1][g].xy : dx.xq[kt >> 1][g].zw;
                bx[kt][g] = make_b(unpackFloat2x16(pw.x), unpackFloat2x16(pw.y));
#elif X16  // the two tokens' x at the element pairs' two k, rounded
                const f16vec2 a = x_round16((kt & 1u) == 0u ? dx.xq[kt >> 1][g].xy : dx.xq[kt >> 1][g].zw);
                const f16vec2 b = x_round16((kt & 1u) == 0u ? dx.xq1[kt >> 1][g].xy : dx.xq1[kt >> 1][g].zw);
                bx[kt][g] = make_b(f16vec2(a.x, b.x), f16vec2(a.y, b.y));
#elif XQ && defined(DIAG_PRESPLIT)  // timing only: the vec4's words taken as (hi, lo) pairs, as x split by its producers would come
                const uvec2 pw = floatBitsToUint((kt & 1u) == 0u ? dx.xq[kt >> 1][g].xy : dx.xq[kt >> 1][g].zw);
                bx[kt][g] = make_b(unpackFloat2x16(pw.x), unpackFloat2x16(pw.y));
#elif XQ  // one vec4 per block: x of tile 2 blk's element pairs, then of tile 2 blk + 1's
                f16vec2 h, lo;
                x_split((kt & 1u) == 0u ? dx.xq[kt >> 1][g].xy : dx.xq[kt >> 1][g].zw, h, lo);
                bx[kt][g] = make_b(f16vec2(h.x, lo.x), f16vec2(h.y, lo.y));
#elif XF32 && B_PAIRS  // elements (0, 1) = (hi, lo) of one x, (2, 3) of another
                f16vec2 h, lo;
                x_split(vec2(dx.xv[kt][g][0], dx.xv[kt][g][1]), h, lo);
                bx[kt][g] = make_b(f16vec2(h.x, lo.x), f16vec2(h.y, lo.y));
#elif XF32  // any layout: split every element's x, keep the half its column wants
                f16vec2 h01, l01, h23, l23;
                x_split(vec2(dx.xv[kt][g][0], dx.xv[kt][g][1]), h01, l01);
                x_split(vec2(dx.xv[kt][g][2], dx.xv[kt][g][3]), h23, l23);
                bx[kt][g] = make_b(f16vec2((bn[0] & 1u) != 0u ? l01.x : h01.x, (bn[1] & 1u) != 0u ? l01.y : h01.y),
                                   f16vec2((bn[2] & 1u) != 0u ? l23.x : h23.x, (bn[3] & 1u) != 0u ? l23.y : h23.y));
#else
                bx[kt][g] = make_b(unpackFloat2x16(dx.xh[kt][g][0] | (dx.xh[kt][g][1] << 16)),
                                   unpackFloat2x16(dx.xh[kt][g][2] | (dx.xh[kt][g][3] << 16)));
#endif
            }
#else
        bfrag bh[4][NG], bl[4][NG];
        UNROLL for (uint kt = 0u; kt < 4u; ++kt)
            UNROLL for (uint g = 0u; g < NG; ++g) {
#if XF32  // x_split_f16.comp's split, two B elements at a time
                f16vec2 h01, l01, h23, l23;
                x_split(vec2(dx.xv[kt][g][0], dx.xv[kt][g][1]), h01, l01);
                x_split(vec2(dx.xv[kt][g][2], dx.xv[kt][g][3]), h23, l23);
                bh[kt][g] = make_b(h01, h23);
                bl[kt][g] = make_b(l01, l23);
#else
                bh[kt][g] = make_b(unpackFloat2x16(dx.xh[kt][g][0] | (dx.xh[kt][g][1] << 16)),
                                   unpackFloat2x16(dx.xh[kt][g][2] | (dx.xh[kt][g][3] << 16)));
                bl[kt][g] = make_b(unpackFloat2x16(dx.xl[kt][g][0] | (dx.xl[kt][g][1] << 16)),
                                   unpackFloat2x16(dx.xl[kt][g][2] | (dx.xl[kt][g][3] << 16)));
#endif
            }
#endif
        UNROLL for (uint blk = 0u; blk < 2u; ++blk)
            UNROLL for (uint t = 0u; t < NT; ++t) {
                // One accumulator chain at a time (see the header).
#ifdef DIAG_FOLD
                {
                    // Two rows' factors from the lane's scale word (wrong values, the
                    // instructions of the real form), then every A pair times them.
                    const uint sb = d.s[t][0] >> (8u * blk);
                    const f16vec2 m = unpackFloat2x16((((sb & 0x0fu) + 1u) << 10) | ((((sb >> 16) & 0x0fu) + 1u) << 26));
                    afrag a0 = decode_a(d.q[t][0][2u * blk]), a1 = decode_a(d.q[t][0][2u * blk + 1u]);
                    UNROLL for (uint i = 0u; i < 8u; i += 2u) {
                        const f16vec2 v0 = f16vec2(AE(a0, i), AE(a0, i + 1u)) * m, v1 = f16vec2(AE(a1, i), AE(a1, i + 1u)) * m;
                        AE(a0, i) = v0.x;
                        AE(a0, i + 1u) = v0.y;
                        AE(a1, i) = v1.x;
                        AE(a1, i + 1u) = v1.y;
                    }
                    UNROLL for (uint g = 0u; g < NG; ++g) {
                        cacc[t][g] = MMA(a0, bx[2u * blk][g], cacc[t][g]);
                        cacc[t][g] = MMA(a1, bx[2u * blk + 1u][g], cacc[t][g]);
                    }
                    continue;
                }
#endif
#if AF16
                const afrag a0 = load_a(d.q[t][2u * blk]), a1 = load_a(d.q[t][2u * blk + 1u]);
#else
                const afrag a0 = decode_a(d.q[t][0][2u * blk]), a1 = decode_a(d.q[t][0][2u * blk + 1u]);
#endif
                float s[NSR];
                UNROLL for (uint j = 0u; j < NSR; ++j) {
#if FSC  // byte 2 j + blk, already biased by 14: moved into the exponent field
                    const uint sh = 8u * (2u * j + blk);
                    s[j] = uintBitsToFloat((sh <= 23u ? d.s[t][0] << (23u - sh) : d.s[t][0] >> (sh - 23u)) & 0x7f800000u);
#else
                    s[j] = uintBitsToFloat((((d.s[t][j] >> (8u * blk)) & 0xffu) + 14u) << 23);
#endif
                }
                UNROLL for (uint g = 0u; g < NG; ++g) {
                    cfrag c = C_ZERO;
#if defined(DIAG_NO_MMA)  // timing only (wrong results): no multiply-adds (so no x): the A elements as the tile's sums
                    UNROLL for (uint e = 0u; e < 4u; ++e)
                        CE(c, e) = float(AE(a0, 2u * e) + AE(a0, 2u * e + 1u)) + float(AE(a1, 2u * e) + AE(a1, 2u * e + 1u));
#elif HLC
                    c = MMA(a0, bx[2u * blk][g], c);
                    c = MMA(a1, bx[2u * blk + 1u][g], c);
#else
                    c = MMA(a0, bh[2u * blk][g], c);
#ifndef DIAG_NO_LO  // timing only (x rounded to fp16): what the lo half of x costs
                    c = MMA(a0, bl[2u * blk][g], c);
#endif
                    c = MMA(a1, bh[2u * blk + 1u][g], c);
#ifndef DIAG_NO_LO
                    c = MMA(a1, bl[2u * blk + 1u][g], c);
#endif
#endif
                    UNROLL for (uint e = 0u; e < 4u; ++e)
                        acc[t][g][e] = fma(CE(c, e), s[C_ROW_PAIRS != 0 ? e >> 1 : e], acc[t][g][e]);
                }
            }
#if WROWS
        // Step kg = st + p ends its part (part_of(kg) = ((kg + 1) KP - 1) / kgroups,
        // the part whose warp took group kg under the K split; parts
        // without groups add nothing): the part's sums into the total.
        const uint kn = st + p + 1u;
        if (kn == kgroups || (kn * KP - 1u) / kgroups != ((kn + 1u) * KP - 1u) / kgroups) {  // uniform
            UNROLL for (uint t = 0u; t < NT; ++t)
                UNROLL for (uint g = 0u; g < NG; ++g)
                    UNROLL for (uint e = 0u; e < 4u; ++e) {
                        tot[t][g][e] += acc[t][g][e];
                        acc[t][g][e] = 0.0;
                    }
        }
#endif
#if TLOOP
        if ((st + p + 1u) % iters == 0u) {  // a tile group done (uniform): its epilogue, then the next
            epilogue(acc, yres);
            UNROLL for (uint t = 0u; t < NT; ++t)
                UNROLL for (uint g = 0u; g < NG; ++g)
                    UNROLL for (uint e = 0u; e < 4u; ++e) acc[t][g][e] = 0.0;
            wg_tile0 += tl_stride;
            if (st + p + 1u < total) load_resid(yres);
        }
#endif
    }
}

void main() {
#if TIMELINE
    const uvec2 tl_start = clockRealtime2x32EXT();
#endif
#if EMULATE
    sg = gl_LocalInvocationID.x >> 5;
    l = gl_LocalInvocationID.x & 31u;
    UNROLL for (uint i = 0u; i < 8u; ++i) aidx[i] = lay[l * 16u + i];
    UNROLL for (uint i = 0u; i < 4u; ++i) bidx[i] = lay[l * 16u + 8u + i];
    UNROLL for (uint i = 0u; i < 4u; ++i) cidx[i] = lay[l * 16u + 12u + i];
#else
    sg = gl_SubgroupID;
    l = gl_SubgroupInvocationID;
#endif
    UNROLL for (uint j = 0u; j < 4u; ++j) {
        const uint b = lay[l * 16u + 8u + j];
        bk[j] = b >> 3;
        bn[j] = b & 7u;
    }
    UNROLL for (uint e = 0u; e < 4u; ++e) crow[e] = lay[l * 16u + 12u + e] >> 3;
    xq0 = lay[640u + bk[0]];
    sq = lay[672u + l];
    kgroups = pc.K / 64u;
    tiles = (pc.M + 15u) / 16u;
    gbase = WG_Y * NG;
#if WROWS  // warp sg: tile group WG_X NSG + sg, the whole K
    wg_tile0 = (WG_X * NSG + sg) * R;
    gw = 0u;
    kg0 = 0u;
    kg1 = kgroups;
    iters = kgroups;
#else
    wg_tile0 = WG_X * R;
    gw = KPART * NSG + sg;
#if KSTRIDE
    kg1 = kgroups;
#else
    kg0 = gw * kgroups / NSGT;
    kg1 = (gw + 1u) * kgroups / NSGT;
#endif
    iters = (kgroups + NSGT - 1u) / NSGT;  // the same for every warp (emulation barriers)
#endif

#if TLOOP  // tile groups x, x + gridsize, ...: one sequence of steps, the loads PF ahead across groups
    const uint tgroups = (tiles + R - 1u) / R;
    iters_g = iters;
    tl_stride = gl_NumWorkGroups.x * R;
    total_g = gl_WorkGroupID.x < tgroups ? (tgroups - gl_WorkGroupID.x + gl_NumWorkGroups.x - 1u) / gl_NumWorkGroups.x * iters : 0u;
    total = total_g;
#else
    total = iters;
#endif

    UNROLL for (uint t = 0u; t < NT; ++t)
        UNROLL for (uint g = 0u; g < NG; ++g)
            UNROLL for (uint e = 0u; e < 4u; ++e) {
                acc[t][g][e] = 0.0;
#if WROWS
                tot[t][g][e] = 0.0;
#endif
            }

#ifdef DIAG_FOLD
    UNROLL for (uint t = 0u; t < NT; ++t)
        UNROLL for (uint g = 0u; g < NG; ++g) cacc[t][g] = C_ZERO;
#endif
    UNROLL for (uint p = 0u; p < PF; ++p) buf[p] = load_ws(p);
#if XNEAR
    xnext = load_xs(0u);
#elif XSH
    xsh_fetch(0u);
#elif !XLATE
    UNROLL for (uint p = 0u; p < PF; ++p) xbuf[p] = load_xs(p);
#endif
#if NORM_IN  // while the first loads are in flight
    norm_partials();
#endif
#if TOUCH
    UNROLL for (uint p = 0u; p < TOUCH; ++p) tring[p] = touch_w(PF + p);
    tsink = 0u;
#endif
    load_resid(yres);
    for (uint st = 0u; st < total; st += UNR) {
#if PSTEP  // the steps by hand: p a constant at every call
        k_step(0u, st);
#if UNR > 1
        k_step(1u, st);
#endif
#if UNR > 2
        k_step(2u, st);
#endif
#if UNR > 3
        k_step(3u, st);
#endif
#if UNR > 4
        k_step(4u, st);
#endif
#if UNR > 5
        k_step(5u, st);
#endif
#if UNR > 6
        k_step(6u, st);
#endif
#if UNR > 7
        k_step(7u, st);
#endif
#else
        UNROLL for (uint p = 0u; p < UNR; ++p) k_step(p, st);
#endif
    }
#if WROWS  // each output is one lane's accumulator element
    UNROLL for (uint t = 0u; t < NT; ++t)
        UNROLL for (uint g = 0u; g < NG; ++g)
            UNROLL for (uint e = 0u; e < 4u; ++e) {
                const uint ce = lay[l * 16u + 12u + e];  // r * 8 + n: row r of the tile, token n of the group
                const uint row = (wg_tile0 + t) * 16u + (ce >> 3), col = (gbase + g) * CPG + (ce & 7u);
                if (row < pc.M && col < pc.N) y[col * pc.ystride + row] = tot[t][g][e];
            }
#elif !TLOOP
#ifdef DIAG_FOLD
    UNROLL for (uint t = 0u; t < NT; ++t)
        UNROLL for (uint g = 0u; g < NG; ++g)
            UNROLL for (uint e = 0u; e < 4u; ++e) acc[t][g][e] = CE(cacc[t][g], e);
#endif
    epilogue(acc, yres);
#endif
#if TOUCH
    if (pc.M == 0u) y[0] = uintBitsToFloat(tsink);  // never: keeps the touches
#endif
#if TIMELINE
    barrier();  // every warp's stores issued
    if (gl_LocalInvocationIndex == 0u) {
        const uvec2 tl_end = clockRealtime2x32EXT();
        const uint slot = pc.tl_base + gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
        if (slot < tl[1]) {
            const uint b = 4u + 8u * slot;
            tl[b] = tl_start.x;
            tl[b + 1u] = tl_start.y;
            tl[b + 2u] = tl_end.x;
            tl[b + 3u] = tl_end.y;
            tl[b + 4u] = pc.M;
            tl[b + 5u] = pc.K | (pc.N << 24);
            tl[b + 6u] = gl_WorkGroupID.x | (gl_WorkGroupID.y << 20);
#if defined(SMID) && SMID
            tl[b + 7u] = gl_SMIDNV;
#else
            tl[b + 7u] = ~0u;
#endif
        }
    }
#endif
}
