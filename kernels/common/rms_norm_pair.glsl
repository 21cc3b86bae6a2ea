// RMSNorm of rows 2m and 2m + 1 with their fp16 token-pair words
// (rms_norm_f32.comp's XP_OUT=2 form), as a function, so that a product's
// epilogue (matvec_frag.comp NORM) gives the standalone kernel's bits: each
// row exactly as alone (its loads, per-thread order and wg_sum2_fast /
// wg_sum1_fast), one reduction for both.  The includer defines WG_SIZE,
// VT / VW (float / 1, or vec4 / 4 with VEC4 defined), NORM_LOAD(i) (element i of the input, in
// VT units), NORM_GAIN(c), NORM_STORE_S(i, v) (the residual sum; empty
// without), NORM_STORE_Y(i, v) and NORM_STORE_P(i, v) (the pair words), and
// includes common/wg_reduce.glsl and common/x_split.glsl first.  Called by
// every invocation (uniform control flow).
#ifndef MLXMTP_RMS_NORM_PAIR_GLSL
#define MLXMTP_RMS_NORM_PAIR_GLSL

#define NORM_CACHE 8
#if defined(VEC4)
uvec4 norm_words(vec4 a, vec4 b) {
    return uvec4(packFloat2x16(x_round16(vec2(a.x, b.x))), packFloat2x16(x_round16(vec2(a.y, b.y))),
                 packFloat2x16(x_round16(vec2(a.z, b.z))), packFloat2x16(x_round16(vec2(a.w, b.w))));
}
#else
uint norm_words(float a, float b) { return packFloat2x16(x_round16(vec2(a, b))); }
#endif

// rows: how many rows there are (row 2m + 1 may not exist); cols: elements per row.
void rms_norm_pair_rows(uint m, uint rows, uint cols, float eps) {
    const uint n = cols / VW, t = gl_LocalInvocationID.x;
    const bool two = 2u * m + 1u < rows;  // uniform
    const uint b0 = 2u * m * n, b1 = b0 + n;
    VT v0[NORM_CACHE], v1[NORM_CACHE];
    [[unroll]] for (uint i = 0u; i < NORM_CACHE; ++i) {
        uint c = t + i * WG_SIZE;
        v0[i] = c < n ? NORM_LOAD(b0 + c) : VT(0.0);
        v1[i] = two && c < n ? NORM_LOAD(b1 + c) : VT(0.0);
    }
    float ss0 = 0.0, ss1 = 0.0;
    [[unroll]] for (uint i = 0u; i < NORM_CACHE; ++i) {
        if (t + i * WG_SIZE < n) {
            NORM_STORE_S(b0 + t + i * WG_SIZE, v0[i]);
            if (two) NORM_STORE_S(b1 + t + i * WG_SIZE, v1[i]);
        }
        ss0 += dot(v0[i], v0[i]);
        ss1 += dot(v1[i], v1[i]);
    }
    for (uint c = t + NORM_CACHE * WG_SIZE; c < n; c += WG_SIZE) {
        VT u0 = NORM_LOAD(b0 + c), u1 = two ? NORM_LOAD(b1 + c) : VT(0.0);
        NORM_STORE_S(b0 + c, u0);
        if (two) NORM_STORE_S(b1 + c, u1);
        ss0 += dot(u0, u0);
        ss1 += dot(u1, u1);
    }
    // One reduction for both rows (a lone last row: its own), each row's sum
    // in wg_sum1_fast's order.
    float scale0, scale1 = 0.0;
    if (two) {
        const vec2 r = wg_sum2_fast(vec2(ss0, ss1));
        scale0 = inversesqrt(r.x / float(cols) + eps);
        scale1 = inversesqrt(r.y / float(cols) + eps);
    } else {
        scale0 = inversesqrt(wg_sum1_fast(ss0) / float(cols) + eps);
    }
    [[unroll]] for (uint i = 0u; i < NORM_CACHE; ++i) {
        uint c = t + i * WG_SIZE;
        if (c < n) {
            const VT y0 = v0[i] * scale0 * NORM_GAIN(c), y1 = v1[i] * scale1 * NORM_GAIN(c);
            NORM_STORE_Y(b0 + c, y0);
            if (two) NORM_STORE_Y(b1 + c, y1);
            NORM_STORE_P(m * n + c, norm_words(y0, y1));
        }
    }
    for (uint c = t + NORM_CACHE * WG_SIZE; c < n; c += WG_SIZE) {
        const VT y0 = NORM_LOAD(b0 + c) * scale0 * NORM_GAIN(c),
                 y1 = two ? NORM_LOAD(b1 + c) * scale1 * NORM_GAIN(c) : VT(0.0);
        NORM_STORE_Y(b0 + c, y0);
        if (two) NORM_STORE_Y(b1 + c, y1);
        NORM_STORE_P(m * n + c, norm_words(y0, y1));
    }
}

#endif
