#include "session/session.h"

#include "ops/basic_ops.h"
#include "ops/layer_ops.h"
#include "ops/linear.h"
#include "ops/linear_frag.h"

#include <algorithm>
#include <cstring>

namespace mlxmtp::detail {

namespace {
uint64_t f4(uint64_t n) { return n * 4; }
// Most logits rows one forward chunk returns: evaluations that read every
// row's logits run in chunks of this many tokens (or max_batch if smaller).
constexpr uint32_t kLogitsRowsPerChunk = 64;
}  // namespace

engine_session::engine_session(const engine_model &m, const session_options &opt) : m_(m), opt_(opt) {
    const text_config &c = m.text();
    vk_device &dev = m.device();
    n_ctx_ = opt.n_ctx ? opt.n_ctx : static_cast<uint32_t>(std::min<int64_t>(c.max_position_embeddings, 4096));
    if (n_ctx_ == 0) n_ctx_ = 4096;
    window_ = opt.snapshot_window;
    ring_ = window_ + 2;  // +1: the generator re-evaluates the last kept token after a rollback
    max_batch_ = std::max<uint32_t>(1, opt.max_batch);
    logits_cap_ = std::min<uint32_t>(max_batch_, kLogitsRowsPerChunk);
    state_arena_ = std::make_unique<arena>(dev, false, 0, "session state");
    scratch_arena_ = std::make_unique<arena>(dev, false, 0, "session scratch");
    io_arena_ = std::make_unique<arena>(dev, true, 0, "session I/O");
    cs_ = std::make_unique<command_stream>(dev);
    cs_->diag_no_barriers = ops::tuning().diag_no_barriers;

    const uint64_t H = c.hidden_size, F = c.intermediate_size, V = c.vocab_size, B = max_batch_;
    const uint64_t Kd = c.linear_num_key_heads * c.linear_key_head_dim;
    const uint64_t Vd = c.linear_num_value_heads * c.linear_value_head_dim;
    const uint64_t C = 2 * Kd + Vd, Hv = c.linear_num_value_heads, K = c.linear_conv_kernel_dim;
    const uint64_t Hq = c.num_attention_heads, Hkv = c.num_key_value_heads, hd = c.head_dim;
    const uint64_t state_sz = f4(Hv * c.linear_key_head_dim * c.linear_value_head_dim), conv_sz = f4((K - 1) * C);

    for (const layer_weights &L : m.layers()) {
        if (L.kind == layer_kind::linear_attention) {
            gdn_state g;
            g.state = state_arena_->alloc(state_sz, "recurrent state");
            g.conv = state_arena_->alloc(conv_sz, "conv state");
            g.snap_state = state_arena_->alloc(state_sz * ring_, "recurrent snapshots");
            g.snap_conv = state_arena_->alloc(conv_sz * ring_, "conv snapshots");
            gdn_.push_back(g);
            kv_.push_back({});
        } else {
            kv_state kv;
            kv.k = state_arena_->alloc(f4(Hkv * n_ctx_ * hd), "KV cache");
            kv.v = state_arena_->alloc(f4(Hkv * n_ctx_ * hd), "KV cache");
            kv_.push_back(kv);
            gdn_.push_back({});
        }
    }
    if (std::any_of(gdn_.begin(), gdn_.end(), [](const gdn_state &g) { return g.state.valid(); }))
        gdn_arrivals_ = state_arena_->alloc(4 * Hv, "GDN norm arrival counters");
    l2_prefetch_groups_ = ops::tuning().l2_prefetch;
    if (l2_prefetch_groups_)
        for (buffer_span &s : prefetch_sinks_) s = state_arena_->alloc(16, "L2 prefetch sink");
    if (std::any_of(kv_.begin(), kv_.end(), [](const kv_state &k) { return k.k.valid(); }) ||
        (opt.mtp && m.mtp().present)) {
        // Split-K attention for decode / verify chunks (long contexts).
        const ops::kernel_tuning &tu = ops::tuning();
        attn_split_.split_keys = tu.attn_split_keys ? tu.attn_split_keys : 512;
        attn_split_.max_splits = tu.attn_max_splits ? tu.attn_max_splits : 32;
        const uint64_t rows = uint64_t(ops::kMatvecMaxCols) * Hq;
        attn_split_.partials = state_arena_->alloc(f4(rows * attn_split_.max_splits * (hd + 2)), "attention split partials");
        attn_split_.arrivals = state_arena_->alloc(4 * rows, "attention split arrival counters");
    }
    auto s = [&](uint64_t floats, const char *what) { return scratch_arena_->alloc(f4(std::max<uint64_t>(floats, 1)), what); };
    x_ = s(B * H, "x"), x2_ = s(B * H, "x2"), xn_ = s(B * H, "xn"), mix_ = s(B * H, "mix"), hn_ = s(B * H, "hn");
    qkv_ = s(B * C, "qkv"), u_ = s(B * C, "u"), z_ = s(B * Vd, "z"), o_ = s(B * Vd, "o"), y_ = s(B * Vd, "y");
    a_ = s(B * Hv, "a"), b_ = s(B * Hv, "b");
    qg_ = s(B * Hq * 2 * hd, "qg"), k_ = s(B * Hkv * hd, "k"), v_ = s(B * Hkv * hd, "v");
    q_ = s(B * Hq * hd, "q"), att_ = s(B * Hq * hd, "attn");
    gate_ = s(B * F, "gate"), up_ = s(B * F, "up"), act_ = s(B * F, "act");
    presplit_ = !ops::tuning().frag_no_presplit && !m.layers().empty() && m.layers()[0].gate.frag.x_quads;
    x16_ = presplit_ && m.layers()[0].gate.frag.x16;
    // The spread norm: every product whose x a norm gives, and every output
    // projection, on x-quad frag copies.
    spread_ = !ops::tuning().no_spread_norm && H % 64 == 0 && H <= 16384 && !m.layers().empty();
    spread_gdn_ = !ops::tuning().no_spread_gdn;
    auto quads = [](const ops::device_weight &w) { return w.frag.valid() && w.frag.x_quads && w.frag.x16; };
    for (const layer_weights &L : m.layers()) {
        spread_ = spread_ && quads(L.gate) && quads(L.up) && quads(L.down) && ops::frag_glu_fusable(L.gate, L.up);
        if (L.kind == layer_kind::linear_attention) {
            spread_ = spread_ && quads(L.gdn.out);
            spread_gdn_ = spread_gdn_ && quads(L.gdn.qkv) && quads(L.gdn.z) && quads(L.gdn.a) && quads(L.gdn.b);
        }
        else
            spread_ = spread_ && quads(L.attn.q) && quads(L.attn.k) && quads(L.attn.v) && quads(L.attn.o);
    }
    spread_gdn_ = spread_gdn_ && spread_;
    if (spread_) part_ = s(uint64_t(ops::kMatvecMaxCols) * H / 16, "norm partials");
    if (spread_ && std::any_of(ops::tuning().frag_defines.begin(), ops::tuning().frag_defines.end(),
                               [](const auto &e) { return e.first.rfind("KSPLIT", 0) == 0; })) {
        // The residual and GLU products' K split over workgroups (an A/B define).
        const uint32_t rows = static_cast<uint32_t>(std::max<uint64_t>(H, 2 * F));  // (GLU: two sums per output)
        ksplit_.partials = s(ops::frag_ksplit_floats(rows), "K split partials");
        ksplit_.arrivals = state_arena_->alloc(4 * ops::frag_ksplit_counters(rows), "K split arrival counters");
    }
    // (prefill_pairs_: a chunk's fp16 token-pair halves, (B + 1) / 2 x H words.)
    prefill_pairs_ = x16_ && ops::tuning().frag_prefill_pairs;
    const uint64_t xn_pair_rows = std::max<uint64_t>(ops::kMatvecMaxCols, prefill_pairs_ ? (B + 1) / 2 : 0);
    if (presplit_ || spread_) xnp_ = s(xn_pair_rows * H, "xn pairs");  // spread: u
    if (presplit_) {
        actp_ = s(uint64_t(ops::kMatvecMaxCols) * F, "act pairs");
        mixp_ = s(uint64_t(ops::kMatvecMaxCols) * std::max(Vd, Hq * hd), "mixer output pairs");
    }
    const uint64_t L = logits_cap_;
    logits_dev_ = s(L * V, "logits");
    argmax_part_ = s(ops::argmax_scratch_bytes(static_cast<uint32_t>(L), static_cast<uint32_t>(V)) / 4, "argmax partials");
    mtp_ = opt.mtp && m.mtp().present;
    if (mtp_) {
        mtp_kv_.k = state_arena_->alloc(f4(Hkv * n_ctx_ * hd), "MTP KV cache");
        mtp_kv_.v = state_arena_->alloc(f4(Hkv * n_ctx_ * hd), "MTP KV cache");
        hring_ = state_arena_->alloc(f4(uint64_t(ring_) * H), "hidden ring");
        mtp_h_ = s(B * H, "mtp h"), mtp_cat_ = s(B * 2 * H, "mtp cat"), mtp_y_ = s(B * H, "mtp y");
        mtp_ids_io_ = io_arena_->alloc(4 * B, "mtp ids");
        mtp_pos_io_ = io_arena_->alloc(4 * 3 * B, "mtp positions");
        draft_io_ = io_arena_->alloc(256 * 17, "draft tokens");
        draft_pos_io_ = io_arena_->alloc(256 * 17, "draft positions");
    }
    ids_io_ = io_arena_->alloc(4 * B, "ids");
    pos_io_ = io_arena_->alloc(4 * 3 * B, "positions");
    argmax_io_ = io_arena_->alloc(4 * L, "argmax");
    logits_io_ = io_arena_->alloc(f4(L * V), "logits readback");
    reset();
}

engine_session::~engine_session() = default;

void engine_session::reset() {
    for (gdn_state &g : gdn_)
        if (g.state.valid()) {
            cs_->fill_zero(g.state);
            cs_->fill_zero(g.conv);
        }
    if (gdn_arrivals_.valid()) cs_->fill_zero(gdn_arrivals_);
    if (attn_split_.arrivals.valid()) cs_->fill_zero(attn_split_.arrivals);
    if (ksplit_.arrivals.valid()) cs_->fill_zero(ksplit_.arrivals);
    cs_->barrier();
    cs_->submit();
    history_.clear();
    slot_pos_.assign(ring_, -1);
    logits_.clear();
    logits_rows_ = 0;
    last_argmax_ = -1;
    mtp_len_ = 0;
    row_argmax_.clear();
}

uint64_t engine_session::snapshot_bytes() const {
    uint64_t n = 0;
    for (const gdn_state &g : gdn_) n += g.snap_state.size + g.snap_conv.size;
    n += hring_.size;  // MTP: post-norm hidden rows of the snapshot window
    return n;
}

uint64_t engine_session::state_bytes() const { return state_arena_->used_bytes(); }

void engine_session::check_abort() {
    if (opt_.abort && opt_.abort()) fail(MLXMTP_ERR_ABORTED, "aborted by the caller");
}

void engine_session::eval(const int32_t *ids, uint32_t n, logits_rows rows) {
    if (n == 0) fail(MLXMTP_ERR_INVALID_ARG, "no tokens to evaluate");
    if (uint64_t(position()) + n > n_ctx_)
        fail(MLXMTP_ERR_CONTEXT_FULL, "context full: %u tokens + %u new exceed the limit of %u", position(), n, n_ctx_);
    const int64_t V = m_.text().vocab_size;
    for (uint32_t i = 0; i < n; ++i)
        if (ids[i] < 0 || ids[i] >= V) fail(MLXMTP_ERR_INVALID_ARG, "token id %d is outside the vocabulary (%lld)", ids[i], static_cast<long long>(V));
    logits_.clear();
    logits_rows_ = 0;
    row_argmax_.clear();
    // Chunks that return every row's logits (or the MTP head's) are limited
    // to the logits scratch; otherwise only the last row is read back.
    const bool every_row = rows == logits_rows::all || rows == logits_rows::argmax_all || capture_mtp_;
    const uint32_t chunk = every_row ? logits_cap_ : max_batch_;
    for (uint32_t off = 0; off < n; off += chunk) {
        check_abort();
        uint32_t T = std::min(chunk, n - off);
        bool last = off + T == n;
        forward_chunk(ids + off, T, (last || rows == logits_rows::all || rows == logits_rows::argmax_all) ? rows : logits_rows::none);
    }
}

void engine_session::forward_chunk(const int32_t *ids, uint32_t T, logits_rows rows) {
    const text_config &c = m_.text();
    const uint32_t H = static_cast<uint32_t>(c.hidden_size), V = static_cast<uint32_t>(c.vocab_size);
    const float eps = static_cast<float>(c.rms_norm_eps);
    const uint32_t p0 = position();
    command_stream &cs = *cs_;

    // Inputs go to host-visible memory the kernels read directly.
    std::memcpy(ids_io_.mapped, ids, 4 * T);
    std::vector<int32_t> pos(3 * T);
    for (uint32_t r = 0; r < 3; ++r)
        for (uint32_t t = 0; t < T; ++t) pos[r * T + t] = static_cast<int32_t>(p0 + t);
    std::memcpy(pos_io_.mapped, pos.data(), 4 * 3 * T);

    cs.section("embed");
    ops::embed(cs, m_.embed(), ids_io_, x_, T);
    cs.barrier();
    const std::vector<layer_weights> &layers = m_.layers();
    cs.section("norm");
    ops::rms_norm(cs, x_, layers[0].input_norm, xn_, T, H, eps, true, xnp(T), x16_);
    cs.barrier();
    for (size_t li = 0; li < layers.size(); ++li) {
        block(cs, layers[li], li, T, p0, pos_io_, false, li + 1 < layers.size() ? &layers[li + 1].input_norm : nullptr);
        // Hand work to the GPU early and then every few layers, so that it
        // runs while the CPU records the rest.
        if (li == 1 || li % 8 == 7) cs.flush();
    }
    cs.section("head");
    const bool all_rows = rows == logits_rows::all || rows == logits_rows::argmax_all;
    uint32_t nrows = all_rows ? T : (rows == logits_rows::none ? 0 : 1);
    // The lm_head's x pairs (xnp_'s buffer: the last layer's products have
    // read it), where its rows are the norm's from the first (an MTP
    // session's last row of several reads its fp32 x).
    const buffer_span hp = nrows && (!mtp_ || all_rows || T == 1) ? pairs_for(m_.lm_head(), nrows, xnp_) : buffer_span{};
    if (mtp_) {
        // Every row's post-norm hidden: the MTP rows and the hidden ring need them.
        ops::rms_norm(cs, x_, m_.final_norm(), hn_, T, H, eps, true, hp, x16_);
        cs.barrier();
    } else if (nrows) {
        buffer_span src = all_rows ? x_ : x_.sub(uint64_t(T - 1) * H * 4, uint64_t(H) * 4);
        ops::rms_norm(cs, src, m_.final_norm(), hn_, nrows, H, eps, true, hp, x16_);
        cs.barrier();
    }
    if (nrows) {
        buffer_span src = (mtp_ && !all_rows) ? hn_.sub(uint64_t(T - 1) * H * 4, uint64_t(H) * 4) : hn_;
        ops::linear(cs, m_.lm_head(), src, logits_dev_, nrows, hp);
        cs.barrier();
        ops::argmax(cs, logits_dev_, argmax_io_, nrows, static_cast<uint32_t>(m_.usable_vocab()), V, argmax_part_);
        if (rows != logits_rows::argmax && rows != logits_rows::argmax_all)
            cs.copy(logits_dev_, logits_io_, uint64_t(nrows) * V * 4);
    }
    uint32_t mtp_T = 0;
    cs.section("mtp");
    if (mtp_) {
        const uint64_t hb = uint64_t(H) * 4;
        // MTP rows: position p0-1 (h from the ring, x = ids[0]) and p0 .. p0+T-2.
        if (capture_mtp_ && nrows && rows != logits_rows::argmax && rows != logits_rows::argmax_all)
            fail(MLXMTP_ERR_INTERNAL, "MTP logits capture needs an eval without host logits");
        uint32_t pos0;
        buffer_span hsrc;
        if (p0 > 0) {
            if (mtp_len_ != p0 - 1 || slot_pos_[(p0 - 1) % ring_] != int64_t(p0) - 1)
                fail(MLXMTP_ERR_INTERNAL, "MTP cache out of step (%u rows at position %u)", mtp_len_, p0);
            cs.copy(hring_.sub(((p0 - 1) % ring_) * hb, hb), mtp_h_, hb);
            if (T > 1) cs.copy(hn_, mtp_h_.sub(hb, (T - 1) * hb), (T - 1) * hb);
            std::memcpy(mtp_ids_io_.mapped, ids, 4 * T);
            mtp_T = T, pos0 = p0 - 1, hsrc = mtp_h_;
        } else {
            if (T > 1) std::memcpy(mtp_ids_io_.mapped, ids + 1, 4 * (T - 1));
            mtp_T = T - 1, pos0 = 0, hsrc = hn_;
        }
        cs.barrier();
        // Keep the hidden rows the snapshot ring covers (after reading slot p0-1 above).
        for (uint32_t t = (T > ring_ ? T - ring_ : 0); t < T; ++t)
            cs.copy(hn_.sub(t * hb, hb), hring_.sub(((p0 + t) % ring_) * hb, hb), hb);
        if (mtp_T) {
            std::vector<int32_t> mp(3 * mtp_T);
            for (uint32_t r = 0; r < 3; ++r)
                for (uint32_t t = 0; t < mtp_T; ++t) mp[r * mtp_T + t] = static_cast<int32_t>(pos0 + t);
            std::memcpy(mtp_pos_io_.mapped, mp.data(), 4 * mp.size());
            mtp_rows_forward(cs, hsrc, mtp_ids_io_, mtp_T, pos0, mtp_pos_io_, capture_mtp_, {});
            if (capture_mtp_) cs.copy(logits_dev_, logits_io_, uint64_t(mtp_T) * V * 4);
        }
    }
    cs.submit();
    history_.insert(history_.end(), ids, ids + T);
    for (uint32_t t = (T > ring_ ? T - ring_ : 0); t < T; ++t) slot_pos_[(p0 + t) % ring_] = int64_t(p0) + t;
    if (mtp_) {
        mtp_len_ = position() - 1;
        if (capture_mtp_ && mtp_T) {
            size_t old = mtp_logits_.size();
            mtp_logits_.resize(old + size_t(mtp_T) * V);
            std::memcpy(mtp_logits_.data() + old, logits_io_.mapped, size_t(mtp_T) * V * 4);
        }
    }
    if (nrows) {
        std::vector<int32_t> am(nrows);
        std::memcpy(am.data(), argmax_io_.mapped, 4 * nrows);
        last_argmax_ = am.back();
        if (rows == logits_rows::argmax_all) {
            row_argmax_.insert(row_argmax_.end(), am.begin(), am.end());
        } else if (rows != logits_rows::argmax) {  // `all` accumulates over chunks
            size_t old = logits_.size();
            logits_.resize(old + size_t(nrows) * V);
            std::memcpy(logits_.data() + old, logits_io_.mapped, size_t(nrows) * V * 4);
            logits_rows_ += nrows;
        }
    }
}

void engine_session::block(command_stream &cs, const layer_weights &L, size_t li, uint32_t T, uint32_t p0,
                           const buffer_span &positions, bool is_mtp, const buffer_span *next_norm) {
    const text_config &c = m_.text();
    const uint32_t H = static_cast<uint32_t>(c.hidden_size);
    const float eps = static_cast<float>(c.rms_norm_eps);
    // The spread norm (the backbone at decode / verify sizes): the previous
    // layer left x_ with the residual added, its partials in part_ and u in
    // xnp_ (ops::frag_resid_out), except where this layer reads xn_ from a
    // norm stage: layer 0, and GDN layers without spread_gdn_.
    const bool spread = !is_mtp && spread_norm(T);
    const ops::frag_norm_in in{part_, eps};
    const ops::frag_resid_out to_post{part_, L.post_norm, xnp_};
    const bool gdn = L.kind == layer_kind::linear_attention;
    const bool spread_in = spread && li > 0 && (!gdn || spread_gdn_);
    if (is_mtp)
        attn_layer(cs, L.attn, mtp_kv_.k, mtp_kv_.v, T, p0, positions, nullptr, nullptr);
    else if (gdn)
        gdn_layer(cs, li, T, p0, spread_in ? &in : nullptr, spread ? &to_post : nullptr);
    else
        attn_layer(cs, L.attn, kv_[li].k, kv_[li].v, T, p0, positions, spread_in ? &in : nullptr,
                   spread ? &to_post : nullptr);
    cs.barrier();
    if (spread) {
        const size_t next = li + 1;
        const bool next_in = next_norm && (spread_gdn_ || m_.layers()[next].kind != layer_kind::linear_attention);
        const ops::frag_resid_out to_next{part_, next_in ? *next_norm : buffer_span{}, xnp_};
        mlp(cs, L, T, &in, &to_next);
        cs.barrier();
        if (next_norm && !next_in) {
            cs.section("norm");
            ops::rms_norm(cs, x_, *next_norm, xn_, T, H, eps, true, xnp(T), x16_);
            cs.barrier();
        }
        return;
    }
    const bool skip_norms = ops::tuning().diag_skip_norms && T <= ops::kMatvecMaxCols;  // timing only
    cs.section("norm");
    if (!skip_norms) {
        ops::add_rms_norm(cs, mix_, x_, L.post_norm, x2_, xn_, T, H, eps, true, xnp(T), x16_);
        cs.barrier();
        std::swap(x_, x2_);
    }
    mlp(cs, L, T, nullptr, nullptr);
    cs.barrier();
    cs.section("norm");
    if (skip_norms)
        return;
    if (next_norm)
        ops::add_rms_norm(cs, mix_, x_, *next_norm, x2_, xn_, T, H, eps, true, xnp(T), x16_);
    else
        ops::scale_add(cs, mix_, x_, x2_, T * H, 1.0f);
    cs.barrier();
    std::swap(x_, x2_);
}

void engine_session::gdn_layer(command_stream &cs, size_t li, uint32_t T, uint32_t p0, const ops::frag_norm_in *in,
                               const ops::frag_resid_out *out) {
    const text_config &c = m_.text();
    const gdn_weights &w = m_.layers()[li].gdn;
    gdn_state &st = gdn_[li];
    ops::gdn_dims d;
    d.Hk = static_cast<uint32_t>(c.linear_num_key_heads);
    d.Hv = static_cast<uint32_t>(c.linear_num_value_heads);
    d.dk = static_cast<uint32_t>(c.linear_key_head_dim);
    d.dv = static_cast<uint32_t>(c.linear_value_head_dim);
    d.K = static_cast<uint32_t>(c.linear_conv_kernel_dim);
    d.eps = static_cast<float>(c.rms_norm_eps);
    const uint64_t C = d.C(), Hv = d.Hv, Vd = uint64_t(d.Hv) * d.dv;
    const uint64_t state_sz = f4(uint64_t(d.Hv) * d.dk * d.dv), conv_sz = f4(uint64_t(d.K - 1) * C);

    // Segments: tokens before the last ring_ run without snapshots; the rest
    // are split where the snapshot ring wraps.
    struct segment {
        uint32_t t0, n;
        bool snap;
        uint32_t slot;
    };
    std::vector<segment> segs;
    uint32_t first_snap = T > ring_ ? T - ring_ : 0;
    if (first_snap) segs.push_back({0, first_snap, false, 0});
    for (uint32_t t = first_snap; t < T;) {
        uint32_t slot = (p0 + t) % ring_;
        uint32_t n = std::min(T - t, ring_ - slot);
        segs.push_back({t, n, true, slot});
        t += n;
    }

    // The state before token t of this chunk (recurrent, conv window): the
    // session keeps its current state in the snapshot ring (slot of the last
    // position; nothing to write back or to copy on rollback).  st.state /
    // st.conv are zeros at position 0 (reset) and otherwise receive the end
    // of a segment that writes no snapshots.
    auto state_before = [&](uint32_t t) -> std::pair<buffer_span, buffer_span> {
        if (t == 0 && p0 == 0) return {st.state, st.conv};
        if (t > 0 && t <= first_snap) return {st.state, st.conv};
        const uint32_t q = p0 + t - 1, slot = q % ring_;
        if (t == 0 && slot_pos_[slot] != int64_t(q))
            fail(MLXMTP_ERR_INTERNAL, "GDN state of position %u is not in the snapshot ring", q);
        return {st.snap_state.sub(slot * state_sz, state_sz), st.snap_conv.sub(slot * conv_sz, conv_sz)};
    };

    cs.section("gdn.proj");
    // Small products first: with no barrier between these four they overlap,
    // and the tiny a / b ones (latency-bound) then hide under the big ones.
    if (in) {
        ops::linear_matvec_frag_normed(cs, w.a, xnp_, *in, a_, T);
        ops::linear_matvec_frag_normed(cs, w.b, xnp_, *in, b_, T);
    } else {
        ops::linear(cs, w.a, xn_, a_, T, xnp(T));
        ops::linear(cs, w.b, xn_, b_, T, xnp(T));
    }
    // Decode and verify sizes: the conv runs in the qkv product's epilogue
    // (one stage fewer; matvec.comp's, or the fragment kernel's for a weight
    // with a frag copy); prefill: its own kernel over the segments.
    const bool conv_in_proj = T <= ops::kMatvecMaxCols;
    if (conv_in_proj) {
        ops::matvec_conv mc;
        mc.w = w.conv_w, mc.state = state_before(0).second, mc.snapshots = st.snap_conv, mc.K = d.K;
        mc.snap_from = first_snap, mc.slot0 = p0 % ring_, mc.ring = ring_;
        if (in)
            ops::linear_matvec_frag_conv_normed(cs, w.qkv, xnp_, *in, u_, T, mc);
        else
            ops::linear_matvec_conv(cs, w.qkv, xn_, u_, T, mc, xnp(T));
    } else {
        ops::linear(cs, w.qkv, xn_, qkv_, T, xnp(T));
    }
    if (in)
        ops::linear_matvec_frag_normed(cs, w.z, xnp_, *in, z_, T);
    else
        ops::linear(cs, w.z, xn_, z_, T, xnp(T));
    cs.barrier();

    cs.section("gdn.conv");
    if (!conv_in_proj) {
        for (const segment &sg : segs) {
            ops::gdn_dims ds = d;
            ds.T = sg.n;
            buffer_span snap = sg.snap ? st.snap_conv.sub(sg.slot * conv_sz, sg.n * conv_sz) : buffer_span{};
            ops::gdn_conv(cs, ds, qkv_.sub(f4(sg.t0 * C), f4(sg.n * C)), w.conv_w, state_before(sg.t0).second, st.conv,
                          u_.sub(f4(sg.t0 * C), f4(sg.n * C)), snap);
            cs.barrier();
        }
    }
    cs.section("gdn.rec");
    prefetch_weight(cs, w.out, T);  // (the recurrence leaves memory idle)
    // Decode and verify sizes: the gated norm runs in the recurrence's
    // epilogue (one stage fewer); prefill: its own kernel.
    const bool norm_in_rec = T <= ops::kMatvecMaxCols && !ops::tuning().unfused_gdn_norm;
    const buffer_span yp = norm_in_rec ? pairs_for(w.out, T, mixp_) : buffer_span{};  // the unfused norm writes none
    for (const segment &sg : segs) {
        ops::gdn_dims ds = d;
        ds.T = sg.n;
        buffer_span snap = sg.snap ? st.snap_state.sub(sg.slot * state_sz, sg.n * state_sz) : buffer_span{};
        const uint64_t v0 = f4(sg.t0 * Vd), vn = f4(sg.n * Vd);  // the segment's rows of o, z, y
        ops::gdn_norm_epilogue ne{z_.sub(v0, vn), w.norm, y_.sub(v0, vn), gdn_arrivals_,
                                  yp.valid() && !x16_ ? yp.sub(v0, vn) : yp};
        ne.y_pairs_f16 = x16_, ne.y_pairs_t0 = x16_ ? sg.t0 : 0;  // token pairs span segments: the whole buffer
        ne.last_stage = &gdn_arrivals_stage_;
        ops::gdn_recurrence(cs, ds, u_.sub(f4(sg.t0 * C), f4(sg.n * C)), a_.sub(f4(sg.t0 * Hv), f4(sg.n * Hv)),
                            b_.sub(f4(sg.t0 * Hv), f4(sg.n * Hv)), w.A_log, w.dt_bias, state_before(sg.t0).first,
                            st.state, o_.sub(v0, vn), snap, norm_in_rec ? &ne : nullptr);
        cs.barrier();
    }
    if (!norm_in_rec) {
        d.T = T;
        cs.section("gdn.norm");
        ops::gated_rms_norm(cs, d, o_, z_, w.norm, y_);
        cs.barrier();
    }
    cs.section("gdn.out");
    if (out)  // x_ += out y (the residual add), x_'s partials and u
        ops::linear_matvec_frag_resid(cs, w.out, y_, *out, x_, T, yp, ksplit());
    else
        ops::linear(cs, w.out, y_, mix_, T, yp);
}

void engine_session::prefetch_weight(command_stream &cs, const ops::device_weight &w, uint32_t T) {
    if (!l2_prefetch_groups_ || T > ops::kMatvecMaxCols || !w.valid()) return;
    if (w.frag.valid()) {
        ops::l2_prefetch(cs, w.frag.data, prefetch_sinks_[0], l2_prefetch_groups_);
        if (w.frag.scale_words.valid()) ops::l2_prefetch(cs, w.frag.scale_words, prefetch_sinks_[1], 8);
    } else if (w.chunks[0].data.valid()) {
        ops::l2_prefetch(cs, w.chunks[0].data, prefetch_sinks_[0], l2_prefetch_groups_);
    }
}

void engine_session::attn_layer(command_stream &cs, const attn_weights &w, buffer_span kc, buffer_span vc, uint32_t T,
                                uint32_t p0, const buffer_span &positions, const ops::frag_norm_in *in,
                                const ops::frag_resid_out *out) {
    const text_config &c = m_.text();
    ops::attn_dims d;
    d.T = T;
    d.Hq = static_cast<uint32_t>(c.num_attention_heads);
    d.Hkv = static_cast<uint32_t>(c.num_key_value_heads);
    d.hd = static_cast<uint32_t>(c.head_dim);
    d.rot = static_cast<uint32_t>(c.rotary_dim());
    const std::vector<int> &sec = c.rope.mrope_section;
    d.sec_t = sec.size() > 0 ? sec[0] : d.rot / 2;
    d.sec_h = sec.size() > 1 ? sec[1] : 0;
    d.sec_w = sec.size() > 2 ? sec[2] : 0;
    d.theta = static_cast<float>(c.rope.theta);
    d.eps = static_cast<float>(c.rms_norm_eps);
    d.cache_pos = p0;
    d.max_ctx = n_ctx_;
    cs.section("attn.proj");
    if (in) {  // x = the input norm of x_: u (xnp_) and rs
        ops::linear_matvec_frag_normed(cs, w.k, xnp_, *in, k_, T);  // small first (see gdn_layer)
        ops::linear_matvec_frag_normed(cs, w.v, xnp_, *in, v_, T);
        ops::linear_matvec_frag_normed(cs, w.q, xnp_, *in, qg_, T);
    } else {
        ops::linear(cs, w.k, xn_, k_, T, xnp(T));  // small first (see gdn_layer)
        ops::linear(cs, w.v, xn_, v_, T, xnp(T));
        ops::linear(cs, w.q, xn_, qg_, T, xnp(T));
    }
    cs.barrier();
    cs.section("attn.prep");
    ops::attn_prepare(cs, d, qg_, k_, v_, w.q_norm, w.k_norm, positions, q_, kc, vc);
    cs.barrier();
    cs.section("attn.core");
    prefetch_weight(cs, w.o, T);  // (the attention core leaves memory mostly idle)
    // Decode and verify: split-K over workgroups for long contexts (a
    // prefill chunk has T x Hq workgroups already).
    const buffer_span ap = pairs_for(w.o, T, mixp_);
    ops::attn_core(cs, d, q_, qg_, kc, vc, att_, T <= ops::kMatvecMaxCols ? &attn_split_ : nullptr, ap, x16_);
    cs.barrier();
    cs.section("attn.out");
    if (out)  // x_ += o att (the residual add), x_'s partials and u
        ops::linear_matvec_frag_resid(cs, w.o, att_, *out, x_, T, ap, ksplit());
    else
        ops::linear(cs, w.o, att_, mix_, T, ap);
}

void engine_session::mlp(command_stream &cs, const layer_weights &L, uint32_t T, const ops::frag_norm_in *in,
                         const ops::frag_resid_out *out) {
    cs.section("mlp.gateup");
    buffer_span act_pairs;  // act_ split by the epilogue (presplit_), for the down projection
    if (in) {  // the spread norm: x = the post norm of x_ (u, rs); down adds into x_
        act_pairs = pairs_for(L.down, T, actp_);
        ops::linear_matvec_frag_glu(cs, L.gate, L.up, x_, act_, T, xnp_, act_pairs, in, ksplit());
        cs.barrier();
        cs.section("mlp.down");
        ops::linear_matvec_frag_resid(cs, L.down, act_, *out, x_, T, act_pairs, ksplit());
        return;
    }
    if (T <= ops::kMatvecMaxCols && ops::frag_glu_fusable(L.gate, L.up)) {
        // Frag copies (which linear() takes at every T <= 16): the fragment
        // kernel's SwiGLU epilogue, bit-identical to the unfused frag path.
        act_pairs = pairs_for(L.down, T, actp_);
        ops::linear_matvec_frag_glu(cs, L.gate, L.up, xn_, act_, T, xnp(T), act_pairs);
    } else if (T <= ops::glu_fused_max_cols() && ops::glu_fusable(L.gate, L.up)) {
        // Decode and short verifies: SwiGLU in the products' epilogue (one
        // stage fewer; bit-identical to the path below at these sizes).
        ops::linear_matvec_glu(cs, L.gate, L.up, xn_, act_, T);
    } else {
        ops::linear(cs, L.gate, xn_, gate_, T, xnp(T));
        ops::linear(cs, L.up, xn_, up_, T, xnp(T));
        cs.barrier();
        cs.section("mlp.act");
        ops::swiglu(cs, gate_, up_, act_, static_cast<uint32_t>(T * m_.text().intermediate_size));
    }
    cs.barrier();
    cs.section("mlp.down");
    ops::linear(cs, L.down, act_, mix_, T, act_pairs);
}

bool engine_session::rollback_is_exact(uint32_t n) const {
    if (n == 0 || n >= position()) return true;
    int64_t q = int64_t(position()) - n - 1;  // the last token that stays
    return slot_pos_[q % ring_] == q;
}

void engine_session::rollback(uint32_t n) {
    if (n > position()) fail(MLXMTP_ERR_INVALID_ARG, "cannot roll back %u tokens: only %u in the session", n, position());
    if (n == 0) return;
    uint32_t keep = position() - n;
    if (keep == 0) {
        reset();
        return;
    }
    if (rollback_is_exact(n)) {
        // The state after the last kept token is its ring slot, where the
        // next evaluation reads it (gdn_layer): only the bookkeeping moves.
        history_.resize(keep);
        mtp_len_ = std::min(mtp_len_, keep - 1);
        for (int64_t &p : slot_pos_)
            if (p >= int64_t(keep)) p = -1;
        return;
    }
    std::vector<int32_t> kept(history_.begin(), history_.begin() + keep);
    reset();
    eval(kept.data(), keep, logits_rows::none);
}

}  // namespace mlxmtp::detail
