#include "ops/layer_ops.h"

#include "ops/basic_ops.h"
#include "ops/linear.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace mlxmtp::detail::ops {

namespace {

std::string u32(uint32_t v) { return std::to_string(v); }

}  // namespace

void gdn_conv(command_stream &cs, const gdn_dims &d, const buffer_span &qkv, const buffer_span &w,
              const buffer_span &state_in, const buffer_span &state_out, const buffer_span &u,
              const buffer_span &snapshots) {
    if (d.K < 1 || d.K > kMaxConvK) fail(MLXMTP_ERR_INTERNAL, "gdn_conv supports K = 1..%u, got %u", kMaxConvK, d.K);
    if (d.T == 0) return;
    const bool snap = snapshots.valid();
    if (!snap && !state_out.valid()) fail(MLXMTP_ERR_INTERNAL, "gdn_conv: the new state needs snapshots or state_out");
    struct {
        uint32_t T, C, K, snap;
    } pc{d.T, d.C(), d.K, snap ? 1u : 0u};
    const pipeline &p = cs.device().kernels().get("gdn_conv_f32");
    // The binding the kernel leaves unwritten aliases `u`.
    cs.dispatch(p, {qkv, w, state_in, u, snap ? snapshots : u, snap ? u : state_out}, pc, (d.C() + 127) / 128);
}

void gdn_recurrence(command_stream &cs, const gdn_dims &d, const buffer_span &u, const buffer_span &a,
                    const buffer_span &b, const buffer_span &A_log, const buffer_span &dt_bias,
                    const buffer_span &state_in, const buffer_span &state_out, const buffer_span &o,
                    const buffer_span &snapshots, const gdn_norm_epilogue *norm) {
    if (d.Hk == 0 || d.Hv % d.Hk) fail(MLXMTP_ERR_INTERNAL, "gdn_recurrence: Hv %u not a multiple of Hk %u", d.Hv, d.Hk);
    if (d.dk < 1 || d.dk > kMaxGdnKeyDim)
        fail(MLXMTP_ERR_INTERNAL, "gdn_recurrence supports dk <= %u, got %u", kMaxGdnKeyDim, d.dk);
    if (d.T == 0) return;
    const bool snap = snapshots.valid();
    if (!snap && !state_out.valid())
        fail(MLXMTP_ERR_INTERNAL, "gdn_recurrence: the new state needs snapshots or state_out");
    const uint32_t bv = d.dv <= 16 ? 16 : 32;
    const uint32_t nblk = (d.dv + bv - 1) / bv;
    if (norm && (!norm->z.valid() || !norm->w.valid() || !norm->y.valid() || norm->arrivals.size < 4ull * d.Hv))
        fail(MLXMTP_ERR_INTERNAL, "gdn_recurrence: the norm epilogue needs z, w, y and %u arrival counters", d.Hv);
    if (norm && norm->last_stage) cs.claim_stage(*norm->last_stage, "gdn_recurrence: the norm arrival counters");
    struct {
        uint32_t T, Hk, Hv, dv, nblk, snap;
        float eps;
        uint32_t y16_t0;
    } pc{d.T, d.Hk, d.Hv, d.dv, nblk, snap ? 1u : 0u, d.eps, norm ? norm->y_pairs_t0 : 0u};
    define_list defs{{"DK", u32(d.dk)}, {"BV", u32(bv)}};
    if (norm) defs.emplace_back("NORM_EPILOGUE", "1");
    if (norm && norm->y_pairs.valid()) defs.emplace_back("XP_OUT", norm->y_pairs_f16 ? "2" : "1");
    const pipeline &p = cs.device().kernels().get("gdn_recurrence_f32", defs);
    // The binding the kernel leaves unwritten aliases `o`.
    std::vector<buffer_span> binds{u, a, b, A_log, dt_bias, state_in, o, snap ? snapshots : o, snap ? o : state_out};
    if (norm) binds.insert(binds.end(), {norm->z, norm->w, norm->y, norm->arrivals});
    if (norm && norm->y_pairs.valid()) binds.push_back(norm->y_pairs);
    cs.dispatch(p, binds, &pc, sizeof(pc), d.Hv * nblk);
}

void gated_rms_norm(command_stream &cs, const gdn_dims &d, const buffer_span &o, const buffer_span &z,
                    const buffer_span &w, const buffer_span &y) {
    const uint32_t rows = d.T * d.Hv;
    if (rows == 0) return;
    struct {
        uint32_t rows, dv;
        float eps;
    } pc{rows, d.dv, d.eps};
    const pipeline &p = cs.device().kernels().get("gated_rms_norm_f32");
    uint32_t gx, gy;
    grid_1d(cs.device(), rows, &gx, &gy);
    cs.dispatch(p, {o, z, w, y}, pc, gx, gy);
}

