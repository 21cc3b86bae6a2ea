// Process-wide knobs of the kernel launchers and the session's kernel
// choices, for benchmarks, A/B runs and tests (0 / false / -1: the defaults).
// Read when work is recorded (the attention split sizes: when a session is
// created); not meant to change while other threads record.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlxmtp::detail::ops {

struct kernel_tuning {
    uint32_t matvec_rows = 0;    // rows per subgroup in matvec (1..8)
    uint32_t matvec_ksplit = 0;  // parts of K per row set (1, 2, 4, 8)
    uint32_t matvec_unroll = 0;  // units whose loads a lane issues together
    uint32_t unroll_from_cols = 0, unroll_from_value = 0;  // from this many columns on, this unroll (A/B)
    uint32_t matvec_mx_words = 0;  // MX words per lane unit (1, 2, 4; 0: per format)
    bool force_matvec = false;   // T > 16 through matvec too
    uint32_t matmul_rows_tile = 0;  // prefill matmul rows per workgroup (64, 128; 0: by the weight's rows)
    int32_t glu_max_cols = -1;   // linear_matvec_glu for chunks of up to this many tokens (-1: glu_fused_max_cols' default)
    uint32_t glu_rows = 0;       // rows of G (and of U) per subgroup in linear_matvec_glu (1..8)
    bool unfused_gdn_norm = false;  // decode / verify GDN gated norm as its own kernel (A/B against the
                                    // recurrence's epilogue, ops::gdn_norm_epilogue)
    uint32_t attn_split_keys = 0;   // decode / verify attention split-K: keys per split (ops::attn_split; 0: 512)
    uint32_t attn_max_splits = 0;   // and at most this many splits (0: 32; 1: no split)
    bool matvec_scale_words = false;  // MX scales read as 32-bit words even with 8-bit storage (A/B)
    bool matvec_scale_clamp = false;  // clamp scale bytes in the kernel as well (A/B)
    // Models opened while this is set (tests, benchmarks) keep a repacked copy
    // of each eligible MXFP4 weight and run decode / verify products through
    // the fragment-decoding tensor-core matvec (ops/linear_frag.h; its
    // emulation without VK_NV_cooperative_matrix), as MLXMTP_MODEL_TENSOR_CORES
    // does natively.
    bool frag_matvec = false;
    // With emulated frag copies (lavapipe), prefill products (T > 16) too run
    // through the fragment kernel, as native copies always do (tests;
    // otherwise the emulation's prefill takes the matmul).  Set while a model
    // opens, its matrices' standard codes are dropped as natively
    // (engine_model::frag_drops_codes).
    bool frag_prefill = false;
    // Frag copies made while this is set keep the standard column order
    // (no matvec_frag.comp XQ: A/B runs).
    bool frag_no_x_quads = false;
    // Sessions (with x-quad frag copies) have the producers of the fragment
    // products' inputs (the norms, the SwiGLU epilogue, the GDN gated norm,
    // the attention core) split x into (hi, lo) pairs (matvec_frag.comp XP;
    // the same bits), except those created while this is set (A/B runs).
    bool frag_no_presplit = false;
    // With pre-split x, products of more columns than this split x
    // themselves anyway (the same bits; 0: none do; A/B runs).
    uint32_t frag_presplit_max_cols = 0;
    // Sessions created while this is set (with x16 frag copies) have the
    // norms write xn's fp16 token-pair halves at prefill sizes too, and the
    // prefill products of xn (qkv, z, a, b, q, k, v, gate, up) read them
    // (matvec_frag.comp XP; the same bits; A/B).
    bool frag_prefill_pairs = false;
    // Prefill products (plain, past 16 columns, x16 copies) with the warps of
    // a workgroup on consecutive row tiles, each over the whole K, instead of
    // on parts of K (matvec_frag.comp WROWS: the same bits; the workgroup's
    // warps then share x's reads; A/B).  WNSG in frag_defines: its warps per
    // workgroup (default 8).
    bool frag_prefill_rows = false;
    // Frag copies made while this is set split x into hi / lo fp16 halves (22
    // significant bits, 4 tokens per column group) instead of rounding it to
    // fp16 (11 bits, two tokens per B element pair: 8 per group; matvec_frag.comp
    // X16, the default), as MLXMTP_MODEL_PRECISE_ACTIVATIONS does: other bits.
    bool frag_x_split = false;
    // Models opened while this is set keep their bf16 weights (a bf16 model's,
    // a quantized model's MTP head) in the standard layout and kernels, where
    // they otherwise get frag copies like MXFP4's (fp16 elements times a
    // power of two per 32-column block: matvec_frag.comp AF16,
    // frag_repack_bf16.comp; A/B runs).
    bool frag_no_bf16 = false;
    // Frag copies made while this is set keep reading their scales in the
    // standard [rows][cols / 32] layout (no fragment-ordered scale words:
    // matvec_frag.comp FSC=0, the same bits; A/B runs).
    bool frag_no_scale_copy = false;
    // MXFP4 frag copies made while this is set keep the signs at 12 + p
    // (before 2026-12-06's ops::frag_sign_bit; pair 2 then takes two shifts
    // to decode: matvec_frag.comp / frag_repack_mxfp4.comp SIGNS12; A/B runs).
    bool frag_signs12 = false;
    // Frag copies made while this is set keep the earlier order, tile first
    // ([tile][64-column group]); by default they are group first, so that
    // the workgroups reading the same step of their tiles read adjacent
    // pieces (matvec_frag.comp / frag_repack_*.comp KMAJOR; the same bits;
    // H100 27B MXFP4 decode ~3% faster with contiguous K parts; A/B runs).
    bool frag_tile_major = false;
    // Sessions created while this is nonzero record, beside the stages that
    // leave memory idle at decode / verify sizes (the GDN recurrence, the
    // attention core), a read of the next output projection's weight into
    // the L2 cache with this many workgroups (ops::l2_prefetch; the same
    // results; A/B runs).
    uint32_t l2_prefetch = 0;
    // Timing only (wrong results; verify-bench): decode / verify layers
    // record no residual add + RMSNorm stages (what those stages cost), or
    // sessions record no barriers between their dispatches at all (what the
    // barriers cost: the floor a barrier-free schedule could reach).
    bool diag_skip_norms = false;
    bool diag_no_barriers = false;
    // Sessions created while this is set keep the residual add + RMSNorm
    // stages at decode / verify sizes instead of the spread norm
    // (engine_session's spread_, ops::frag_norm_in; A/B).
    bool no_spread_norm = false;
    bool no_spread_gdn = false;  // the spread norm, but GDN layers keep their input norm stage (A/B)
    uint32_t norm_slices = 0;  // RMSNorm workgroups per row (0: by the rows, rms_norm_f32.comp's slices; A/B)
    uint32_t frag_prefill_cols = 0;  // columns per fragment-kernel dispatch in prefill (0: 8 with hi / lo columns, else 16)
    std::vector<std::pair<std::string, std::string>> frag_defines;  // extra matvec_frag defines (NSG, R, PF, ...)
    std::vector<std::pair<std::string, std::string>> matvec_defines;  // extra matvec defines (A/B, diagnostics)
    std::vector<std::pair<std::string, std::string>> matmul_defines;  // extra prefill matmul defines (A/B)
    // Appends "NAME" or "NAME=VALUE" (no value: "1") to matvec_defines.
    void add_matvec_define(const std::string &spec);
    // The same for matmul_defines.
    void add_matmul_define(const std::string &spec);
    // The same for frag_defines.
    void add_frag_define(const std::string &spec);
};
kernel_tuning &tuning();

// One frag define (NAME, VALUE) in tuning().frag_defines while it lives,
// also on a throw (tests, kernel checks; not thread-safe, as tuning()).
class frag_define_scope {
public:
    frag_define_scope(const char *name, const char *value) : n_(tuning().frag_defines.size()) {
        tuning().frag_defines.emplace_back(name, value);
    }
    ~frag_define_scope() { tuning().frag_defines.resize(n_); }
    frag_define_scope(const frag_define_scope &) = delete;
    frag_define_scope &operator=(const frag_define_scope &) = delete;

private:
    size_t n_;
};

}  // namespace mlxmtp::detail::ops
