#version 450
// Y[n, row0 + m] = sum_k W[m, k] * X[n, k] for n < N_COLS activation columns
// (1..16): the decode / MTP-verify matrix-vector product, fp32 accumulation.
// Weight rows are chunks of a possibly split weight: rows [row0, row0 + M).
// Formats: WEIGHT_F32, WEIGHT_BF16 (two bf16 per uint), WEIGHT_MXFP4,
// WEIGHT_MXFP8 (packed words + E8M0 scale bytes, group 32).  Epilogues:
// CONV_EPILOGUE (the GDN qkv projection's causal conv), GLU_EPILOGUE (the
// MLP's gate and up projections with SwiGLU).
//
// Work split.  A lane's unit is one 16-byte load of 4 f32 or 8 bf16, or
// MX_WORDS (1, 2 or 4) packed MX words of 8 FP4 / 4 FP8 elements, so a
// subgroup's weight loads are one contiguous run per row and its x loads
// are contiguous too.  (Wide FP4 units need 128 bytes of x per lane: lanes
// 128 bytes apart touch a cache line each per x load, which capped the
// kernel well below bandwidth; one-word units keep lanes 32 bytes apart.)
// With subgroup arithmetic (HAS_SUBGROUP_ARITH) a subgroup owns ROWS rows
// (register blocking: every x load serves ROWS rows) over one of KSPLIT
// contiguous parts of K; the KSPLIT subgroups of a row set add their
// subgroupAdd partials in part order through shared memory (no atomics).
// KSPLIT > 1 gives tall-K, few-row weights (down / out projections, the tiny
// gate projections) enough subgroups to keep the memory system busy.  Each
// lane issues the loads of UNROLL units for all ROWS rows before it uses
// any of them.  Without subgroup arithmetic: one workgroup per ROWS rows,
// shared-memory tree reduction.
//
// Batch invariance: per (row, column) a lane accumulates its units in
// increasing order and, inside a unit, the elements in a fixed order, each
// with one explicit fma; then the same subgroupAdd (or workgroup tree) and
// the same part order.  None of this depends on N_COLS, ROWS or UNROLL, only
// on (K, KSPLIT, subgroup size), which the host picks without looking at the
// column count, so column j's result is bit-identical whatever the batch
// (MTP verify == single-token decode).
//
// MX decoding is exact and arithmetic (no tables: a shared-memory lookup per
// element made the kernel instruction-bound).  The bits of two FP4 or FP8
// codes are moved into the two halves of an fp16 pair, so unpackHalf2x16
// yields the elements times 2^-14 (E2M1) or 2^-8 (E4M3) exactly, subnormal
// codes included (0x7F decodes to 480 as MLX does).  A unit's dot product
// with x is taken over these unscaled values and multiplied once by the
// power of two and the unit's E8M0 scale (0 -> 2^-127, 255 -> inf): the same
// value as summing the dequantized products up to fp32 rounding (the power
// of two is folded into the scale: unit_scale).
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#extension GL_EXT_control_flow_attributes : enable
#if defined(HAS_STORAGE8) && !defined(SCALE_WORDS)
#extension GL_EXT_shader_8bit_storage : require
#endif
#if defined(HAS_SUBGROUP_ARITH)
#define WG_SIZE 256
#else
#define WG_SIZE 128
#endif
#ifndef N_COLS
#define N_COLS 1
#endif
#ifndef ROWS
#define ROWS 1
#endif
#ifndef KSPLIT
#define KSPLIT 1
#endif
#ifndef UNROLL
#define UNROLL 2
#endif
#ifndef MX_WORDS
#define MX_WORDS 1
#endif
#ifndef DIAG_DECODE
#define DIAG_DECODE 0  // diagnostics for A/B runs only (wrong results); see decode_word
#endif
layout(local_size_x = WG_SIZE) in;
#include "common/types.glsl"
#include "common/mx.glsl"
#if defined(GLU_EPILOGUE) && defined(CONV_EPILOGUE)
#error "GLU_EPILOGUE and CONV_EPILOGUE are exclusive"
#endif
// One lane's weight load: 4 f32, 8 bf16, or MX_WORDS packed MX words.
#if defined(WEIGHT_F32)
#define WLOAD vec4
#elif defined(WEIGHT_BF16) || MX_WORDS == 4
#define WLOAD uvec4
#elif MX_WORDS == 2
#define WLOAD uvec2
#else
#define WLOAD uint
#endif
layout(std430, binding = 0) readonly buffer Wt { WLOAD wt[]; };
#if defined(HAS_STORAGE8) && !defined(SCALE_WORDS)
// MX scales as bytes: one 8-bit load per scale, no word extraction (fewer
// integer instructions per packed word; the kernel is issue-bound).
#define SCALE_T uint8_t
#define SCALE_BYTE(arr, i) uint(arr[i])
#else
#define SCALE_T uint
#define SCALE_BYTE(arr, i) MX_BYTE(arr, i)  // (SCALE_WORDS: this path everywhere, for A/B runs)
#endif
layout(std430, binding = 1) readonly buffer Sc { SCALE_T sc[]; };  // MX scales (unused otherwise)
layout(std430, binding = 2) readonly buffer X { vec4 x4[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
#if defined(GLU_EPILOGUE)
// The MLP's gate and up projections in one pass with SwiGLU as the epilogue
// (one stage fewer per layer): y = swiglu(G x, U x) (common/types.glsl).  A
// subgroup's ROWS rows are ROWS rows of G (binding 0, 1) and the same ROWS
// rows of U (binding 4, 5): every x load serves both, and the lane that has
// a row's two sums writes the result.  Each product is summed exactly as
// the plain kernel sums it (same K, KSPLIT, unit order), so the result is
// swiglu_f32 of the plain kernel's two products bit for bit, and batch
// invariant like them.
layout(std430, binding = 4) readonly buffer Wu { WLOAD wu[]; };
layout(std430, binding = 5) readonly buffer Su { SCALE_T su[]; };
#define NW 2
#else
#define NW 1
#endif
#define AROWS (ROWS * NW)  // accumulator rows per subgroup
#if defined(CONV_EPILOGUE)
// The Gated DeltaNet qkv projection with its causal conv + SiLU as the
// epilogue (one stage fewer per layer): y receives u = conv(W x), not W x.
// Row r of the chunk is channel c = row0 + r; the thread that finishes a
// row walks its N_COLS tokens in order (common/conv_step.glsl, the same
// operations as gdn_conv_f32) from the window in conv_state and writes the
// window after token t to snapshot slot (slot0 + t) % ring for t >=
// snap_from (the session's snapshot ring, which holds its current state:
// snap_from < N_COLS).  A slot it writes may be the one it read: the same
// thread read it first.
//   conv_w [C, ck], conv_state [ck-1, C], conv_snap [ring, ck-1, C]; C = ystride
layout(std430, binding = 4) readonly buffer CW { float conv_w[]; };
layout(std430, binding = 5) readonly buffer CSt { float conv_state[]; };
layout(std430, binding = 6) writeonly buffer CSn { float conv_snap[]; };
layout(push_constant) uniform P {
    uint M; uint K; uint ystride; uint row0;
    uint ck; uint snap_from; uint slot0; uint ring;
} pc;
#include "common/conv_epilogue.glsl"
#else
layout(push_constant) uniform P { uint M; uint K; uint ystride; uint row0; } pc;
#endif

#if defined(WEIGHT_F32)
#define UNIT 4u
#elif defined(WEIGHT_BF16)
#define UNIT 8u
#elif defined(WEIGHT_MXFP4)
#define UNIT (8u * MX_WORDS)
#else
#define UNIT (4u * MX_WORDS)
#endif

// Loops over rows, columns and the elements of a unit carry [[unroll]]
// (accumulators indexed by a loop variable must become registers: without
// the hint the NVIDIA compiler left some variants rolled and several times
// slower), left to the driver to apply:
// mlxmtp-compile: driver-unroll
//
// (Not `precise`: glslang 12 fails on precise global arrays; every update is
// an explicit fma, which the drivers emit as one fused instruction.)
float acc[AROWS][N_COLS];  // GLU: rows ROWS.. are U's

// Stores row r (of the chunk) given all its columns' sums.
void store_row(uint r, float v[N_COLS]) {
#if defined(CONV_EPILOGUE)
    const uint C = pc.ystride, c = pc.row0 + r;
    float win[MAX_CONV_K], wc[MAX_CONV_K];
    conv_channel_begin(c, C, win, wc);
    for (uint t = 0; t < N_COLS; ++t) y[t * C + c] = conv_channel_token(t, c, C, win, wc, v[t]);
#else
    [[unroll]] for (uint n = 0; n < N_COLS; ++n) y[n * pc.ystride + pc.row0 + r] = v[n];
#endif
}

#if defined(WEIGHT_MXFP4) || defined(WEIGHT_MXFP8)
// One packed MX word: its elements as fp16 pairs (decode_word) and its x
// (load_word_x, x4 index xi of the word's first element); word_dot adds
// word . x to p in k order, starting from the first product when `first`.
#if defined(WEIGHT_MXFP4)
const uint kUnitExp = kFp4PairExp;  // the pairs are the elements times 2^-14
#define WORD_PAIRS 4  // (element j, element j + 4), j < 4
#define WORD_VEC4 2u  // vec4s of x per word
struct word_x { vec4 a, b; };
#else
const uint kUnitExp = kFp8PairExp;  // times 2^-8
#define WORD_PAIRS 2  // (element 0, 2), (element 1, 3)
#define WORD_VEC4 1u
struct word_x { vec4 a; };
#endif

// E8M0 byte b's scale times 2^kUnitExp (undoing the pair decoding's power
// of two) in one integer multiply-add: 2^(b - 127 + kUnitExp) as float bits.
// b = 0 gives 2^(kUnitExp - 127), exactly e8m0_scale(0) * 2^kUnitExp.  Every
// MX weight on a device has b <= 254 - kUnitExp (ops::max_scale_byte: the
// loader rejects checkpoints with larger scales, synthetic weights stay far
// below), where the result is finite; larger bytes would give inf or wrap
// into the sign bit.  fma(p, unit_scale(b), acc) equals fma(p * 2^kUnitExp,
// e8m0_scale(b), acc) bit for bit: both products are p times a power of two,
// formed exactly in the fma.
float unit_scale(uint b) {
#if defined(SCALE_CLAMP)  // (A/B: the clamp the loader's check made redundant)
    b = min(b, 255u - kUnitExp);
#endif
    return uintBitsToFloat(b * 8388608u + kUnitExp * 8388608u);
}

void decode_word(uint q, out vec2 f[WORD_PAIRS]) {
#if defined(WEIGHT_MXFP4) && DIAG_DECODE == 1
    // Diagnostic (wrong values): the pair decode without the fp16 -> fp32 conversion.
    [[unroll]] for (uint j = 0u; j < 4u; ++j) {
        uint h = fp4_pair(q, j);
        f[j] = vec2(uintBitsToFloat(h << 16), uintBitsToFloat(h & 0xffff0000u));
    }
#elif defined(WEIGHT_MXFP4) && DIAG_DECODE == 2
    // Diagnostic (wrong values): no decode, one integer instruction per pair.
    [[unroll]] for (uint j = 0u; j < 4u; ++j) f[j] = vec2(uintBitsToFloat(q ^ (j * 0x01010101u)));
#elif defined(WEIGHT_MXFP4)
    [[unroll]] for (uint j = 0u; j < 4u; ++j) f[j] = unpackHalf2x16(fp4_pair(q, j));
#else
    [[unroll]] for (uint j = 0u; j < 2u; ++j) f[j] = unpackHalf2x16(fp8_pair(q, j));
#endif
}

word_x load_word_x(uint xi) {
    word_x x;
#if defined(WEIGHT_MXFP4) && defined(DIAG_XCOAL)
    // Diagnostic (wrong values): the same loads, coalesced across lanes
    // (lane-consecutive vec4s) instead of 32 bytes apart.
    uint b = xi & ~63u, l = (xi >> 1) & 31u;
    x.a = x4[b + l];
    x.b = x4[b + 32u + l];
#else
    x.a = x4[xi];
#if defined(WEIGHT_MXFP4)
    x.b = x4[xi + 1u];
#endif
#endif
    return x;
}

float word_dot(vec2 f[WORD_PAIRS], word_x x, float p, bool first) {
    p = first ? f[0].x * x.a.x : fma(f[0].x, x.a.x, p);
#if defined(WEIGHT_MXFP4)
    p = fma(f[1].x, x.a.y, p);
    p = fma(f[2].x, x.a.z, p);
    p = fma(f[3].x, x.a.w, p);
    p = fma(f[0].y, x.b.x, p);
    p = fma(f[1].y, x.b.y, p);
    p = fma(f[2].y, x.b.z, p);
    p = fma(f[3].y, x.b.w, p);
#else
    p = fma(f[1].x, x.a.y, p);
    p = fma(f[0].y, x.a.z, p);
    p = fma(f[1].y, x.a.w, p);
#endif
    return p;
}
#endif

// One unit of ROWS rows, as loaded (decoded later, after every load of the
// batch is in flight).
struct unit_w {
#if defined(WEIGHT_F32)
    vec4 w[AROWS];
#elif defined(WEIGHT_BF16)
    uvec4 q[AROWS];
#else
    uint q[AROWS][MX_WORDS];
    uint s[AROWS];  // the scale byte
#endif
};

// Row r's unit u (of lane loads) into slot a of d, from weight array ARR.
#if defined(WEIGHT_F32)
#define LOAD_ROW(d, a, ARR, row, u, kq) d.w[a] = ARR[(row) * (kq) + (u)]
#elif defined(WEIGHT_BF16)
#define LOAD_ROW(d, a, ARR, row, u, kq) d.q[a] = ARR[(row) * ((kq) / 2u) + (u)]
#elif MX_WORDS == 4
#define LOAD_ROW(d, a, ARR, row, u, kq) \
    { uvec4 v = ARR[(row) * (pc.K / UNIT) + (u)]; d.q[a][0] = v.x; d.q[a][1] = v.y; d.q[a][2] = v.z; d.q[a][3] = v.w; }
#elif MX_WORDS == 2
#define LOAD_ROW(d, a, ARR, row, u, kq) \
    { uvec2 v = ARR[(row) * (pc.K / UNIT) + (u)]; d.q[a][0] = v.x; d.q[a][1] = v.y; }
#else
#define LOAD_ROW(d, a, ARR, row, u, kq) d.q[a][0] = ARR[(row) * (pc.K / UNIT) + (u)]
#endif
#define LOAD_SCALE(d, a, ARR, row, u) d.s[a] = SCALE_BYTE(ARR, (row) * (pc.K / 32u) + (u) / (32u / UNIT))

unit_w load_unit(uint m[ROWS], uint u, uint kq) {
    unit_w d;
    [[unroll]] for (int r = 0; r < ROWS; ++r) LOAD_ROW(d, r, wt, m[r], u, kq);
#if defined(GLU_EPILOGUE)
    [[unroll]] for (int r = 0; r < ROWS; ++r) LOAD_ROW(d, ROWS + r, wu, m[r], u, kq);
#endif
#if defined(WEIGHT_MXFP4) || defined(WEIGHT_MXFP8)
    [[unroll]] for (int r = 0; r < ROWS; ++r) LOAD_SCALE(d, r, sc, m[r], u);
#if defined(GLU_EPILOGUE)
    [[unroll]] for (int r = 0; r < ROWS; ++r) LOAD_SCALE(d, ROWS + r, su, m[r], u);
#endif
#endif
    return d;
}

// acc[r][n] += unit u of row r . x[n] in k order.  kq = K / 4 (vec4s per x column).
void compute_unit(unit_w d, uint u, uint kq) {
#if defined(WEIGHT_F32)
    [[unroll]] for (int n = 0; n < N_COLS; ++n) {
        vec4 xv = x4[uint(n) * kq + u];
        [[unroll]] for (int r = 0; r < AROWS; ++r) {
            acc[r][n] = fma(d.w[r].x, xv.x, acc[r][n]);
            acc[r][n] = fma(d.w[r].y, xv.y, acc[r][n]);
            acc[r][n] = fma(d.w[r].z, xv.z, acc[r][n]);
            acc[r][n] = fma(d.w[r].w, xv.w, acc[r][n]);
        }
    }
#elif defined(WEIGHT_BF16)
    [[unroll]] for (int n = 0; n < N_COLS; ++n) {
        vec4 xa = x4[uint(n) * kq + 2u * u], xb = x4[uint(n) * kq + 2u * u + 1u];
        [[unroll]] for (int r = 0; r < AROWS; ++r) {
            acc[r][n] = fma(bf16_lo(d.q[r].x), xa.x, acc[r][n]);
            acc[r][n] = fma(bf16_hi(d.q[r].x), xa.y, acc[r][n]);
            acc[r][n] = fma(bf16_lo(d.q[r].y), xa.z, acc[r][n]);
            acc[r][n] = fma(bf16_hi(d.q[r].y), xa.w, acc[r][n]);
            acc[r][n] = fma(bf16_lo(d.q[r].z), xb.x, acc[r][n]);
            acc[r][n] = fma(bf16_hi(d.q[r].z), xb.y, acc[r][n]);
            acc[r][n] = fma(bf16_lo(d.q[r].w), xb.z, acc[r][n]);
            acc[r][n] = fma(bf16_hi(d.q[r].w), xb.w, acc[r][n]);
        }
    }
#else
    // MX: p = unit . x over the unscaled codes (elements in k order),
    // then one scaling per (row, column) and unit.
#if defined(DIAG_LOADONLY)  // diagnostic (wrong values): the weight loads alone, no x, no decode
    [[unroll]] for (int r = 0; r < AROWS; ++r)
        [[unroll]] for (uint w = 0u; w < MX_WORDS; ++w) acc[r][0] += uintBitsToFloat(d.q[r][w] ^ d.s[r]);
    return;
#endif
    float s[AROWS];
    [[unroll]] for (int r = 0; r < AROWS; ++r) s[r] = unit_scale(d.s[r]);
#if MX_WORDS == 1
    // One word: decode it for every row, then per column p is a temporary
    // (the form the one-word defaults were tuned with).
    vec2 f[AROWS][WORD_PAIRS];
    [[unroll]] for (int r = 0; r < AROWS; ++r) decode_word(d.q[r][0], f[r]);
    [[unroll]] for (int n = 0; n < N_COLS; ++n) {
        word_x x = load_word_x(uint(n) * kq + WORD_VEC4 * u);
        [[unroll]] for (int r = 0; r < AROWS; ++r)
            acc[r][n] = fma(word_dot(f[r], x, 0.0, true), s[r], acc[r][n]);
    }
#else
    // Several words: per word decode every row, p accumulates across words.
    float p[AROWS][N_COLS];
    [[unroll]] for (uint w = 0u; w < MX_WORDS; ++w) {
        vec2 f[AROWS][WORD_PAIRS];
        [[unroll]] for (int r = 0; r < AROWS; ++r) decode_word(d.q[r][w], f[r]);
        [[unroll]] for (int n = 0; n < N_COLS; ++n) {
            word_x x = load_word_x(uint(n) * kq + WORD_VEC4 * (MX_WORDS * u + w));
            [[unroll]] for (int r = 0; r < AROWS; ++r) p[r][n] = word_dot(f[r], x, p[r][n], w == 0u);
        }
    }
    [[unroll]] for (int r = 0; r < AROWS; ++r)
        [[unroll]] for (int n = 0; n < N_COLS; ++n) acc[r][n] = fma(p[r][n], s[r], acc[r][n]);
#endif
#endif
}

// Units u, u + step, ... < uend of rows m, in increasing order; the loads of
// UNROLL units are issued together.
void accumulate(uint m[ROWS], uint u, uint uend, uint step, uint kq) {
    for (; u + (UNROLL - 1) * step < uend; u += UNROLL * step) {
        unit_w d[UNROLL];
        [[unroll]] for (int i = 0; i < UNROLL; ++i) d[i] = load_unit(m, u + uint(i) * step, kq);
        [[unroll]] for (int i = 0; i < UNROLL; ++i) compute_unit(d[i], u + uint(i) * step, kq);
    }
    for (; u < uend; u += step) compute_unit(load_unit(m, u, kq), u, kq);
}

void start_rows(uint m0, out uint m[ROWS]) {
    [[unroll]] for (int r = 0; r < ROWS; ++r) m[r] = min(m0 + uint(r), pc.M - 1u);  // clamped loads, writes skipped
    [[unroll]] for (int r = 0; r < AROWS; ++r)
        [[unroll]] for (int n = 0; n < N_COLS; ++n) acc[r][n] = 0.0;
}

#if defined(HAS_SUBGROUP_ARITH)
#define NSG (WG_SIZE / SUBGROUP_SIZE)  // subgroups per workgroup at the device's size
#define SETS (NSG / KSPLIT)            // row sets per workgroup
#define RPW (SETS * ROWS)              // rows per workgroup
#if KSPLIT > 1
// Per K part: row set, accumulator row (GLU: G's rows, then U's), column.
#define PART_N (RPW * NW * N_COLS)
shared float part[KSPLIT * PART_N];
#endif
// The subgroup sums of rows m0 .. m0 + ROWS - 1 (below row_end), written by
// one lane.
void write_rows(uint m0, uint row_end) {
#if defined(CONV_EPILOGUE)  // a row's columns in one lane
    [[unroll]] for (int r = 0; r < ROWS; ++r) {
        float v[N_COLS];
        [[unroll]] for (int n = 0; n < N_COLS; ++n) v[n] = subgroupAdd(acc[r][n]);
        if (subgroupElect() && m0 + uint(r) < row_end) store_row(m0 + uint(r), v);
    }
#else
    [[unroll]] for (int r = 0; r < ROWS; ++r)
        [[unroll]] for (int n = 0; n < N_COLS; ++n) {
            float s = subgroupAdd(acc[r][n]);
#if defined(GLU_EPILOGUE)
            s = swiglu(s, subgroupAdd(acc[ROWS + r][n]));
#endif
            if (subgroupElect() && m0 + uint(r) < row_end) y[uint(n) * pc.ystride + pc.row0 + m0 + uint(r)] = s;
        }
#endif
}

#if KSPLIT > 1
// Part element i's sum over the K parts, in part order.
float part_sum(uint i) {
    float s = part[i];
    for (uint k = 1u; k < KSPLIT; ++k) s += part[k * PART_N + i];
    return s;
}
// The part element of row rr (of the workgroup) and column n (GLU: of G;
// U's follows ROWS * N_COLS later).
uint part_at(uint rr, uint n) { return ((rr / ROWS) * AROWS + rr % ROWS) * N_COLS + n; }
#endif

void main() {
#if defined(DIAG_EMPTY)  // diagnostic (no result): the dispatch without its work
    return;
#endif
    uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint kq = pc.K / 4u, units = pc.K / UNIT;
    uint first = wg * RPW, row_end = min(first + RPW, pc.M);
    uint m[ROWS];
    if (gl_NumSubgroups == NSG) {  // uniform
        uint ks = gl_SubgroupID % KSPLIT, set = gl_SubgroupID / KSPLIT;
        // Parts are whole runs of 32 units (aligned subgroup loads).
        uint per = ((units + KSPLIT - 1u) / KSPLIT + 31u) / 32u * 32u;
        uint ub = min(ks * per, units), ue = min(ub + per, units);
        uint m0 = first + set * ROWS;
        start_rows(m0, m);
        accumulate(m, ub + gl_SubgroupInvocationID, ue, gl_SubgroupSize, kq);
#if KSPLIT > 1
        [[unroll]] for (int r = 0; r < AROWS; ++r)
            [[unroll]] for (int n = 0; n < N_COLS; ++n) {
                float s = subgroupAdd(acc[r][n]);
                if (subgroupElect()) part[((ks * SETS + set) * AROWS + uint(r)) * N_COLS + uint(n)] = s;
            }
        barrier();
#if defined(CONV_EPILOGUE)  // a row's columns in one thread
        for (uint rr = gl_LocalInvocationIndex; rr < RPW; rr += WG_SIZE) {
            float v[N_COLS];
            [[unroll]] for (uint n = 0; n < N_COLS; ++n) v[n] = part_sum(part_at(rr, n));
            if (first + rr < row_end) store_row(first + rr, v);
        }
#else
        for (uint i = gl_LocalInvocationIndex; i < RPW * N_COLS; i += WG_SIZE) {
            uint rr = i / N_COLS, n = i % N_COLS;
            float v = part_sum(part_at(rr, n));
#if defined(GLU_EPILOGUE)
            v = swiglu(v, part_sum(part_at(rr, n) + ROWS * N_COLS));
#endif
            if (first + rr < row_end) y[n * pc.ystride + pc.row0 + first + rr] = v;
        }
#endif
#else
        write_rows(m0, row_end);
#endif
        return;
    }
    // A subgroup layout other than the device's default: every subgroup takes
    // whole rows over all of K (correct; not tuned).
    for (uint m0 = first + gl_SubgroupID * ROWS; m0 < row_end; m0 += gl_NumSubgroups * ROWS) {
        start_rows(m0, m);
        accumulate(m, gl_SubgroupInvocationID, units, gl_SubgroupSize, kq);
        write_rows(m0, row_end);
    }
}
#else
#include "common/wg_reduce.glsl"
void main() {
    uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint m0 = wg * ROWS;
    if (m0 >= pc.M) return;  // uniform per workgroup
    uint m[ROWS];
    start_rows(m0, m);
    accumulate(m, gl_LocalInvocationID.x, pc.K / UNIT, WG_SIZE, pc.K / 4u);
    [[unroll]] for (int r = 0; r < ROWS; ++r) {
        float v[N_COLS];
        [[unroll]] for (int n = 0; n < N_COLS; ++n) {
            v[n] = wg_sum1(acc[r][n]);
#if defined(GLU_EPILOGUE)
            v[n] = swiglu(v[n], wg_sum1(acc[ROWS + r][n]));
#endif
        }
        if (gl_LocalInvocationID.x == 0u && m0 + uint(r) < pc.M) store_row(m0 + uint(r), v);
    }
}
#endif
