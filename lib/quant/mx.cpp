// MX element and group codecs.  The reference functions transcribe the MLX
// Metal kernel (fp_quantized.h / fp4.h / fp8.h, MLX 0.29.4-0.32.x); the fast
// path computes the same formulas on whole groups so that the compiler can
// vectorize them, and is tested byte-for-byte against the reference.
#include "quant/mx.h"

#include "util/half.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

// The generic kernels are written to be auto-vectorized; -O3 (not the default
// -O2 of RelWithDebInfo) lets GCC vectorize the compare chains.
#pragma GCC optimize("O3")

namespace mlxmtp::detail {

namespace {

inline uint32_t fbits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
inline float bitsf(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// round-half-away-from-zero(log2(x)) for finite x > 0, exactly: write
// x = M * 2^E with M in [1,2); log2(M) >= 0.5 iff M > sqrt(2) (float32's
// sqrt(2) has mantissa field 0x3504F3 and lies below it), and log2 never
// lands exactly on k + 0.5 for a float.  Subnormal x goes through double log2.
inline int round_log2(float x) {
    uint32_t u = fbits(x);
    int e = static_cast<int>((u >> 23) & 0xff);
    if (e == 0) {
        double l = std::log2(static_cast<double>(x));
        return static_cast<int>(l >= 0 ? std::floor(l + 0.5) : -std::floor(-l + 0.5));
    }
    return (e - 127) + ((u & 0x7fffff) >= 0x3504F4u ? 1 : 0);
}

inline uint8_t scale_from_x(float x, mx_scale_rule rule) {
    if (!std::isfinite(x)) return 0xFF;
    if (x <= 0.0f) return 0x00;  // Metal: int(round(log2(0))) = INT_MIN, clamped to -127
    int n = round_log2(x);
    n = n < -127 ? -127 : (n > 127 ? 127 : n);
    uint8_t b = static_cast<uint8_t>(n + 127);
    if (rule == mx_scale_rule::round_up && b < 0xFE && e8m0_to_float(b) < x) ++b;
    return b;
}

inline float inv_scale(uint8_t b) {
    float s = e8m0_to_float(b);
    return s == 0.0f ? 0.0f : 1.0f / s;  // exact: s is a power of two (or inf -> 0)
}

std::atomic<bool> g_force_generic{false};

}  // namespace

float e8m0_to_float(uint8_t b) {
    if (b == 0) return bitsf(0x00400000u);  // 2^-127
    if (b == 0xFF) return bitsf(0x7F800000u);
    return bitsf(static_cast<uint32_t>(b) << 23);
}

int64_t mx_first_scale_beyond_engine(const uint8_t *scales, uint64_t n, mx_mode m) {
    const uint8_t lim = mx_max_engine_scale_byte(m);
    uint8_t hi = 0;
    for (uint64_t i = 0; i < n; ++i) hi = std::max(hi, scales[i]);  // branch-free: vectorizes
    if (hi <= lim) return -1;
    uint64_t i = 0;
    while (scales[i] <= lim) ++i;
    return static_cast<int64_t>(i);
}

uint8_t mx_scale_byte(float amax, mx_mode mode, mx_scale_rule rule) {
    float x = amax / mx_elem_max(mode);
    return scale_from_x(x, rule);
}

uint8_t fp4_e2m1_encode(float x) {
    if (std::isnan(x)) return 0x7;
    uint8_t sign = std::signbit(x) ? 0x8 : 0x0;
    float a = std::fabs(x);
    uint8_t c;
    if (a > 5.0f) c = 7;
    else if (a >= 3.5f) c = 6;
    else if (a > 2.5f) c = 5;
    else if (a >= 1.75f) c = 4;
    else if (a > 1.25f) c = 3;
    else if (a >= 0.75f) c = 2;
    else if (a > 0.25f) c = 1;
    else c = 0;
    return c | sign;
}

uint8_t fp8_e4m3_encode(float f) {
    const uint32_t fp8_max = 543u << 21;
    const uint32_t denorm_mask = 141u << 23;
    uint32_t fb = fbits(f);
    uint32_t sign = fb & 0x80000000u;
    fb ^= sign;
    uint8_t r;
    if (fb >= fp8_max) {
        r = 0x7E;
    } else if (fb < (121u << 23)) {
        r = static_cast<uint8_t>(fbits(bitsf(fb) + bitsf(denorm_mask)) - denorm_mask);
    } else {
        uint32_t mant_odd = (fb >> 20) & 1u;
        fb += ((7u - 127u) << 23) + 0x7FFFFu;
        fb += mant_odd;
        r = static_cast<uint8_t>(fb >> 20);
    }
    return static_cast<uint8_t>(r | (sign >> 24));
}

float fp4_e2m1_decode(uint8_t code) {
    static const float lut[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                  -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
    return lut[code & 0xF];
}

float fp8_e4m3_decode(uint8_t b) {
    int e = (b >> 3) & 0xF, m = b & 7;
    float v = e == 0 ? std::ldexp(static_cast<float>(m) / 8.0f, -6) : std::ldexp(1.0f + m / 8.0f, e - 7);
    return (b & 0x80) ? -v : v;
}

void mx_quantize_group_ref(const float *w, mx_mode mode, mx_scale_rule rule, uint8_t *packed, uint8_t *scale) {
    // max(|w|) with Python's max() semantics (a NaN in front stays, later NaNs are skipped);
    // the quantizer refuses non-finite groups, so this only matters for the element tests.
    float amax = std::fabs(w[0]);
    for (int i = 1; i < kMxGroup; ++i) {
        float a = std::fabs(w[i]);
        if (a > amax) amax = a;
    }
    uint8_t sb = mx_scale_byte(amax, mode, rule);
    *scale = sb;
    float inv = inv_scale(sb);
    if (mode == mx_mode::mxfp4) {
        for (int k = 0; k < kMxGroup / 2; ++k)
            packed[k] = static_cast<uint8_t>(fp4_e2m1_encode(w[2 * k] * inv) |
                                             (fp4_e2m1_encode(w[2 * k + 1] * inv) << 4));
    } else {
        for (int i = 0; i < kMxGroup; ++i) packed[i] = fp8_e4m3_encode(w[i] * inv);
    }
}

float load_as_f32(dtype t, const uint8_t *data, int64_t i) {
    switch (t) {
    case dtype::bf16: {
        uint16_t h;
        std::memcpy(&h, data + 2 * i, 2);
        return bf16_to_f32(h);
    }
    case dtype::f16: {
        uint16_t h;
        std::memcpy(&h, data + 2 * i, 2);
        return f16_to_f32(h);
    }
    case dtype::f32: {
        float f;
        std::memcpy(&f, data + 4 * i, 4);
        return f;
    }
    default: return 0.0f;
    }
}

// ------------------------------------------------------------- fast path --

namespace {

// Converts one group of 32 source elements to float32 bit patterns.
template <dtype T>
__attribute__((always_inline)) inline void load_group(const uint8_t *src, uint32_t *u) {
    if constexpr (T == dtype::bf16) {
        uint16_t h[kMxGroup];
        std::memcpy(h, src, sizeof h);
        for (int i = 0; i < kMxGroup; ++i) u[i] = static_cast<uint32_t>(h[i]) << 16;
    } else if constexpr (T == dtype::f32) {
        std::memcpy(u, src, 4 * kMxGroup);
    } else {
        uint16_t h[kMxGroup];
        std::memcpy(h, src, sizeof h);
        for (int i = 0; i < kMxGroup; ++i) u[i] = fbits(f16_to_f32(h[i]));
    }
}

// Quantizes rows*cols elements; returns the first non-finite element index or -1.
template <dtype T, mx_mode M>
__attribute__((always_inline)) inline int64_t quant_rows_impl(const uint8_t *src, int64_t n_groups,
                                                              mx_scale_rule rule, uint8_t *packed,
                                                              uint8_t *scales) {
    constexpr size_t esz = T == dtype::f32 ? 4 : 2;
    constexpr int out_bytes = M == mx_mode::mxfp4 ? 16 : 32;
    for (int64_t g = 0; g < n_groups; ++g) {
        alignas(64) uint32_t u[kMxGroup];
        load_group<T>(src + static_cast<size_t>(g) * kMxGroup * esz, u);
        uint32_t amax_bits = 0;
        for (int i = 0; i < kMxGroup; ++i) {
            uint32_t a = u[i] & 0x7fffffffu;
            amax_bits = a > amax_bits ? a : amax_bits;
        }
        if (amax_bits >= 0x7f800000u) {  // NaN or Inf somewhere in the group
            for (int i = 0; i < kMxGroup; ++i)
                if ((u[i] & 0x7fffffffu) >= 0x7f800000u) return g * kMxGroup + i;
        }
        uint8_t sb = scale_from_x(bitsf(amax_bits) / mx_elem_max(M), rule);
        scales[g] = sb;
        const float inv = inv_scale(sb);
        alignas(64) uint32_t c[kMxGroup];
        if constexpr (M == mx_mode::mxfp4) {
            for (int i = 0; i < kMxGroup; ++i) {
                float v = bitsf(u[i]) * inv;
                float a = bitsf(fbits(v) & 0x7fffffffu);
                uint32_t code = (a > 0.25f) + (a >= 0.75f) + (a > 1.25f) + (a >= 1.75f) + (a > 2.5f) +
                                (a >= 3.5f) + (a > 5.0f);
                c[i] = code | ((fbits(v) >> 28) & 0x8u);
            }
            uint8_t *o = packed + g * out_bytes;
            for (int k = 0; k < 16; ++k) o[k] = static_cast<uint8_t>(c[2 * k] | (c[2 * k + 1] << 4));
        } else {
            const uint32_t fp8_max = 543u << 21;
            const uint32_t denorm_mask = 141u << 23;
            for (int i = 0; i < kMxGroup; ++i) {
                uint32_t fb = fbits(bitsf(u[i]) * inv);
                uint32_t sign = fb & 0x80000000u;
                fb ^= sign;
                uint32_t r_sub = fbits(bitsf(fb) + bitsf(denorm_mask)) - denorm_mask;
                uint32_t r_norm = (fb + ((7u - 127u) << 23) + 0x7FFFFu + ((fb >> 20) & 1u)) >> 20;
                uint32_t r = fb >= fp8_max ? 0x7Eu : (fb < (121u << 23) ? r_sub : r_norm);
                c[i] = (r & 0xffu) | (sign >> 24);
            }
            uint8_t *o = packed + g * out_bytes;
            for (int k = 0; k < kMxGroup; ++k) o[k] = static_cast<uint8_t>(c[k]);
        }
    }
    return -1;
}

using kernel_fn = int64_t (*)(const uint8_t *, int64_t, mx_scale_rule, uint8_t *, uint8_t *);

#define MLXMTP_MX_KERNELS(SUFFIX, ATTR)                                                                    \
    template <dtype T, mx_mode M>                                                                          \
    ATTR int64_t kernel_##SUFFIX(const uint8_t *s, int64_t n, mx_scale_rule r, uint8_t *p, uint8_t *sc) { \
        return quant_rows_impl<T, M>(s, n, r, p, sc);                                                      \
    }

MLXMTP_MX_KERNELS(generic, )
#if defined(__x86_64__) && defined(__GNUC__)
MLXMTP_MX_KERNELS(avx2, __attribute__((target("avx2"))))
#define MLXMTP_HAVE_AVX2_KERNEL 1

// Hand-written AVX2 kernel for the common case, bf16 -> mxfp4.  Same formulas
// as quant_rows_impl (compare-count E2M1 encoding, sign from bit 31), tested
// byte-for-byte against the reference and the emulator.
__attribute__((target("avx2"))) int64_t kernel_avx2_bf16_fp4(const uint8_t *src, int64_t n_groups,
                                                            mx_scale_rule rule, uint8_t *packed, uint8_t *scales) {
    const __m256i absmask = _mm256_set1_epi32(0x7fffffff);
    const __m256 t1 = _mm256_set1_ps(0.25f), t2 = _mm256_set1_ps(0.75f), t3 = _mm256_set1_ps(1.25f),
                 t4 = _mm256_set1_ps(1.75f), t5 = _mm256_set1_ps(2.5f), t6 = _mm256_set1_ps(3.5f),
                 t7 = _mm256_set1_ps(5.0f);
    const __m256i eight = _mm256_set1_epi32(8);
    // gathers byte 0 of each 64-bit lane (k, k+1 of the pair-packed codes) into the low 4 bytes of each 128-bit lane
    const __m256i gather = _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                            0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    for (int64_t g = 0; g < n_groups; ++g) {
        const uint8_t *s = src + static_cast<size_t>(g) * 64;
        __m256i u[4];
        for (int k = 0; k < 4; ++k)
            u[k] = _mm256_slli_epi32(
                _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(s + 16 * k))), 16);
        __m256i m = _mm256_max_epu32(_mm256_max_epu32(_mm256_and_si256(u[0], absmask), _mm256_and_si256(u[1], absmask)),
                                     _mm256_max_epu32(_mm256_and_si256(u[2], absmask), _mm256_and_si256(u[3], absmask)));
        __m128i m4 = _mm_max_epu32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
        m4 = _mm_max_epu32(m4, _mm_shuffle_epi32(m4, 0x4E));
        m4 = _mm_max_epu32(m4, _mm_shuffle_epi32(m4, 0xB1));
        uint32_t amax_bits = static_cast<uint32_t>(_mm_cvtsi128_si32(m4));
        if (amax_bits >= 0x7f800000u) {
            for (int i = 0; i < kMxGroup; ++i) {
                uint16_t h;
                std::memcpy(&h, s + 2 * i, 2);
                if ((h & 0x7fffu) >= 0x7f80u) return g * kMxGroup + i;
            }
        }
        uint8_t sb = scale_from_x(bitsf(amax_bits) / 6.0f, rule);
        scales[g] = sb;
        const __m256 inv = _mm256_set1_ps(inv_scale(sb));
        uint32_t out[4];
        for (int k = 0; k < 4; ++k) {
            __m256 v = _mm256_mul_ps(_mm256_castsi256_ps(u[k]), inv);
            __m256i vb = _mm256_castps_si256(v);
            __m256 a = _mm256_castsi256_ps(_mm256_and_si256(vb, absmask));
            __m256i c = _mm256_setzero_si256();
            c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(a, t1, _CMP_GT_OQ)));
            c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(a, t2, _CMP_GE_OQ)));
            c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(a, t3, _CMP_GT_OQ)));
            c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(a, t4, _CMP_GE_OQ)));
            c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(a, t5, _CMP_GT_OQ)));
            c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(a, t6, _CMP_GE_OQ)));
            c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(a, t7, _CMP_GT_OQ)));
            c = _mm256_or_si256(c, _mm256_and_si256(_mm256_srli_epi32(vb, 28), eight));
            // each 64-bit lane: low dword = code[2j], high dword = code[2j+1] -> byte = lo | hi << 4
            __m256i pr = _mm256_or_si256(c, _mm256_srli_epi64(c, 28));
            __m256i by = _mm256_shuffle_epi8(pr, gather);
            uint32_t lo = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm256_castsi256_si128(by))) & 0xffffu;
            uint32_t hi = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm256_extracti128_si256(by, 1))) & 0xffffu;
            out[k] = lo | (hi << 16);
        }
        std::memcpy(packed + g * 16, out, 16);
    }
    return -1;
}
#endif