void attn_prepare(command_stream &cs, const attn_dims &d, const buffer_span &qg, const buffer_span &k,
                  const buffer_span &v, const buffer_span &q_norm, const buffer_span &k_norm,
                  const buffer_span &positions, const buffer_span &q_out, const buffer_span &k_cache,
                  const buffer_span &v_cache) {
    if (d.hd > kMaxAttnHeadDim || d.rot > d.hd || d.rot % 2)
        fail(MLXMTP_ERR_INTERNAL, "attn_prepare: bad head_dim %u / rotary dims %u", d.hd, d.rot);
    if (d.cache_pos + d.T > d.max_ctx)
        fail(MLXMTP_ERR_INTERNAL, "attn_prepare: %u + %u tokens exceed the cache (%u)", d.cache_pos, d.T, d.max_ctx);
    if (d.T == 0) return;
    struct {
        uint32_t T, Hq, Hkv, hd, rot, sec_h, sec_w;
        float base_hi, base_lo, eps;
        uint32_t cache_pos, max_ctx;
    } pc{d.T, d.Hq, d.Hkv, d.hd, d.rot, d.sec_h, d.sec_w, 0.f, 0.f, d.eps, d.cache_pos, d.max_ctx};
    // inv_freq[i] = theta^(-2i/rot) = base^i; the kernel raises a double-float base.
    const double base = d.rot ? std::pow(double(d.theta), -2.0 / d.rot) : 1.0;
    pc.base_hi = float(base);
    pc.base_lo = float(base - double(pc.base_hi));
    const pipeline &p = cs.device().kernels().get("attn_prepare_f32");
    cs.dispatch(p, {qg, k, v, q_norm, k_norm, positions, q_out, k_cache, v_cache}, pc, d.Hq + d.Hkv, d.T);
}

void attn_core(command_stream &cs, const attn_dims &d, const buffer_span &q, const buffer_span &qg,
               const buffer_span &k_cache, const buffer_span &v_cache, const buffer_span &out,
               const attn_split *split, const buffer_span &out_pairs, bool out_f16) {
    if (d.Hkv == 0 || d.Hq % d.Hkv) fail(MLXMTP_ERR_INTERNAL, "attn_core: Hq %u not a multiple of Hkv %u", d.Hq, d.Hkv);
    if (d.hd > kMaxAttnHeadDim)
        fail(MLXMTP_ERR_INTERNAL, "attn_core supports head_dim <= %u, got %u", kMaxAttnHeadDim, d.hd);
    if (d.T == 0) return;
    const uint32_t dpt = (d.hd + 127) / 128;
    struct {
        uint32_t T, Hq, Hkv, hd, cache_pos, max_ctx;
        float scale;
        uint32_t split_keys, max_splits;
    } pc{d.T, d.Hq, d.Hkv, d.hd, d.cache_pos, d.max_ctx, float(1.0 / std::sqrt(double(d.hd))), 0, 1};
    define_list defs{{"DPT", u32(dpt)}};
    if (out_pairs.valid()) defs.emplace_back("XP_OUT", out_f16 ? "2" : "1");  // the pairs at binding 7
    if (!split) {
        const pipeline &p = cs.device().kernels().get("attn_core_f32", defs);
        if (out_pairs.valid())  // bindings 5 and 6 (the split's) unused
            cs.dispatch(p, {q, qg, k_cache, v_cache, out, out, out, out_pairs}, pc, d.Hq, d.T);
        else
            cs.dispatch(p, {q, qg, k_cache, v_cache, out}, pc, d.Hq, d.T);
        return;
    }
    if (split->split_keys == 0 || split->max_splits == 0)
        fail(MLXMTP_ERR_INTERNAL, "attn_core: split_keys and max_splits must be positive");
    if (split->partials.size < 4ull * d.T * d.Hq * split->max_splits * (d.hd + 2) ||
        split->arrivals.size < 4ull * d.T * d.Hq)
        fail(MLXMTP_ERR_INTERNAL, "attn_core: split scratch too small for %u tokens", d.T);
    cs.claim_stage(split->last_stage, "attn_core: a split scratch");
    pc.split_keys = split->split_keys, pc.max_splits = split->max_splits;
    // The grid's split dimension covers the query that sees the most keys.
    const uint64_t most = uint64_t(d.cache_pos) + d.T;
    const uint32_t S = static_cast<uint32_t>(
        std::min<uint64_t>((most + split->split_keys - 1) / split->split_keys, split->max_splits));
    defs.emplace_back("SPLIT", "1");
    const pipeline &p = cs.device().kernels().get("attn_core_f32", defs);
    if (out_pairs.valid())
        cs.dispatch(p, {q, qg, k_cache, v_cache, out, split->partials, split->arrivals, out_pairs}, pc, d.Hq, d.T, S);
    else
        cs.dispatch(p, {q, qg, k_cache, v_cache, out, split->partials, split->arrivals}, pc, d.Hq, d.T, S);
}

void swiglu(command_stream &cs, const buffer_span &gate, const buffer_span &up, const buffer_span &y, uint32_t n) {
    if (n == 0) return;
    struct {
        uint32_t n;
    } pc{n};
    const pipeline &p = cs.device().kernels().get("swiglu_f32");
    uint32_t gx, gy;
    grid_1d(cs.device(), (n + 255) / 256, &gx, &gy);
    cs.dispatch(p, {gate, up, y}, pc, gx, gy);
}

}  // namespace mlxmtp::detail::ops