bool use_avx2() {
#ifdef MLXMTP_HAVE_AVX2_KERNEL
    static const bool ok = __builtin_cpu_supports("avx2");
    return ok && !g_force_generic.load(std::memory_order_relaxed);
#else
    return false;
#endif
}

template <mx_mode M>
kernel_fn pick(dtype t) {
#ifdef MLXMTP_HAVE_AVX2_KERNEL
    if (use_avx2()) {
        if constexpr (M == mx_mode::mxfp4)
            if (t == dtype::bf16) return kernel_avx2_bf16_fp4;
        switch (t) {
        case dtype::bf16: return kernel_avx2<dtype::bf16, M>;
        case dtype::f16: return kernel_avx2<dtype::f16, M>;
        case dtype::f32: return kernel_avx2<dtype::f32, M>;
        default: return nullptr;
        }
    }
#endif
    switch (t) {
    case dtype::bf16: return kernel_generic<dtype::bf16, M>;
    case dtype::f16: return kernel_generic<dtype::f16, M>;
    case dtype::f32: return kernel_generic<dtype::f32, M>;
    default: return nullptr;
    }
}

}  // namespace

const char *mx_kernel_name() { return use_avx2() ? "avx2" : "generic"; }
void mx_force_generic_kernel(bool on) { g_force_generic.store(on); }

int64_t mx_quantize_rows(dtype src, const uint8_t *src_data, int64_t rows, int64_t cols, mx_mode mode,
                         mx_scale_rule rule, uint8_t *packed, uint8_t *scales) {
    if (cols % kMxGroup != 0) fail(MLXMTP_ERR_INTERNAL, "mx_quantize_rows: %lld columns", static_cast<long long>(cols));
    kernel_fn k = mode == mx_mode::mxfp4 ? pick<mx_mode::mxfp4>(src) : pick<mx_mode::mxfp8>(src);
    if (!k) fail(MLXMTP_ERR_INTERNAL, "mx_quantize_rows: unsupported source dtype %s", dtype_name(src));
    return k(src_data, rows * cols / kMxGroup, rule, packed, scales);
}

void mx_dequantize(const uint8_t *packed, const uint8_t *scales, int64_t n, mx_mode mode, float *out) {
    static float fp8_lut[256];
    static bool init = [] {
        for (int b = 0; b < 256; ++b) fp8_lut[b] = fp8_e4m3_decode(static_cast<uint8_t>(b));
        return true;
    }();
    (void)init;
    for (int64_t g = 0; g < n / kMxGroup; ++g) {
        float s = e8m0_to_float(scales[g]);
        float *o = out + g * kMxGroup;
        if (mode == mx_mode::mxfp4) {
            const uint8_t *p = packed + g * 16;
            for (int k = 0; k < 16; ++k) {
                o[2 * k] = s * fp4_e2m1_decode(p[k] & 0xF);
                o[2 * k + 1] = s * fp4_e2m1_decode(p[k] >> 4);
            }
        } else {
            const uint8_t *p = packed + g * 32;
            for (int k = 0; k < 32; ++k) o[k] = s * fp8_lut[p[k]];
        }
    }
}

}  // namespace mlxmtp::detail
